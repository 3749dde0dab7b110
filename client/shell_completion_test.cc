#include "client/shell_completion.h"

#include <string>
#include <vector>

#include "common/flag_parser.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pbrx::client {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ShellCompletionTest : public ::testing::Test {
 protected:
  ShellCompletionTest() : flags_("pbrx build") {
    flags_.AddString("mirror", &mirror_,
                     "the Debian (or Alpine) mirror packages come from "
                     "(default: deb.debian.org)");
    flags_.SetValueName("mirror", "URL");
    flags_.AddStringList("constraint", &constraints_,
                         "a pip constraints file. Repeat it for more");
    flags_.SetValueName("constraint", "FILE");
    flags_.AddShort('c', "constraint");
    flags_.AddString("jobs", &jobs_, "projects at once");
    flags_.AddShort('j', "jobs");
    commands_ = {{"build", "build images", &flags_},
                 {"farm status", "executors of a farm", nullptr},
                 {"farm stop", "stop a farm", nullptr}};
  }

  std::string Script(const std::string& shell) {
    absl::StatusOr<std::string> s = CompletionScript(shell, commands_);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : "";
  }

  std::string mirror_, jobs_;
  std::vector<std::string> constraints_;
  common::FlagParser flags_;
  std::vector<CommandDoc> commands_;
};

TEST_F(ShellCompletionTest, DescriptionsDropRemarksNotWhatFollowsThem) {
  const std::string zsh = Script("zsh");
  EXPECT_THAT(zsh, HasSubstr("'--mirror=[the Debian mirror packages come "
                             "from]:URL: '"));
  EXPECT_THAT(Script("fish"),
              HasSubstr("-d 'the Debian mirror packages come from'"));
  // The first sentence only.
  EXPECT_THAT(zsh, HasSubstr("[a pip constraints file]"));
}

TEST_F(ShellCompletionTest, ZshRepeatableShortFlagsNeverExcludeThemselves) {
  const std::string zsh = Script("zsh");
  EXPECT_THAT(zsh, HasSubstr("'*'{-c,--constraint=}'[a pip constraints "
                             "file]:file:_files'"));
  EXPECT_THAT(zsh, HasSubstr("'(-j --jobs)'{-j,--jobs=}'[projects at once]"));
  EXPECT_THAT(zsh, Not(HasSubstr("'*''(")));
}

TEST_F(ShellCompletionTest, CommandGroupsCompleteAtTheTopOnce) {
  EXPECT_THAT(Script("zsh"),
              HasSubstr("'farm:status: executors of a farm; stop: stop a "
                        "farm'\n"));
  const std::string fish = Script("fish");
  EXPECT_THAT(fish, HasSubstr("-a 'farm' -d 'status: executors of a farm; "
                              "stop: stop a farm'\n"));
  EXPECT_EQ(fish.find("-a 'farm'"), fish.rfind("-a 'farm'"));
}

TEST_F(ShellCompletionTest, UnknownShellNamesTheShells) {
  absl::StatusOr<std::string> s = CompletionScript("tcsh", commands_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "no completion for shell 'tcsh' (there are bash, zsh and fish)");
}

}  // namespace
}  // namespace pbrx::client
