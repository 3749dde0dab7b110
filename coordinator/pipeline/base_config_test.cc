#include "coordinator/pipeline/base_config.h"

#include "gtest/gtest.h"

namespace pbrx::coordinator {
namespace {

using common::oci::ImageConfig;

TEST(BaseConfigTest, ParsesWhatImagesInherit) {
  absl::StatusOr<ImageConfig> c = ParseBaseConfig(
      R"({"architecture":"arm64","os":"linux","variant":"v8",
          "config":{"Env":["PATH=/opt/venv/bin:/usr/bin","LANG=de_DE.UTF-8"],
                    "Entrypoint":["/entry.sh"],"Cmd":["ignored"],
                    "User":"app","WorkingDir":"/srv",
                    "Labels":{"team":"platform"}},
          "rootfs":{"type":"layers","diff_ids":[]}})",
      "--base docker://r.example/base");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->architecture, "arm64");
  EXPECT_EQ(c->variant, "v8");
  EXPECT_EQ(c->env, (std::vector<std::string>{"PATH=/opt/venv/bin:/usr/bin",
                                              "LANG=de_DE.UTF-8"}));
  EXPECT_EQ(c->entrypoint, std::vector<std::string>{"/entry.sh"});
  EXPECT_TRUE(c->cmd.empty());
  EXPECT_EQ(c->user, "app");
  EXPECT_EQ(c->working_dir, "/srv");
  EXPECT_EQ(c->labels.at("team"), "platform");
}

TEST(BaseConfigTest, InheritsWithPathMergedAndPbrxLabelsOnTop) {
  ImageConfig base;
  base.architecture = "arm64";
  base.variant = "v8";
  base.env = {"PATH=/opt/venv/bin:/usr/bin", "LANG=de_DE.UTF-8", "TZ=UTC"};
  base.entrypoint = {"/entry.sh"};
  base.user = "app";
  base.working_dir = "/srv";
  base.labels = {{"team", "platform"}, {"org.opencontainers.image.title", "b"}};
  ImageConfig ours;
  ours.cmd = {"/usr/local/bin/tool"};
  ours.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"};
  ours.working_dir = "/";
  ours.labels = {{"org.opencontainers.image.title", "tool"}};
  ours.annotations = {{"org.opencontainers.image.base.name", "r/b:1"}};
  ImageConfig got = InheritBaseConfig(base, ours);
  EXPECT_EQ(got.architecture, "arm64");
  EXPECT_EQ(got.variant, "v8");
  EXPECT_EQ(got.env, (std::vector<std::string>{
                         "PATH=/opt/venv/bin:/usr/bin:/usr/local/bin:/bin",
                         "LANG=de_DE.UTF-8", "TZ=UTC"}));
  EXPECT_EQ(got.entrypoint, std::vector<std::string>{"/entry.sh"});
  EXPECT_EQ(got.cmd, std::vector<std::string>{"/usr/local/bin/tool"});
  EXPECT_EQ(got.user, "app");
  EXPECT_EQ(got.working_dir, "/srv");
  EXPECT_EQ(got.labels.at("team"), "platform");
  EXPECT_EQ(got.labels.at("org.opencontainers.image.title"), "tool");
  EXPECT_EQ(got.annotations, ours.annotations);
  // A base without WorkingDir or Env: pbrx's stand.
  ImageConfig bare;
  ImageConfig plain = InheritBaseConfig(bare, ours);
  EXPECT_EQ(plain.working_dir, "/");
  EXPECT_EQ(plain.env, ours.env);
}

TEST(BaseConfigTest, RefusesWhatCannotBeInherited) {
  struct Case {
    std::string json, message;
  };
  const std::string what = "--base oci:/l";
  for (const Case& c : std::vector<Case>{
           {R"({"os":"linux"})",
            "--base oci:/l: config field architecture/os is missing"},
           {R"({"architecture":"amd64","os":"linux","config":{"Env":["X"]}})",
            "--base oci:/l: config field config.Env has an entry without "
            "NAME=: 'X'"},
           {R"({"architecture":"amd64","os":"linux","config":{"User":7}})",
            "--base oci:/l: config field config.User is not a string"},
           {R"({"architecture":"amd64","os":"linux",
                "config":{"Entrypoint":"/bin/sh"}})",
            "--base oci:/l: config field config.Entrypoint is not a list of "
            "strings"},
           {R"({"architecture":"amd64","os":"linux",
                "config":{"WorkingDir":"/a\nb"}})",
            "--base oci:/l: config field config.WorkingDir holds a control "
            "character"},
           {"[1]", "--base oci:/l config is not a JSON object"},
           {"{\"os\": \"linux\",\n \"os\": \"windows\"}",
            "--base oci:/l config is not valid JSON: line 2, column 2: "
            "duplicate key \"os\""},
       }) {
    absl::StatusOr<ImageConfig> got = ParseBaseConfig(c.json, what);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument)
        << c.json;
    EXPECT_EQ(got.status().message(), c.message) << c.json;
  }
}

}  // namespace
}  // namespace pbrx::coordinator
