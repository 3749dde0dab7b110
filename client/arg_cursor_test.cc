#include "client/arg_cursor.h"

#include "gtest/gtest.h"

namespace pbrx::client {
namespace {

TEST(ArgCursorTest, BothOptionFormsAndPositionals) {
  std::vector<std::string> args = {"--tag=v1", "dir1", "--prefix", "p/q",
                                   "--json",   "-x=y", "--last"};
  ArgCursor c(args);
  std::string v;
  ASSERT_TRUE(c.Next());
  EXPECT_EQ(c.name(), "--tag");
  ASSERT_TRUE(c.Value(&v));
  EXPECT_EQ(v, "v1");
  ASSERT_TRUE(c.Next());
  EXPECT_EQ(c.raw(), "dir1");
  ASSERT_TRUE(c.Next());
  EXPECT_EQ(c.name(), "--prefix");
  ASSERT_TRUE(c.Value(&v));
  EXPECT_EQ(v, "p/q");
  ASSERT_TRUE(c.Next());
  EXPECT_EQ(c.name(), "--json");
  ASSERT_TRUE(c.Next());
  EXPECT_EQ(c.name(), "-x=y");  // only long options take "=value"
  ASSERT_TRUE(c.Next());
  EXPECT_FALSE(c.Value(&v));  // "--last" has no value left
  EXPECT_FALSE(c.Next());
}

}  // namespace
}  // namespace pbrx::client
