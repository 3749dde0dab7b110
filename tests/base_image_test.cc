// The default base (Debian bookworm + Python via mmdebstrap) built by the
// debian-base step tool in a sandbox, as a cached layer; the base-probe
// step run on it, and a rootfs-diff capture step. This test exercises the
// mirror path: it builds the base with mmdebstrap in a cache of its own on
// every run (never from an earlier run's cache), and fails with one "MIRROR
// UNREACHABLE" line when Debian's mirror does not answer.
#include <stdlib.h>
#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <memory>

#include "cache/completeness_checking_action_cache.h"
#include "cache/rocksdb_action_cache.h"
#include "cache/rocksdb_blob_store.h"
#include "cache/rocksdb_storage.h"
#include "common/base/base_probe.h"
#include "common/base/debian_base.h"
#include "common/clock.h"
#include "common/step_tool.h"
#include "executor/action_runner.h"
#include "executor/bubblewrap_sandbox.h"
#include "cache/directory_tree.h"
#include "executor/layer_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx {
namespace {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kReleaseUrl[] =
    "http://deb.debian.org/debian/dists/bookworm/InRelease";

std::string Sh(const std::string& cmd) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen((cmd + " 2>&1").c_str(), "r"),
                                          pclose);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p.get())) > 0)
    out.append(buf.data(), n);
  return out;
}

class BaseImageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mirror_ok_ = Sh(std::string("curl -sf --max-time 30 -o /dev/null ") +
                    kReleaseUrl + " && echo ok") == "ok\n";
    std::string shared = testing_util::NewTempDir("base-cache");
    cache::RocksDbStorageOptions so;
    so.path = shared + "/db";
    storage_ = std::move(cache::RocksDbStorage::Open(so)).value().release();
    cas_ = std::move(cache::RocksDbBlobStore::Create(storage_, &clock_, {}))
               .value()
               .release();
    raw_ac_ = new cache::RocksDbActionCache(storage_);
    ac_ = new cache::CompletenessCheckingActionCache(raw_ac_, cas_);
    layers_ = std::move(executor::LayerStore::Create(shared + "/layers", cas_))
                  .value()
                  .release();
    sandbox_ =
        std::move(executor::BubblewrapSandbox::Create({})).value().release();
    std::string runs = testing_util::NewTempDir("base-build");
    base_runner_ = new executor::ActionRunner(cas_, ac_, sandbox_, &clock_,
                                              RunnerOptions(runs));
    if (mirror_ok_) {
      built_ =
          new absl::StatusOr<Base>(BuildBase(common::base::DebianBaseSpec{}));
    }
  }
  static void TearDownTestSuite() {
    delete built_;
    delete base_runner_;
    delete sandbox_;
    delete layers_;
    delete ac_;
    delete raw_ac_;
    delete cas_;
    delete storage_;
  }

  static executor::ActionRunnerOptions RunnerOptions(const std::string& dir) {
    mkdir((dir + "/runs").c_str(), 0755);
    executor::ActionRunnerOptions o;
    o.work_root = dir + "/runs";
    o.layers = layers_;
    o.layer_mtime = 1700000000;
    // The step tools are pbrx-executor's (its main runs them).
    std::unique_ptr<char, decltype(&free)> tool(
        realpath("executor/pbrx-executor", nullptr), &free);
    o.step_tool_binary = tool != nullptr ? tool.get() : "";
    o.debian_base_builder = true;
    return o;
  }

  struct Base {
    Digest action = Digest::Empty();
    Digest layer = Digest::Empty();
    std::string diff_id;
    bool cached = false;
    std::string log;
  };

  // The base step as the pipeline asks for it.
  static Digest BaseAction(const common::base::DebianBaseSpec& spec) {
    return Action(common::base::DebianBaseArgv(spec).value(),
                  {common::base::kBaseLayerFile, common::base::kBaseDiffIdFile},
                  {{common::kStepToolsProperty, common::kStepToolsVersion},
                   {common::kDebianBaseProperty, common::kDebianBaseBuilder},
                   {"network", "egress"}});
  }

  static absl::StatusOr<Base> BuildBase(
      const common::base::DebianBaseSpec& spec) {
    Base b;
    b.action = BaseAction(spec);
    auto r = base_runner_->Execute(b.action, /*skip_cache_lookup=*/false);
    if (!r.ok()) return r.status();
    b.log = Blob(r->result.stdout_digest()) + Blob(r->result.stderr_digest());
    if (r->result.exit_code() != 0 || r->result.output_files_size() != 2) {
      return absl::InternalError(
          absl::StrCat("base step: exit ", r->result.exit_code(), "\n", b.log));
    }
    b.cached = r->cached;
    b.layer = Digest::FromProto(r->result.output_files(0).digest()).value();
    b.diff_id = Blob(r->result.output_files(1).digest());
    return b;
  }

  void SetUp() override {
    dir_ = testing_util::NewTempDir("base");
    runner_ = std::make_unique<executor::ActionRunner>(
        cas_, ac_, sandbox_, &clock_, RunnerOptions(dir_));
    ASSERT_TRUE(mirror_ok_) << "MIRROR UNREACHABLE: " << kReleaseUrl
                            << ": this test needs Debian's mirror; not a pbrx "
                               "failure";
    ASSERT_TRUE(built_->ok()) << built_->status();
    base_ = **built_;
  }

  static Digest Action(
      const std::string& script, std::vector<std::string> outputs,
      std::vector<std::pair<std::string, std::string>> platform) {
    return Action(std::vector<std::string>{"sh", "-c", script}, outputs,
                  platform);
  }
  static Digest Action(
      std::vector<std::string> argv, std::vector<std::string> outputs,
      std::vector<std::pair<std::string, std::string>> platform) {
    re::Command cmd;
    for (const std::string& a : argv) cmd.add_arguments(a);
    auto* env = cmd.add_environment_variables();
    env->set_name("PATH");
    env->set_value("/usr/local/bin:/usr/bin:/bin");
    for (const auto& o : outputs) cmd.add_output_files(o);
    Digest c = cache::WriteBlob(*cas_, cmd.SerializeAsString()).value();
    Digest empty =
        cache::WriteBlob(*cas_, re::Directory().SerializeAsString()).value();
    re::Action a;
    *a.mutable_command_digest() = c.ToProto();
    *a.mutable_input_root_digest() = empty.ToProto();
    for (const auto& [k, v] : platform) {
      auto* p = a.mutable_platform()->add_properties();
      p->set_name(k);
      p->set_value(v);
    }
    return cache::WriteBlob(*cas_, a.SerializeAsString()).value();
  }

  static std::string Blob(const re::Digest& d) {
    return cache::ReadBlob(*cas_, Digest::FromProto(d).value()).value();
  }

  static inline bool mirror_ok_ = false;
  // The suite's one mmdebstrap build, in an empty cache.
  static inline absl::StatusOr<Base>* built_ = nullptr;
  static inline executor::ActionRunner* base_runner_ = nullptr;
  static inline common::RealClock clock_;
  static inline cache::RocksDbStorage* storage_;
  static inline cache::RocksDbBlobStore* cas_;
  static inline cache::RocksDbActionCache* raw_ac_;
  static inline cache::CompletenessCheckingActionCache* ac_;
  static inline executor::LayerStore* layers_;
  static inline executor::BubblewrapSandbox* sandbox_;
  std::string dir_;
  Base base_;
  std::unique_ptr<executor::ActionRunner> runner_;
};

