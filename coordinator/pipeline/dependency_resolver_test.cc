// DependencyResolver over an in-memory CAS and a scripted ActionExecutor
// that answers resolve steps with pip reports and wheel-build steps with a
// wheel: which steps run, what is shared, what a bad report gives.
#include "coordinator/pipeline/dependency_resolver.h"

#include <map>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cache/in_memory_blob_store.h"
#include "common/action_executor.h"
#include "gtest/gtest.h"

namespace pbrx::coordinator {
namespace {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;

class ScriptedSteps : public common::ActionExecutor {
 public:
  explicit ScriptedSteps(cache::BlobStore* cas) : cas_(*cas) {}
  // The pip report each resolve step answers with, by the requirement
  // (the last argument).
  std::map<std::string, std::string> reports;

  absl::StatusOr<common::ActionOutcome> Run(
      const Digest& action_digest,
      const common::ExecuteOptions& options) override {
    re::Action action;
    action.ParseFromString(cache::ReadBlob(cas_, action_digest).value());
    re::Command cmd;
    cmd.ParseFromString(
        cache::ReadBlob(cas_,
                        Digest::FromProto(action.command_digest()).value())
            .value());
    {
      absl::MutexLock lock(&mu_);
      kinds.push_back(options.kind);
      last_args[options.kind] = {cmd.arguments().begin(),
                                 cmd.arguments().end()};
      platforms[options.kind] = action.platform().SerializeAsString();
      roots.push_back(Digest::FromProto(action.input_root_digest()).value());
      credentials[options.kind] = options.credentials;
      keyed_bytes += action.SerializeAsString() + cmd.SerializeAsString();
      env[options.kind].clear();  // the last step of each kind
      for (const auto& v : cmd.environment_variables())
        env[options.kind][v.name()] = v.value();
      if (options.kind == "fetch")
        fetch_do_not_cache[cmd.arguments(3)] = action.do_not_cache();
    }
    common::ActionOutcome out;
    if (options.kind == "resolve") {
      auto* f = out.result.add_output_files();
      f->set_path("report.json");
      *f->mutable_digest() =
          cache::WriteBlob(cas_,
                           reports.at(cmd.arguments(cmd.arguments_size() - 1)))
              .value()
              .ToProto();
    } else if (options.kind == "wheel-build") {
      std::string sdist = cmd.arguments(cmd.arguments_size() - 1);
      std::string name = sdist.substr(sdist.rfind('/') + 1);
      name = name.substr(0, name.find(".tar.gz")) + "-py3-none-any.whl";
      re::Tree tree;
      auto* w = tree.mutable_root()->add_files();
      w->set_name(name);
      *w->mutable_digest() =
          cache::WriteBlob(cas_, "wheel of " + sdist).value().ToProto();
      auto* d = out.result.add_output_directories();
      d->set_path("out");
      *d->mutable_tree_digest() =
          cache::WriteBlob(cas_, tree.SerializeAsString()).value().ToProto();
    } else if (options.kind == "fetch") {
      std::string file = cmd.arguments(5);
      auto* f = out.result.add_output_files();
      f->set_path("out/" + file);
      *f->mutable_digest() =
          cache::WriteBlob(cas_, "fetched " + file).value().ToProto();
    }
    return out;
  }

  absl::Mutex mu_;
  std::vector<std::string> kinds;
  std::map<std::string, std::vector<std::string>> last_args;
  std::map<std::string, std::string> platforms;
  std::vector<Digest> roots;
  std::map<std::string, std::vector<common::HostCredential>> credentials;
  std::map<std::string, std::map<std::string, std::string>> env;
  std::map<std::string, bool> fetch_do_not_cache;  // by URL
  std::string keyed_bytes;  // every Action and Command seen

 private:
  cache::BlobStore& cas_;
};

std::string Report(const std::vector<std::string>& urls) {
  std::string items;
  for (const std::string& u : urls) {
    if (!items.empty()) items += ",";
    items += "{\"download_info\": {\"url\": \"" + u + "\"}}";
  }
  return "{\"install\": [" + items + "]}";
}

class DependencyResolverTest : public ::testing::Test {
 protected:
  DependencyResolverTest() : scripted_(&cas_), steps_(&cas_, &scripted_, {}) {}

  // A find-links tree holding `files`.
  Digest Links(const std::vector<std::string>& files) {
    re::Directory d;
    for (const std::string& f : files) {
      auto* n = d.add_files();
      n->set_name(f);
      *n->mutable_digest() =
          cache::WriteBlob(cas_, "bytes of " + f).value().ToProto();
    }
    return cache::WriteBlob(cas_, d.SerializeAsString()).value();
  }

  ResolveInputs Inputs() {
    ResolveInputs in;
    in.project_wheel_file = "app-1.0-py3-none-any.whl";
    in.project_wheel = cache::WriteBlob(cas_, "app wheel").value();
    in.builder_rootfs = "sha256:builder";
    return in;
  }

