#include "common/request_log.h"

#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "gtest/gtest.h"

namespace pbrx::common {
namespace {

TEST(RequestLog, DescribesBazelsMetadata) {
  build::bazel::remote::execution::v2::RequestMetadata md;
  md.mutable_tool_details()->set_tool_name("bazel");
  md.mutable_tool_details()->set_tool_version("4.2.3");
  md.set_tool_invocation_id("inv-1");
  md.set_action_id("abc");
  md.set_action_mnemonic("Genrule");
  EXPECT_EQ(DescribeRequestMetadata(md.SerializeAsString()),
            " tool=bazel/4.2.3 invocation=inv-1 action=abc mnemonic=Genrule");
}

TEST(RequestLog, ClientTextCannotForgeLogLines) {
  build::bazel::remote::execution::v2::RequestMetadata md;
  md.set_tool_invocation_id("x\nI2026 forged line " + std::string(300, 'a'));
  std::string d = DescribeRequestMetadata(md.SerializeAsString());
  EXPECT_EQ(d.find('\n'), std::string::npos);
  EXPECT_EQ(d.size(), std::string(" invocation=").size() + 128);
  EXPECT_EQ(DescribeRequestMetadata(""), "");
  EXPECT_EQ(DescribeRequestMetadata("\xff\xff\xff"), " metadata=unreadable");
}

}  // namespace
}  // namespace pbrx::common
