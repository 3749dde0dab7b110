// AdmitAction over an in-memory CAS: what it reads, what it takes from the
// caller, and what it refuses. FarmExecutor over a real Scheduler: which
// calls upload the Action (ExecuteOptions::upload) and which need none.
#include "coordinator/farm_executor.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "cache/in_memory_action_cache.h"
#include "cache/in_memory_blob_store.h"
#include "common/clock.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

namespace pbrx::coordinator {
namespace {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

class AdmitActionTest : public ::testing::Test {
 protected:
  AdmitActionTest() {
    command_.add_arguments("true");
    command_digest_ = Put(command_.SerializeAsString());
    re::Directory empty;
    *action_.mutable_input_root_digest() =
        Put(empty.SerializeAsString()).ToProto();
    *action_.mutable_command_digest() = command_digest_.ToProto();
    auto* p = action_.mutable_platform()->add_properties();
    p->set_name("rootfs");
    p->set_value("in-the-cas");
  }

  Digest Put(const std::string& bytes) {
    return cache::WriteBlob(cas_, bytes).value();
  }

  cache::InMemoryBlobStore cas_;
  re::Command command_;
  re::Action action_;
  Digest command_digest_ = Digest::Empty();
};

TEST_F(AdmitActionTest, ReadsTheActionAndCommandFromTheCas) {
  Digest action = Put(action_.SerializeAsString());
  absl::StatusOr<AdmittedAction> admitted = AdmitAction(cas_, action);
  ASSERT_TRUE(admitted.ok()) << admitted.status();
  EXPECT_THAT(admitted->submit.platform,
              ElementsAre(Pair("rootfs", "in-the-cas")));
  // Both messages go on with the lease.
  ASSERT_NE(admitted->submit.messages, nullptr);
  EXPECT_EQ(Digest::Of(admitted->submit.messages->action.SerializeAsString()),
            action);
  EXPECT_EQ(Digest::Of(admitted->submit.messages->command.SerializeAsString()),
            command_digest_);
}

TEST_F(AdmitActionTest, AHugeCommandIsNotSentWithTheLease) {
  command_.add_arguments(std::string(kMaxLeaseMessageBytes, 'x'));
  *action_.mutable_command_digest() =
      Put(command_.SerializeAsString()).ToProto();
  Digest action = Put(action_.SerializeAsString());
  absl::StatusOr<AdmittedAction> admitted = AdmitAction(cas_, action);
  ASSERT_TRUE(admitted.ok()) << admitted.status();
  EXPECT_EQ(admitted->submit.messages, nullptr);
}

TEST_F(AdmitActionTest, TakesTheCallersMessagesButChecksTheyAreStored) {
  // The caller's copies are parsed instead of reads, but an executor will
  // fetch both: admission refuses them until they are in the CAS.
  cache::InMemoryBlobStore empty_cas;
  re::Directory empty;
  ASSERT_TRUE(cache::WriteBlob(empty_cas, empty.SerializeAsString()).ok());
  Digest action = Digest::Of(action_.SerializeAsString());
  absl::Status s = AdmitAction(empty_cas, action, &action_, &command_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr(absl::StrCat(
                  "2 blob(s) missing from the CAS: ", action.ToString(), " ",
                  command_digest_.ToString())));
  ASSERT_TRUE(cache::WriteBlob(empty_cas, command_.SerializeAsString()).ok());
  ASSERT_TRUE(cache::WriteBlob(empty_cas, action_.SerializeAsString()).ok());
  absl::StatusOr<AdmittedAction> admitted =
      AdmitAction(empty_cas, action, &action_, &command_);
  ASSERT_TRUE(admitted.ok()) << admitted.status();
  EXPECT_THAT(admitted->submit.platform,
              ElementsAre(Pair("rootfs", "in-the-cas")));
}

TEST_F(AdmitActionTest, MessagesThatAreNotTheDigestsAreIgnored) {
  Digest action = Put(action_.SerializeAsString());
  re::Action other = action_;
  other.mutable_platform()->mutable_properties(0)->set_value("forged");
  re::Command other_command;
  other_command.add_arguments("false");
  absl::StatusOr<AdmittedAction> admitted =
      AdmitAction(cas_, action, &other, &other_command);
  ASSERT_TRUE(admitted.ok()) << admitted.status();
  EXPECT_THAT(admitted->submit.platform,
              ElementsAre(Pair("rootfs", "in-the-cas")));
  // An empty forged command would be refused; the real one is not.
  re::Command no_arguments;
  EXPECT_TRUE(AdmitAction(cas_, action, &action_, &no_arguments).ok());
}

TEST_F(AdmitActionTest, MissingInputsAreStillRefused) {
  re::Directory root;
  auto* f = root.add_files();
  f->set_name("input");
  *f->mutable_digest() = Digest::Of("never written").ToProto();
  *action_.mutable_input_root_digest() =
      Put(root.SerializeAsString()).ToProto();
  Digest action = Put(action_.SerializeAsString());
  absl::Status s = AdmitAction(cas_, action, &action_, &command_).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("the action's inputs"));
}

// Counts the joins the Scheduler reports.
class JoinCounter : public SchedulerObserver {
 public:
  void Joined(const std::string&) override { ++joined; }
  std::atomic<int> joined{0};
};

// A step as the pipeline hands it over: the messages in hand, not written
// until `upload` is called.
class FarmExecutorTest : public ::testing::Test {
 protected:
  FarmExecutorTest()
      : metrics_(registry_),
        scheduler_(&clock_, SchedulerOptions{}, &joins_),
        farm_(&scheduler_, &cas_, &ac_, &metrics_, "build-1") {
    command_.add_arguments("true");
    re::Directory empty;
    input_root_ = cache::WriteBlob(cas_, empty.SerializeAsString()).value();
    *action_.mutable_input_root_digest() = input_root_.ToProto();
    *action_.mutable_command_digest() =
        Digest::Of(command_.SerializeAsString()).ToProto();
    digest_ = Digest::Of(action_.SerializeAsString());
  }

