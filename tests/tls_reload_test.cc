// pbrx-cache's TLS certificates change on SIGHUP, and only then: files
// replaced on disk are not served before the signal; after it, new
// handshakes present the new certificate (a client trusting only the new
// CA gets in, one trusting only the old does not) while a stream opened
// before goes on and completes; a bad file at SIGHUP is refused, naming
// it, and the current certificate stays.
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "common/digest.h"
#include "common/grpc_channel.h"
#include "gmock/gmock.h"
#include "google/bytestream/bytestream.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/subprocess.h"
#include "tests/test_pki.h"
#include "tests/test_util.h"

namespace pbrx {
namespace {

namespace re = build::bazel::remote::execution::v2;
namespace bs = google::bytestream;
using ::testing::HasSubstr;

class TlsReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = testing_util::NewTempDir("pki");
    for (absl::Status s :
         {testing_util::MakeCa(pki_, "ca1"), testing_util::MakeCa(pki_, "ca2"),
          testing_util::MakeCert(pki_, "ca1", "server1"),
          testing_util::MakeCert(pki_, "ca2", "server2")}) {
      ASSERT_TRUE(s.ok()) << s;
    }
    Serve("server1");
    log_ = testing_util::NewTempDir("log") + "/stderr";
    ASSERT_TRUE(server_
                    .Start({testing_util::RunfilePath("cache/pbrx-cache"),
                            "--listen=127.0.0.1:0",
                            "--data-dir=" + testing_util::NewTempDir("data"),
                            "--tls-cert=" + pki_ + "/served.pem",
                            "--tls-key=" + pki_ + "/served.key"},
                           log_)
                    .ok());
    absl::StatusOr<std::string> line = server_.ReadLine(absl::Seconds(30));
    ASSERT_TRUE(line.ok()) << line.status();
    url_ = "grpcs://" + *line;
  }
  void TearDown() override {
    server_.Stop(SIGTERM, absl::Seconds(10)).IgnoreError();
  }

  // Moves NAME's certificate and key into the served files (rename: as
  // an operator renews them).
  void Serve(const std::string& name) {
    for (const char* ext : {".pem", ".key"}) {
      std::filesystem::copy_file(
          pki_ + "/" + name + ext, pki_ + "/next" + ext,
          std::filesystem::copy_options::overwrite_existing);
      std::filesystem::rename(pki_ + "/next" + ext, pki_ + "/served" + ext);
    }
  }
  // A fresh connection trusting only `ca`, and whether a call gets through.
  std::shared_ptr<grpc::Channel> Channel(const std::string& ca) {
    common::ChannelOptions o;
    o.tls.ca_file = pki_ + "/" + ca + ".pem";
    o.keepalive = absl::Seconds(30) + absl::Milliseconds(++connections_);
    return common::MakeChannel(url_, o).value();
  }
  bool Reaches(const std::string& ca) {
    auto caps = re::Capabilities::NewStub(Channel(ca));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(5));
    re::ServerCapabilities out;
    return caps->GetCapabilities(&ctx, {}, &out).ok();
  }
  bool Eventually(const std::function<bool()>& done) {
    for (int i = 0; i < 50; ++i) {
      if (done()) return true;
      absl::SleepFor(absl::Milliseconds(200));
    }
    return false;
  }

  std::string pki_, log_, url_;
  int connections_ = 0;
  testing_util::Subprocess server_;
};

TEST_F(TlsReloadTest, CertificatesChangeOnSighupOnlyAndStreamsSurvive) {
  EXPECT_TRUE(Reaches("ca1"));
  EXPECT_FALSE(Reaches("ca2"));
  // A stream opened under the old certificate, held open.
  const std::string data(200000, 'h');
  const common::Digest d = common::Digest::Of(data);
  auto held_channel = Channel("ca1");
  auto bytestream = bs::ByteStream::NewStub(held_channel);
  grpc::ClientContext held;
  bs::WriteResponse held_response;
  auto writer = bytestream->Write(&held, &held_response);
  bs::WriteRequest first;
  first.set_resource_name(
      absl::StrCat("i/uploads/held/blobs/", d.hash(), "/", d.size()));
  first.set_data(data.substr(0, 1000));
  ASSERT_TRUE(writer->Write(first));

  // New files on disk: still the old certificate (3 s, three polls).
  Serve("server2");
  absl::SleepFor(absl::Seconds(3));
  EXPECT_TRUE(Reaches("ca1"));
  EXPECT_FALSE(Reaches("ca2"));

  // SIGHUP: new handshakes present server2 within a second or two.
  ASSERT_EQ(kill(server_.pid(), SIGHUP), 0);
  EXPECT_TRUE(Eventually([&] { return Reaches("ca2"); }));
  EXPECT_FALSE(Reaches("ca1"));
  EXPECT_THAT(testing_util::ReadFile(log_),
              HasSubstr("pbrx-cache: SIGHUP: TLS certificates reloaded"));

  // The held stream completes on its old connection.
  bs::WriteRequest rest;
  rest.set_write_offset(1000);
  rest.set_data(data.substr(1000));
  rest.set_finish_write(true);
  ASSERT_TRUE(writer->Write(rest));
  writer->WritesDone();
  grpc::Status st = writer->Finish();
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(held_response.committed_size(), d.size());

  // A bad key at the next SIGHUP: refused, naming it; server2 stays.
  std::ofstream(pki_ + "/served.key") << "not a key\n";
  ASSERT_EQ(kill(server_.pid(), SIGHUP), 0);
  EXPECT_TRUE(Eventually([&] {
    return testing_util::ReadFile(log_).find("SIGHUP: --tls-key") !=
           std::string::npos;
  }));
  EXPECT_THAT(testing_util::ReadFile(log_),
              HasSubstr("holds no unencrypted PEM private key"));
  absl::SleepFor(absl::Seconds(2));
  EXPECT_TRUE(Reaches("ca2"));
}

}  // namespace
}  // namespace pbrx
