// AssembleImages with a recording ImageSink: each image under every tag,
// its config (CMD, ENV, labels) and layers, one image-assembly step each.
#include "coordinator/pipeline/image_assembler.h"

#include <map>
#include <vector>

#include "cache/in_memory_blob_store.h"
#include "common/action_executor.h"
#include "gtest/gtest.h"

namespace pbrx::coordinator {
namespace {

using common::Digest;

class RecordingSink : public ImageSink {
 public:
  struct Call {
    std::vector<common::oci::Layer> layers;
    common::oci::ImageConfig config;
    std::vector<std::string> refs;
  };
  std::vector<Call> calls;
  absl::StatusOr<common::oci::ImageDescriptor> Put(
      const std::vector<common::oci::Layer>& layers,
      const common::oci::ImageConfig& config,
      const std::vector<std::string>& refs) override {
    calls.push_back({layers, config, refs});
    common::oci::ImageDescriptor d;
    d.manifest = Digest::Of("manifest " + refs[0]);
    d.config = Digest::Of("config " + refs[0]);
    d.size = 100 + static_cast<int64_t>(calls.size());
    return d;
  }
  struct Referrer {
    Digest subject;
    std::string media_type, content;
  };
  std::vector<Referrer> referrers;
  absl::StatusOr<Digest> PutReferrer(const Digest& subject,
                                     const std::string& media_type,
                                     const std::string& content) override {
    referrers.push_back({subject, media_type, content});
    return Digest::Of(media_type + content);
  }
};

class NoSteps : public common::ActionExecutor {
 public:
  absl::StatusOr<common::ActionOutcome> Run(
      const Digest&, const common::ExecuteOptions&) override {
    return absl::InternalError("assembly runs no step");
  }
};

class ImageAssemblerTest : public ::testing::Test {
 protected:
  ImageAssemblerTest() : steps(&cas, &none, {}) {
    base.digest = Digest::Of("base layer");
    extra.digest = Digest::Of("script layer");
  }
  cache::InMemoryBlobStore cas;
  NoSteps none;
  StepRunner steps;
  RecordingSink sink;
  common::oci::Layer base, extra;
};

TEST_F(ImageAssemblerTest, EachImageUnderEveryTagWithItsConfig) {
  ImageLabels labels;
  labels.title = "app";
  labels.version = "1.0";
  labels.base_name = "debian:bookworm";
  labels.base_digest = "sha256:" + std::string(64, 'b');
  labels.revision = std::string(40, 'a');
  labels.created = 1700000000;
  auto built = AssembleImages(
      steps, sink,
      {{"team/app-base", {}, {base}, {}},
       {"team/app-cli", {"/usr/local/bin/app-cli"}, {base, extra}, {}}},
      {"latest", "v1"}, labels);
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_EQ(sink.calls.size(), 2u);
  EXPECT_EQ(
      sink.calls[0].refs,
      (std::vector<std::string>{"team/app-base:latest", "team/app-base:v1"}));
  EXPECT_EQ(sink.calls[1].layers.size(), 2u);
  EXPECT_EQ(sink.calls[1].config.cmd,
            std::vector<std::string>{"/usr/local/bin/app-cli"});
  EXPECT_TRUE(sink.calls[0].config.cmd.empty());
  const auto& c = sink.calls[1].config;
  EXPECT_EQ(c.created, 1700000000);
  EXPECT_EQ(c.working_dir, "/");
  EXPECT_EQ(c.env, (std::vector<std::string>{
                       "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/"
                       "bin:/sbin:/bin",
                       "LANG=C.UTF-8"}));
  EXPECT_EQ(c.labels.at("org.opencontainers.image.title"), "app");
  EXPECT_EQ(c.labels.at("org.opencontainers.image.revision"), labels.revision);
  EXPECT_EQ(c.labels.at("org.opencontainers.image.base.name"),
            "debian:bookworm");
  EXPECT_EQ(c.labels.count("org.opencontainers.image.source"), 0u);
  // The base is named in the manifest's annotations too; a debian: base
  // has no config to inherit: pbrx's platform.
  EXPECT_EQ(c.annotations,
            (std::map<std::string, std::string>{
                {"org.opencontainers.image.base.digest", labels.base_digest},
                {"org.opencontainers.image.base.name", "debian:bookworm"}}));
  EXPECT_EQ(c.architecture, "amd64");
  EXPECT_TRUE(c.user.empty() && c.entrypoint.empty());
  // A BuiltImage per reference; one image-assembly step per image.
  ASSERT_EQ(built->size(), 4u);
  EXPECT_EQ((*built)[3].ref, "team/app-cli:v1");
  EXPECT_EQ((*built)[3].manifest, Digest::Of("manifest team/app-cli:latest"));
  EXPECT_EQ((*built)[3].manifest_digest,
            "sha256:" + Digest::Of("manifest team/app-cli:latest").hash());
  std::vector<StepReport> reported = steps.Steps();
  ASSERT_EQ(reported.size(), 2u);
  EXPECT_EQ(reported[1].kind, "image-assembly");
  EXPECT_EQ(reported[1].name, "team/app-cli");
  // Without attestations: no referrer.
  EXPECT_TRUE(sink.referrers.empty());
  EXPECT_EQ((*built)[3].sbom, Digest::Empty());
}

TEST_F(ImageAssemblerTest, AttestationsAreReferrersOfEachImage) {
  ImageFacts facts;
  facts.project_name = "app";
  facts.base_name = "debian:bookworm";
  facts.builder_id = "urn:pbrx:builder:embedded";
  PythonDist app{"app-1.0-py3-none-any.whl", Digest::Of("app"), "project", "",
                 Digest::Empty()};
  PythonDist click{"click-8.1.7-py3-none-any.whl", Digest::Of("click"),
                   "find-links", "", Digest::Empty()};
  auto built = AssembleImages(steps, sink,
                              {{"team/app-base", {}, {base}, {app}},
                               {"team/app-cli",
                                {"/usr/local/bin/app-cli"},
                                {base, extra},
                                {app, click}}},
                              {"latest"}, ImageLabels{}, facts);
  ASSERT_TRUE(built.ok()) << built.status();
  ASSERT_EQ(sink.referrers.size(), 4u);
  const Digest cli = Digest::Of("manifest team/app-cli:latest");
  EXPECT_EQ(sink.referrers[2].subject, cli);
  EXPECT_EQ(sink.referrers[2].media_type, "application/spdx+json");
  EXPECT_EQ(sink.referrers[3].media_type, "application/vnd.in-toto+json");
  // Each image's SBOM names its own image and only what it installs.
  EXPECT_NE(sink.referrers[2].content.find("team/app-cli@sha256:" + cli.hash()),
            std::string::npos);
  EXPECT_NE(sink.referrers[2].content.find("pkg:pypi/click@8.1.7"),
            std::string::npos);
  EXPECT_EQ(sink.referrers[0].content.find("click"), std::string::npos);
  EXPECT_EQ((*built)[1].sbom, Digest::Of(std::string("application/spdx+json") +
                                         sink.referrers[2].content));
  EXPECT_EQ((*built)[1].provenance,
            Digest::Of(std::string("application/vnd.in-toto+json") +
                       sink.referrers[3].content));
}

}  // namespace
}  // namespace pbrx::coordinator
