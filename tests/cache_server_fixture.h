// The fixture of the pbrx-cache integration tests: starts the real binary
// (port 0, metrics on), with stubs for every REAPI service and helpers for
// ByteStream uploads and downloads and the metrics page.
#ifndef PBRX_TESTS_CACHE_SERVER_FIXTURE_H_
#define PBRX_TESTS_CACHE_SERVER_FIXTURE_H_

#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "common/digest.h"
#include "common/grpc_status.h"
#include "common/missing_blobs.h"
#include "gmock/gmock.h"
#include "google/bytestream/bytestream.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/subprocess.h"
#include "tests/test_util.h"

namespace pbrx::cache_test {

namespace re = build::bazel::remote::execution::v2;
namespace bs = google::bytestream;
using common::Digest;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing_util::Subprocess;

inline std::string Pattern(size_t n, int seed) {
  std::string s(n, '\0');
  uint32_t x = 2166136261u ^ static_cast<uint32_t>(seed);
  for (size_t i = 0; i < n; ++i) {
    x = x * 16777619u + 12345u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

inline size_t CurlWrite(char* p, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, size * n);
  return size * n;
}

inline std::string HttpGet(const std::string& url) {
  std::string body;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CurlWrite);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  return body;
}

class CacheServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = testing_util::NewTempDir("cache-data");
    StartServer({});
  }

  void StartServer(std::vector<std::string> extra) {
    server_ = std::make_unique<Subprocess>();
    // Both ports are taken by the server itself (port 0); the metrics
    // address comes from its start-up log line.
    std::vector<std::string> argv = {
        testing_util::RunfilePath("cache/pbrx-cache"), "--listen=127.0.0.1:0",
        "--data-dir=" + data_dir_, "--metrics-listen=127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    std::string log = testing_util::NewTempDir("cache-log") + "/stderr";
    ASSERT_TRUE(server_->Start(argv, log).ok());
    auto line = server_->ReadLine(absl::Seconds(30));
    ASSERT_TRUE(line.ok()) << line.status();
    address_ = *line;
    metrics_address_.clear();
    for (int i = 0; i < 300 && metrics_address_.empty(); ++i) {
      std::ifstream f(log);
      std::string text((std::istreambuf_iterator<char>(f)),
                       std::istreambuf_iterator<char>());
      size_t at = text.find("metrics on http://");
      size_t end = at == std::string::npos ? at : text.find('/', at + 18);
      if (end != std::string::npos)
        metrics_address_ = text.substr(at + 18, end - at - 18);
      else
        absl::SleepFor(absl::Milliseconds(100));
    }
    ASSERT_FALSE(metrics_address_.empty()) << "no metrics address in " << log;
    channel_ =
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
    cas_ = re::ContentAddressableStorage::NewStub(channel_);
    ac_ = re::ActionCache::NewStub(channel_);
    caps_ = re::Capabilities::NewStub(channel_);
    bytestream_ = bs::ByteStream::NewStub(channel_);
  }

  // Uploads through ByteStream in 64 KiB messages; returns the RPC status.
  grpc::Status Upload(const std::string& resource, const std::string& data,
                      int64_t* committed = nullptr, int64_t offset = 0,
                      bool finish = true) {
    grpc::ClientContext ctx;
    bs::WriteResponse resp;
    auto writer = bytestream_->Write(&ctx, &resp);
    size_t pos = static_cast<size_t>(offset);
    bool first = true;
    do {
      bs::WriteRequest req;
      if (first) req.set_resource_name(resource);
      first = false;
      req.set_write_offset(static_cast<int64_t>(pos));
      size_t n = std::min<size_t>(64 << 10, data.size() - pos);
      req.set_data(data.substr(pos, n));
      pos += n;
      if (pos == data.size() && finish) req.set_finish_write(true);
      if (!writer->Write(req)) break;
    } while (pos < data.size());
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    if (committed != nullptr) *committed = resp.committed_size();
    return s;
  }

  grpc::Status Download(const std::string& resource, std::string* out,
                        int64_t offset = 0, int64_t limit = 0) {
    grpc::ClientContext ctx;
    bs::ReadRequest req;
    req.set_resource_name(resource);
    req.set_read_offset(offset);
    req.set_read_limit(limit);
    auto reader = bytestream_->Read(&ctx, req);
    bs::ReadResponse resp;
    out->clear();
    while (reader->Read(&resp)) *out += resp.data();
    return reader->Finish();
  }

  static std::string WriteName(const Digest& d,
                               const std::string& uuid = "u-1") {
    return absl::StrCat("inst/uploads/", uuid, "/blobs/", d.hash(), "/",
                        d.size());
  }
  static std::string ReadName(const Digest& d) {
    return absl::StrCat("inst/blobs/", d.hash(), "/", d.size());
  }

  std::string data_dir_;
  std::unique_ptr<Subprocess> server_;
  std::string address_;
  std::string metrics_address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<re::ContentAddressableStorage::Stub> cas_;
  std::unique_ptr<re::ActionCache::Stub> ac_;
  std::unique_ptr<re::Capabilities::Stub> caps_;
  std::unique_ptr<bs::ByteStream::Stub> bytestream_;
};

}  // namespace pbrx::cache_test

#endif  // PBRX_TESTS_CACHE_SERVER_FIXTURE_H_
