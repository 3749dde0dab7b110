#include "common/flag_parser.h"

#include <sys/stat.h>

#include <fstream>
#include <map>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::common {
namespace {

using ::testing::HasSubstr;

absl::Status ParseArgs(FlagParser& p, std::vector<std::string> args,
                       bool* help) {
  std::vector<char*> argv;
  static std::string prog = "prog";
  argv.push_back(prog.data());
  for (auto& a : args) argv.push_back(a.data());
  return p.Parse(static_cast<int>(argv.size()), argv.data(), help);
}

TEST(ReadFlagFileTest, NamesTheFlagAndWhy) {
  std::string dir = testing_util::NewTempDir("flag-files");
  std::ofstream(dir + "/ok") << "pem";
  std::ofstream(dir + "/big") << std::string(100, 'x');
  ASSERT_EQ(mkfifo((dir + "/fifo").c_str(), 0600), 0);
  symlink((dir + "/ok").c_str(), (dir + "/link").c_str());
  EXPECT_EQ(*ReadFlagFile("--tls-ca", dir + "/ok", 10), "pem");
  EXPECT_EQ(*ReadFlagFile("--tls-ca", dir + "/link", 10), "pem");
  EXPECT_EQ(ReadFlagFile("--tls-ca", dir + "/none", 10).status().message(),
            "--tls-ca " + dir + "/none: cannot be read");
  EXPECT_EQ(ReadFlagFile("--tls-ca", dir + "/big", 10).status().message(),
            "--tls-ca " + dir + "/big: 100 bytes, more than the limit of 10");
  // A FIFO is refused without waiting for a writer.
  EXPECT_EQ(ReadFlagFile("--tls-ca", dir + "/fifo", 10).status().message(),
            "--tls-ca " + dir + "/fifo: not a regular file");
}

TEST(ByteSizeTest, Units) {
  EXPECT_EQ(*ParseByteSize("123"), 123);
  EXPECT_EQ(*ParseByteSize("4k"), 4096);
  EXPECT_EQ(*ParseByteSize("512M"), 512ll << 20);
  EXPECT_EQ(*ParseByteSize("10G"), 10ll << 30);
  EXPECT_EQ(*ParseByteSize("10GiB"), 10ll << 30);
  EXPECT_EQ(*ParseByteSize("1.5G"), 3ll << 29);
  for (const char* bad : {"", "G", "-1", "ten", "1X", "1e30"}) {
    EXPECT_EQ(ParseByteSize(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

struct Flags {
  Flags() : parser_("prog") {
    parser_.AddString("listen", &listen_, "address");
    parser_.AddByteSize("max-size", &max_size_, "bound");
    parser_.AddDuration("min-age", &min_age_, "age");
    parser_.AddBool("sync", &sync_, "fsync");
    parser_.Require("listen");
  }
  Flags(const Flags&) = delete;
  FlagParser parser_;
  std::string listen_;
  int64_t max_size_ = 0;
  absl::Duration min_age_ = absl::Minutes(5);
  bool sync_ = false;
  bool help_ = false;
};

class FlagParserTest : public ::testing::Test, public Flags {};

TEST_F(FlagParserTest, BothFormsAndTypes) {
  ASSERT_TRUE(ParseArgs(parser_,
                        {"--listen", "127.0.0.1:0", "--max-size=2G",
                         "--min-age=30s", "--sync"},
                        &help_)
                  .ok());
  EXPECT_EQ(listen_, "127.0.0.1:0");
  EXPECT_EQ(max_size_, 2ll << 30);
  EXPECT_EQ(min_age_, absl::Seconds(30));
  EXPECT_TRUE(sync_);
}

TEST_F(FlagParserTest, Errors) {
  auto msg = [&](std::vector<std::string> args) {
    Flags fresh;
    absl::Status s = ParseArgs(fresh.parser_, args, &fresh.help_);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  EXPECT_EQ(msg({"--listen=a:1", "--bogus"}), "unknown flag --bogus");
  EXPECT_EQ(msg({"--listen"}), "flag --listen needs a value");
  EXPECT_EQ(msg({}), "missing required flag --listen");
  EXPECT_THAT(msg({"--listen=a:1", "--max-size=lots"}),
              HasSubstr("--max-size: expected a byte size"));
  EXPECT_THAT(msg({"--listen=a:1", "--min-age=soon"}),
              HasSubstr("--min-age: expected a duration"));
  EXPECT_EQ(msg({"--listen=a:1", "stray"}),
            "unexpected argument 'stray' (flags start with --)");
  EXPECT_THAT(msg({"--listen=a:1", "--sync=maybe"}),
              HasSubstr("expected true or false"));
}

TEST(FlagParserListTest, RepeatedListAndIntegers) {
  FlagParser p("prog");
  std::vector<std::string> platform;
  int64_t slots = 1;
  p.AddStringList("platform", &platform, "properties");
  p.AddInt("slots", &slots, "slots");
  bool help = false;
  ASSERT_TRUE(
      ParseArgs(p, {"--platform", "a=1", "--slots=-3", "--platform=b=2"}, &help)
          .ok());
  EXPECT_EQ(platform, (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_EQ(slots, -3);
  absl::Status bad = ParseArgs(p, {"--slots=two"}, &help);
  EXPECT_EQ(bad.message(), "--slots: expected an integer, got 'two'");
}

TEST_F(FlagParserTest, Help) {
  ASSERT_TRUE(ParseArgs(parser_, {"--help"}, &help_).ok());
  EXPECT_TRUE(help_);
  EXPECT_THAT(parser_.Usage(), HasSubstr("--listen=VALUE"));
  EXPECT_THAT(parser_.Usage(), HasSubstr("(required)"));
}

}  // namespace
}  // namespace pbrx::common

namespace pbrx::common {
namespace {

struct CliFlags {
  CliFlags() : p("pbrx demo") {
    p.AddString("prefix", &prefix, "image name prefix");
    p.SetEnvironment("prefix", "PBRX_PREFIX");
    p.AddInt("jobs", &jobs, "projects at once");
    p.AddShort('j', "jobs");
    p.AddBool("json", &json, "print JSON");
    p.AddStringList("tag", &tags, "a tag");
    p.SetEnvironment("tag", "PBRX_TAG");
    p.AllowPositionals(&dirs);
  }
  FlagParser p;
  std::string prefix;
  int64_t jobs = 1;
  bool json = true;
  std::vector<std::string> tags, dirs;
};

TEST(FlagParserCliTest, ShortFlagsPositionalsAndDoubleDash) {
  CliFlags f;
  bool help = false;
  ASSERT_TRUE(f.p.Parse({"-j4", "a", "--json=false", "--", "-b", "--tag"},
                        &help)
                  .ok());
  EXPECT_EQ(f.jobs, 4);
  EXPECT_FALSE(f.json);  // --json=false is false
  EXPECT_EQ(f.dirs, (std::vector<std::string>{"a", "-b", "--tag"}));
  CliFlags g;
  ASSERT_TRUE(g.p.Parse({"-j", "7", "-"}, &help).ok());
  EXPECT_EQ(g.jobs, 7);
  EXPECT_EQ(g.dirs, std::vector<std::string>{"-"});
  EXPECT_EQ(g.p.Parse({"-x"}, &help).message(), "unknown flag -x");
}

TEST(FlagParserCliTest, MisspeltFlagsNameTheClosest) {
  CliFlags f;
  bool help = false;
  EXPECT_EQ(f.p.Parse({"--prefx=a"}, &help).message(),
            "unknown flag --prefx (did you mean --prefix?)");
  EXPECT_EQ(f.p.Parse({"--jbos"}, &help).message(),
            "unknown flag --jbos (did you mean --jobs?)");
  EXPECT_EQ(f.p.Parse({"--frobnicate"}, &help).message(),
            "unknown flag --frobnicate");
}

TEST(FlagParserCliTest, EnvironmentUnderTheCommandLine) {
  CliFlags f;
  auto env = [](const char* name) -> const char* {
    if (std::string(name) == "PBRX_PREFIX") return "reg/a/";
    if (std::string(name) == "PBRX_TAG") return "from-env";
    return nullptr;
  };
  ASSERT_TRUE(f.p.ApplyEnvironment(env).ok());
  EXPECT_EQ(f.prefix, "reg/a/");
  bool help = false;
  ASSERT_TRUE(f.p.Parse({"--tag=x", "--tag=y"}, &help).ok());
  // The command line's list replaces the variable's.
  EXPECT_EQ(f.tags, (std::vector<std::string>{"x", "y"}));
  std::map<std::string, FlagParser::Info> by_name;
  for (const auto& i : f.p.Describe()) by_name[i.name] = i;
  EXPECT_EQ(by_name["prefix"].source, "$PBRX_PREFIX");
  EXPECT_EQ(by_name["prefix"].values, std::vector<std::string>{"reg/a/"});
  EXPECT_EQ(by_name["tag"].source, "command line");
  EXPECT_EQ(by_name["tag"].values, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(by_name["json"].source, "");
  EXPECT_EQ(by_name["json"].values, std::vector<std::string>{"true"});
  EXPECT_EQ(by_name["jobs"].short_name, 'j');
  EXPECT_TRUE(f.p.Given("prefix"));
  EXPECT_FALSE(f.p.Given("jobs"));
}

TEST(FlagParserCliTest, UsageShowsValuesShortNamesVariablesAndExamples) {
  CliFlags f;
  f.p.SetSynopsis("[FLAGS] DIR...");
  f.p.SetValueName("prefix", "P");
  f.p.AddExample("pbrx demo -j2 .", "two at once");
  std::string u = f.p.Usage();
  EXPECT_THAT(u, HasSubstr("usage: pbrx demo [FLAGS] DIR...\n"));
  EXPECT_THAT(u, HasSubstr("  --prefix=P\n      image name prefix "
                           "[$PBRX_PREFIX]\n"));
  EXPECT_THAT(u, HasSubstr("  -j, --jobs=N\n"));
  EXPECT_THAT(u, HasSubstr("  --tag=VALUE\n      a tag (repeatable)"));
  EXPECT_THAT(u, HasSubstr("examples:\n  pbrx demo -j2 .\n      two at once\n"));
}

}  // namespace
}  // namespace pbrx::common