  common::ExecuteOptions Options(std::atomic<int>* uploads) {
    common::ExecuteOptions o;
    o.kind = "wheel-build";
    o.action = &action_;
    o.command = &command_;
    o.upload = [this, uploads]() {
      ++*uploads;
      RETURN_IF_ERROR(
          cache::WriteBlob(cas_, command_.SerializeAsString()).status());
      return cache::WriteBlob(cas_, digest_, action_.SerializeAsString());
    };
    return o;
  }

  bool InCas(const Digest& d) {
    absl::StatusOr<std::vector<Digest>> missing = cas_.FindMissing({d});
    return missing.ok() && missing->empty();
  }

  // Plays an executor: takes the one lease and answers it with `exit_code`.
  void RunOneLease(int exit_code) {
    std::string w = scheduler_.AddWorker("e1", {}, 1, "peer");
    absl::StatusOr<std::optional<WorkItem>> item;
    for (int i = 0; i < 500; ++i) {
      item = scheduler_.NextWork(w, absl::Milliseconds(10));
      if (!item.ok() || item->has_value()) break;
    }
    ASSERT_TRUE(item.ok()) << item.status();
    ASSERT_TRUE(item->has_value()) << "no lease within 5 s";
    common::ActionOutcome done;
    done.result.set_exit_code(exit_code);
    ASSERT_TRUE(scheduler_.Complete(w, (*item)->lease_id, done, false).ok());
  }

  prometheus::Registry registry_;
  CoordinatorMetrics metrics_;
  common::FakeClock clock_;
  JoinCounter joins_;
  Scheduler scheduler_;
  cache::InMemoryBlobStore cas_;
  cache::InMemoryActionCache ac_;
  FarmExecutor farm_;
  re::Command command_;
  re::Action action_;
  Digest input_root_ = Digest::Empty();
  Digest digest_ = Digest::Empty();
};

TEST_F(FarmExecutorTest, ACacheHitUploadsNothing) {
  re::ActionResult cached;
  cached.set_exit_code(0);
  ASSERT_TRUE(ac_.Update(digest_, cached).ok());
  std::atomic<int> uploads{0};
  absl::StatusOr<common::ActionOutcome> out =
      farm_.Run(digest_, Options(&uploads));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->cached);
  EXPECT_EQ(uploads, 0);
  EXPECT_FALSE(InCas(digest_));
}

TEST_F(FarmExecutorTest, AMissUploadsOnceBeforeItIsQueued) {
  std::atomic<int> uploads{0};
  absl::StatusOr<common::ActionOutcome> out;
  std::thread caller([&] { out = farm_.Run(digest_, Options(&uploads)); });
  RunOneLease(3);
  caller.join();
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_FALSE(out->cached);
  EXPECT_FALSE(out->joined);
  EXPECT_EQ(out->result.exit_code(), 3);
  EXPECT_EQ(uploads, 1);
  // The executor that took the lease could read both messages.
  EXPECT_TRUE(InCas(digest_));
  EXPECT_TRUE(InCas(Digest::Of(command_.SerializeAsString())));
}

TEST_F(FarmExecutorTest, AFailedUploadQueuesNothing) {
  common::ExecuteOptions o;
  o.kind = "wheel-build";
  o.upload = []() { return absl::UnavailableError("cache down"); };
  absl::Status s = farm_.Run(digest_, o).status();
  EXPECT_EQ(s, absl::UnavailableError("cache down"));
  EXPECT_EQ(scheduler_.Stats().queued, 0);
}

TEST_F(FarmExecutorTest, ARunInFlightIsJoinedWithoutUploadOrAdmission) {
  std::atomic<int> first_uploads{0};
  absl::StatusOr<common::ActionOutcome> first;
  std::thread caller(
      [&] { first = farm_.Run(digest_, Options(&first_uploads)); });
  for (int i = 0; i < 500 && scheduler_.Stats().queued == 0; ++i)
    absl::SleepFor(absl::Milliseconds(10));
  ASSERT_EQ(scheduler_.Stats().queued, 1);
  // Another build's step: same digest. Its input root is gone from the
  // CAS, which admission would refuse: a joined step is not admitted.
  ASSERT_TRUE(cas_.Delete(input_root_).ok());
  std::atomic<int> second_uploads{0};
  FarmExecutor other(&scheduler_, &cas_, &ac_, &metrics_, "build-2");
  absl::StatusOr<common::ActionOutcome> second;
  std::thread joiner(
      [&] { second = other.Run(digest_, Options(&second_uploads)); });
  for (int i = 0; i < 500 && joins_.joined == 0; ++i)
    absl::SleepFor(absl::Milliseconds(10));
  ASSERT_EQ(joins_.joined, 1);
  RunOneLease(0);
  caller.join();
  joiner.join();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(first->joined);
  EXPECT_TRUE(second->joined);
  EXPECT_EQ(first_uploads, 1);
  EXPECT_EQ(second_uploads, 0);
}

}  // namespace
}  // namespace pbrx::coordinator