  cache::InMemoryBlobStore cas_;
  ScriptedSteps scripted_;
  StepRunner steps_;
};

TEST_F(DependencyResolverTest, SharedSdistsAreBuiltOnceAcrossResolutions) {
  ResolveInputs in = Inputs();
  in.find_links_root = Links(
      {"lib-2.0-py3-none-any.whl", "shared-1.0.tar.gz", "extra-3.0.tar.gz"});
  scripted_.reports["/work/dist/app-1.0-py3-none-any.whl"] =
      Report({"file:///work/dist/app-1.0-py3-none-any.whl",
              "file:///work/links/lib-2.0-py3-none-any.whl",
              "file:///work/links/shared-1.0.tar.gz"});
  scripted_.reports["/work/dist/app-1.0-py3-none-any.whl[cli]"] =
      Report({"file:///work/dist/app-1.0-py3-none-any.whl",
              "file:///work/links/shared-1.0.tar.gz",
              "file:///work/links/extra-3.0.tar.gz"});
  auto resolver = DependencyResolver::Create(&steps_, in);
  ASSERT_TRUE(resolver.ok()) << resolver.status();
  absl::StatusOr<WheelList> base, cli;
  std::thread t1([&] { base = (*resolver)->Resolve("base", {}); });
  std::thread t2([&] { cli = (*resolver)->Resolve("cli", {"cli"}); });
  t1.join();
  t2.join();
  ASSERT_TRUE(base.ok()) << base.status();
  ASSERT_TRUE(cli.ok()) << cli.status();
  EXPECT_EQ(
      *base,
      (WheelList{{"lib-2.0-py3-none-any.whl",
                  Digest::Of("bytes of lib-2.0-py3-none-any.whl")},
                 {"shared-1.0-py3-none-any.whl",
                  Digest::Of("wheel of /work/sdist/shared-1.0.tar.gz")}}));
  EXPECT_EQ(*cli,
            (WheelList{{"shared-1.0-py3-none-any.whl",
                        Digest::Of("wheel of /work/sdist/shared-1.0.tar.gz")},
                       {"extra-3.0-py3-none-any.whl",
                        Digest::Of("wheel of /work/sdist/extra-3.0.tar.gz")}}));
  // Two resolutions, two wheel builds (shared-1.0 once), nothing fetched.
  std::map<std::string, int> runs;
  for (const std::string& k : scripted_.kinds) ++runs[k];
  EXPECT_EQ(runs,
            (std::map<std::string, int>{{"resolve", 2}, {"wheel-build", 2}}));
  // Without an index: pip offline, the step cached.
  const auto& argv = scripted_.last_args["resolve"];
  EXPECT_NE(std::find(argv.begin(), argv.end(), "--no-index"), argv.end());
}

TEST_F(DependencyResolverTest, IndexFilesAreFetchedAndResolutionsNeverCached) {
  ResolveInputs in = Inputs();
  in.index_url = "http://10.0.0.2:8080/simple";
  in.trusted_hosts = {"10.0.0.2:8080"};
  in.constraint_blobs = {cache::WriteBlob(cas_, "lib==2.0\n").value()};
  const std::string sha(64, 'b');
  scripted_.reports["/work/dist/app-1.0-py3-none-any.whl"] =
      "{\"install\": [{\"download_info\": {\"url\": "
      "\"http://10.0.0.2:8080/files/lib-2.0-py3-none-any.whl#sha256=x\", "
      "\"archive_info\": {\"hashes\": {\"sha256\": \"" +
      sha + "\"}}}}]}";
  auto resolver = DependencyResolver::Create(&steps_, in);
  ASSERT_TRUE(resolver.ok()) << resolver.status();
  auto wheels = (*resolver)->Resolve("base", {});
  ASSERT_TRUE(wheels.ok()) << wheels.status();
  EXPECT_EQ(*wheels,
            (WheelList{{"lib-2.0-py3-none-any.whl",
                        Digest::Of("fetched lib-2.0-py3-none-any.whl")}}));
  const auto& fetch = scripted_.last_args["fetch"];
  ASSERT_EQ(fetch.size(), 6u);
  EXPECT_EQ(fetch[3], "http://10.0.0.2:8080/files/lib-2.0-py3-none-any.whl");
  EXPECT_EQ(fetch[4], sha);
  const auto& resolve = scripted_.last_args["resolve"];
  auto has = [&](const std::vector<std::string>& want) {
    return std::search(resolve.begin(), resolve.end(), want.begin(),
                       want.end()) != resolve.end();
  };
  EXPECT_TRUE(has({"--constraint", "/work/constraints/c1.txt"}));
  EXPECT_TRUE(has({"--index-url", "http://10.0.0.2:8080/simple"}));
  EXPECT_TRUE(has({"--trusted-host", "10.0.0.2:8080"}));
}

// Index credentials reach the resolve step and the fetches from their
// host beside the Action, never inside it; a fetch is cached only when an
// https index gave its sha256.
TEST_F(DependencyResolverTest, CredentialsTravelBesideTheActionOnly) {
  ResolveInputs in = Inputs();
  in.index_url = "https://idx.example/simple";
  in.credentials = {{"idx.example", "ci-bot", "Sup3r-Secret-42"}};
  const std::string sha(64, 'c');
  auto item = [](const std::string& url, const std::string& hash) {
    return "{\"download_info\": {\"url\": \"" + url +
           "\", \"archive_info\": {\"hashes\": {" +
           (hash.empty() ? "" : "\"sha256\": \"" + hash + "\"") + "}}}}";
  };
  scripted_.reports["/work/dist/app-1.0-py3-none-any.whl"] =
      "{\"install\": [" +
      item("https://idx.example/files/a-1.0-py3-none-any.whl", sha) + "," +
      item("https://idx.example/files/b-1.0-py3-none-any.whl", "") + "," +
      item("http://mirror.example/files/c-1.0-py3-none-any.whl", sha) + "]}";
  auto resolver = DependencyResolver::Create(&steps_, in);
  ASSERT_TRUE(resolver.ok()) << resolver.status();
  auto wheels = (*resolver)->Resolve("base", {});
  ASSERT_TRUE(wheels.ok()) << wheels.status();
  ASSERT_EQ(wheels->size(), 3u);
  EXPECT_EQ(scripted_.credentials["resolve"], in.credentials);
  EXPECT_EQ(scripted_.keyed_bytes.find("Sup3r-Secret-42"), std::string::npos)
      << "the password is in an Action or Command";
  EXPECT_EQ(scripted_.keyed_bytes.find("ci-bot"), std::string::npos);
  EXPECT_EQ(scripted_.env["resolve"]["PBRX_CREDENTIALS_ID"],
            common::CredentialsId(in.credentials));
  // The last fetch (c, from another host) got no credentials and no id.
  EXPECT_TRUE(scripted_.credentials["fetch"].empty());
  EXPECT_EQ(scripted_.env["fetch"].count("PBRX_CREDENTIALS_ID"), 0u);
  EXPECT_EQ(scripted_.fetch_do_not_cache,
            (std::map<std::string, bool>{
                {"https://idx.example/files/a-1.0-py3-none-any.whl", false},
                {"https://idx.example/files/b-1.0-py3-none-any.whl", true},
                {"http://mirror.example/files/c-1.0-py3-none-any.whl", true}}));
}

TEST_F(DependencyResolverTest, ManyConstraintsFilesMakeASortedDirectory) {
  ResolveInputs in = Inputs();
  for (int i = 1; i <= 11; ++i) {
    in.constraint_blobs.push_back(
        cache::WriteBlob(cas_, absl::StrCat("pin", i, "==1\n")).value());
  }
  scripted_.reports["/work/dist/app-1.0-py3-none-any.whl"] = Report({});
  auto resolver = DependencyResolver::Create(&steps_, in);
  ASSERT_TRUE(resolver.ok()) << resolver.status();
  ASSERT_TRUE((*resolver)->Resolve("base", {}).ok());
  // The resolve step's input root: constraints/ lists c1, c10, c11, c2, ...
  ASSERT_EQ(scripted_.kinds.size(), 1u);
  re::Directory root, constraints;
  for (const auto& d : scripted_.roots) {
    root.ParseFromString(cache::ReadBlob(cas_, d).value());
  }
  ASSERT_EQ(root.directories(0).name(), "constraints");
  constraints.ParseFromString(
      cache::ReadBlob(cas_,
                      Digest::FromProto(root.directories(0).digest()).value())
          .value());
  std::vector<std::string> names;
  for (const auto& f : constraints.files()) names.push_back(f.name());
  EXPECT_EQ(names,
            (std::vector<std::string>{"c1.txt", "c10.txt", "c11.txt", "c2.txt",
                                      "c3.txt", "c4.txt", "c5.txt", "c6.txt",
                                      "c7.txt", "c8.txt", "c9.txt"}));
  // Their arguments keep the files' order.
  const auto& argv = scripted_.last_args["resolve"];
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "--constraint"), 11);
  auto c2 = std::find(argv.begin(), argv.end(), "/work/constraints/c2.txt");
  auto c10 = std::find(argv.begin(), argv.end(), "/work/constraints/c10.txt");
  EXPECT_LT(c2 - argv.begin(), c10 - argv.begin());
}

TEST_F(DependencyResolverTest, AFileFromNowhereIsRefusedNamingIt) {
  ResolveInputs in = Inputs();
  in.find_links_root = Links({});
  scripted_.reports["/work/dist/app-1.0-py3-none-any.whl"] =
      Report({"file:///etc/passwd"});
  auto resolver = DependencyResolver::Create(&steps_, in);
  ASSERT_TRUE(resolver.ok()) << resolver.status();
  auto wheels = (*resolver)->Resolve("base", {});
  EXPECT_EQ(wheels.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(wheels.status().message(),
            "resolve chose file:///etc/passwd, which is neither in "
            "--find-links nor on an index");
  // A find-links root that is not a Directory.
  in.find_links_root =
      cache::WriteBlob(cas_, "not a directory proto \xff").value();
  auto bad = DependencyResolver::Create(&steps_, in);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pbrx::coordinator