TEST_F(BaseImageTest, BaseIsCachedByItsInputs) {
  // The suite's cache started empty: the first build ran mmdebstrap.
  EXPECT_FALSE(base_.cached);
  EXPECT_THAT(base_.log, HasSubstr("built the bookworm base: layer sha256:" +
                                   base_.layer.hash()));
  EXPECT_EQ(base_.diff_id.substr(0, 7), "sha256:");
  auto again = BuildBase(common::base::DebianBaseSpec{});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->cached);
  EXPECT_EQ(again->action, base_.action);
  EXPECT_EQ(again->layer, base_.layer);
  EXPECT_EQ(again->diff_id, base_.diff_id);
  // Every input is in the key: a different suite, variant, package list or
  // mtime is another key, and nothing is cached under it.
  std::vector<common::base::DebianBaseSpec> others(4);
  others[0].suite = "trixie";
  others[1].variant = "apt";
  others[2].include.push_back("git");
  others[3].mtime = 1;
  for (const auto& spec : others) {
    Digest key = BaseAction(spec);
    EXPECT_NE(key, base_.action) << spec.suite << " " << spec.variant;
    EXPECT_EQ(ac_->Get(key).status().code(), absl::StatusCode::kNotFound)
        << spec.suite << " " << spec.variant;
  }
}

TEST_F(BaseImageTest, TheBaseLayerIsOwnedByItsOwnRootNeverTheSandboxRange) {
  // mmdebstrap ran as root of the step's user namespace (host ids from
  // 2147483648): the layer records the tree's own owners, root for every
  // entry, never a host id.
  std::string tgz = dir_ + "/base.tar.gz";
  FILE* f = std::fopen(tgz.c_str(), "wb");
  std::string bytes = cache::ReadBlob(*cas_, base_.layer).value();
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  std::string listing = Sh("tar --numeric-owner -tvzf " + tgz);
  EXPECT_THAT(listing, HasSubstr(" 0/0 "));
  EXPECT_THAT(listing, Not(HasSubstr("2147483")));
  EXPECT_THAT(listing, HasSubstr(" usr/bin/python3.11\n"));
  EXPECT_THAT(
      listing,
      HasSubstr(" usr/lib/python3.11/__pycache__/os.cpython-311.pyc\n"));
  // No device node, no apt lists, nothing of the build host's network.
  EXPECT_THAT(listing, HasSubstr(" dev/\n"));
  EXPECT_THAT(listing, Not(HasSubstr(" dev/null")));
  EXPECT_THAT(listing, Not(HasSubstr("var/lib/apt/lists/deb.debian.org")));
  EXPECT_THAT(listing, Not(HasSubstr(" etc/resolv.conf")));
  EXPECT_THAT(listing, Not(HasSubstr(" etc/hostname")));
}

