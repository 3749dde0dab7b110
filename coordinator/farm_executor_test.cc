// AdmitAction over an in-memory CAS: what it reads, what it takes from the
// caller, and what it refuses.
#include "coordinator/farm_executor.h"

#include "cache/in_memory_blob_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

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
}

TEST_F(AdmitActionTest, TakesTheCallersMessagesWithoutReadingThem) {
  // Neither message is in the CAS: the caller's copies are used.
  cache::InMemoryBlobStore empty_cas;
  re::Directory empty;
  ASSERT_TRUE(cache::WriteBlob(empty_cas, empty.SerializeAsString()).ok());
  Digest action = Digest::Of(action_.SerializeAsString());
  absl::StatusOr<AdmittedAction> admitted =
      AdmitAction(empty_cas, action, &action_, &command_);
  ASSERT_TRUE(admitted.ok()) << admitted.status();
  EXPECT_THAT(admitted->submit.platform,
              ElementsAre(Pair("rootfs", "in-the-cas")));
  // Without them, the same admission needs the CAS.
  absl::Status s = AdmitAction(empty_cas, action).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
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

}  // namespace
}  // namespace pbrx::coordinator
