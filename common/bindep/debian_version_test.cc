#include "common/bindep/debian_version.h"

#include "gtest/gtest.h"

namespace pbrx::common::bindep {
namespace {

struct Case {
  std::string installed, op, constraint;
  bool want;
};

class ConstraintTest : public ::testing::TestWithParam<Case> {};

TEST_P(ConstraintTest, AsBindepDecides) {
  const Case& c = GetParam();
  EXPECT_EQ(SatisfiesConstraint(c.installed, c.op, c.constraint), c.want)
      << c.installed << " " << c.op << " " << c.constraint;
}

INSTANTIATE_TEST_SUITE_P(
    Ordering, ConstraintTest,
    ::testing::Values(
        Case{"3.5-ubuntu", "<", "4", true}, Case{"4", "<", "3.5-ubuntu", false},
        Case{"4", "<", "4", false},
        // The epoch comes first.
        Case{"1:2", "<", "2:1", true}, Case{"2:1", ">", "1:9", true},
        // '~' sorts before everything, even the end.
        Case{"1~~", "<", "1~~a", true}, Case{"1~~a", "<", "1~", true},
        Case{"1~", "<", "1", true}, Case{"1", "<", "1a", true},
        // Revisions.
        Case{"1-a~~", "<", "1-a~~a", true}, Case{"1-a~~a", "<", "1-a~", true},
        Case{"1-a~", "<", "1-a", true}, Case{"1-a", "<", "1-aa", true},
        Case{"1a", "<", "1aa", true}, Case{"1a-a", "<", "1a-aa", true},
        // Letters before non-letters; numbers compare numerically.
        Case{"1.0a", "<", "1.0+", true}, Case{"1.10", ">", "1.9", true},
        Case{"1.01", ">=", "1.1", true}, Case{"1.01", "<=", "1.1", true},
        Case{"2.1-3-4", ">", "2.1-3", true},
        Case{"3.5-ubuntu", "<=", "4", true}, Case{"4", "<=", "4", true},
        Case{"4", ">=", "3.5-ubuntu", true},
        Case{"3.5-ubuntu", ">=", "4", false}, Case{"4", ">", "4", false},
        // == and != compare text, as bindep does.
        Case{"3.5-ubuntu", "==", "3.5-ubuntu", true},
        Case{"1.0", "==", "1.00", false}, Case{"1.0", "!=", "1.00", true},
        Case{"4", "!=", "4", false}));

TEST(DebianVersionTest, Splits) {
  auto v = ParseDebianVersion("1:2.30-1ubuntu3-4");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->epoch, "1");
  EXPECT_EQ(v->upstream, "2.30-1ubuntu3");
  EXPECT_EQ(v->revision, "4");
  auto plain = ParseDebianVersion("12");
  EXPECT_EQ(plain->epoch, "0");
  EXPECT_EQ(plain->revision, "");
  EXPECT_FALSE(ParseDebianVersion("abc").ok());
  EXPECT_FALSE(ParseDebianVersion("1.0-").ok());
}

}  // namespace
}  // namespace pbrx::common::bindep