TEST_F(BaseImageTest, ProbeReadsTheBase) {
  Digest probe = Action(
      std::vector<std::string>{"python3", "-c", common::base::kBaseProbeScript},
      {"probe.json"}, {{"rootfs", base_.layer.ToString()}});
  auto r = runner_->Execute(probe, /*skip_cache_lookup=*/true);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->result.exit_code(), 0) << Blob(r->result.stderr_digest());
  ASSERT_EQ(r->result.output_files_size(), 1);
  std::string json = Blob(r->result.output_files(0).digest());
  EXPECT_THAT(json, HasSubstr("\"ID\": \"debian\""));
  EXPECT_THAT(json, HasSubstr("\"VERSION_CODENAME\": \"bookworm\""));
  EXPECT_THAT(json, HasSubstr("\"python\": \"/usr/bin/python3\""));
  EXPECT_THAT(json, HasSubstr("\"python_version\": \"3.11."));
  EXPECT_THAT(json, HasSubstr("\"scripts\": \"/usr/local/bin\""));
  EXPECT_THAT(
      json,
      HasSubstr("\"purelib\": \"/usr/local/lib/python3.11/dist-packages\""));
  EXPECT_THAT(json, HasSubstr("\"cp311-cp311-manylinux_2_36_x86_64\""));
  EXPECT_THAT(json, HasSubstr("\"py3-none-any\""));
}

TEST_F(BaseImageTest, RootIsReadOnlyUnlessCaptured) {
  Digest write = Action("echo x > /etc/pbrx-test", {},
                        {{"rootfs", base_.layer.ToString()}});
  auto r = runner_->Execute(write, true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NE(r->result.exit_code(), 0);
  EXPECT_THAT(Blob(r->result.stderr_digest()),
              HasSubstr("Read-only file system"));
}

TEST_F(BaseImageTest, RootfsDiffCaptureIsADeterministicLayer) {
  Digest step = Action(
      "echo hi > /etc/pbrx-marker && rm /etc/issue && mkdir -p /opt/app && "
      "echo x > /opt/app/f "
      "&& echo log > /var/log/noise.log && echo scratch > /work/scratch",
      {}, {{"rootfs", base_.layer.ToString()}, {"capture", "rootfs-diff"}});
  auto first = runner_->Execute(step, true);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->result.exit_code(), 0)
      << Blob(first->result.stderr_digest());
  ASSERT_EQ(first->result.output_files_size(), 2);
  EXPECT_EQ(first->result.output_files(0).path(), "rootfs-diff.tar.gz");
  auto second = runner_->Execute(step, true);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->result.output_files(0).digest().hash(),
            first->result.output_files(0).digest().hash());
  EXPECT_EQ(Blob(first->result.output_files(1).digest()).substr(0, 7),
            "sha256:");

  std::string tgz = dir_ + "/diff.tar.gz";
  FILE* f = std::fopen(tgz.c_str(), "wb");
  std::string bytes = Blob(first->result.output_files(0).digest());
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  std::string listing = Sh("tar -tzf " + tgz);
  EXPECT_THAT(listing, HasSubstr("etc/pbrx-marker\n"));
  EXPECT_THAT(listing, HasSubstr("etc/.wh.issue\n"));
  EXPECT_THAT(listing, HasSubstr("opt/app/f\n"));
  EXPECT_THAT(listing, Not(HasSubstr("noise.log")));
  EXPECT_THAT(listing, Not(HasSubstr("scratch")));
}

TEST_F(BaseImageTest, CompileLayerInstallsDistroPackagesWithApt) {
  // Debian's mirror is the one outside host a step may reach.
  Digest step = Action(
      "apt-get update -qq && apt-get install -y -qq --no-install-recommends "
      "libffi-dev "
      ">/dev/null && apt-get clean",
      {},
      {{"rootfs", base_.layer.ToString()},
       {"capture", "rootfs-diff"},
       {"network", "egress"}});
  auto r = runner_->Execute(step, true);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->result.exit_code(), 0) << Blob(r->result.stderr_digest());
  std::string tgz = dir_ + "/compile.tar.gz";
  FILE* f = std::fopen(tgz.c_str(), "wb");
  std::string bytes = Blob(r->result.output_files(0).digest());
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  std::string listing = Sh("tar -tzf " + tgz);
  EXPECT_THAT(listing, HasSubstr("usr/include/x86_64-linux-gnu/ffi.h\n"));
  EXPECT_THAT(listing, Not(HasSubstr("var/lib/apt/lists/deb.debian.org")));
  EXPECT_THAT(listing, Not(HasSubstr(".deb\n")));
  EXPECT_THAT(listing, Not(HasSubstr("var/log/apt")));
  EXPECT_THAT(listing, Not(HasSubstr("etc/resolv.conf")));
}

}  // namespace
}  // namespace pbrx
