// The orchestrator (ImagePipeline::Build) over an in-memory CAS and
// FakeSteps, which answers every step at once: which steps run, in what
// order, with which inputs, which layers each image gets, and what a failure
// reports and leaves behind. No sandbox, no Python.
#include "coordinator/image_pipeline.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cache/directory_tree.h"
#include "cache/in_memory_blob_store.h"
#include "coordinator/image_sink.h"
#include "coordinator/pipeline/fake_steps.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::coordinator {
namespace {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr char kPyproject[] = R"([project]
name = "demo"
version = "1.0"
dependencies = ["liba>=1"]

[project.optional-dependencies]
demo_base = ["libb"]
tool = ["libc"]

[project.scripts]
demo = "demo.cli:main"
tool = "demo.tool:main"

[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"
)";

class ImagePipelineTest : public ::testing::Test {
 protected:
  ImagePipelineTest() : steps_(&cas_), pipeline_(&cas_, &steps_) {}

  // The project (files by name) uploaded to the CAS: its root digest.
  Digest Project(const std::map<std::string, std::string>& files) {
    std::string dir = testing_util::NewTempDir("proj") + "/demo";
    mkdir(dir.c_str(), 0755);
    for (const auto& [name, text] : files)
      std::ofstream(dir + "/" + name) << text;
    return cache::UploadDirectory(dir, cas_).value().root;
  }

  // A find-links tree holding `files` (names sorted, as a Directory's are).
  Digest Links(std::vector<std::string> files) {
    std::sort(files.begin(), files.end());
    re::Directory d;
    for (const std::string& f : files) {
      auto* n = d.add_files();
      n->set_name(f);
      *n->mutable_digest() =
          cache::WriteBlob(cas_, "bytes of " + f).value().ToProto();
    }
    return cache::WriteBlob(cas_, d.SerializeAsString()).value();
  }

  BuildOptions Options(const Digest& source) {
    BuildOptions o;
    o.source_root = source;
    o.prefix = "reg/team";
    o.tags = {"latest", "v1"};
    o.source_date_epoch = 1700000000;
    o.images = &sink_;
    return o;
  }

  // The names of the files in the input root's subdirectory `sub`.
  std::set<std::string> FilesIn(const Digest& root, const std::string& sub) {
    re::Directory d;
    d.ParseFromString(cache::ReadBlob(cas_, root).value());
    for (const auto& c : d.directories()) {
      if (c.name() != sub) continue;
      re::Directory s;
      s.ParseFromString(
          cache::ReadBlob(cas_, Digest::FromProto(c.digest()).value()).value());
      std::set<std::string> names;
      for (const auto& f : s.files()) names.insert(f.name());
      return names;
    }
    return {};
  }

  // The layer blob a step produced (its first output file).
  static Digest LayerOf(const FakeSteps::Call& c) {
    return Digest::FromProto(c.result.output_files(0).digest()).value();
  }
  static std::string Sha(const Digest& d) { return "sha256:" + d.hash(); }

  // The layer digests of the manifest `digest` ("sha256:..."), in order.
  std::vector<std::string> ManifestLayers(const Digest& manifest) {
    std::string text = cache::ReadBlob(cas_, manifest).value();
    // The manifest's annotations name the base's digest: not a layer.
    text = text.substr(0, text.find("\"annotations\""));
    std::vector<std::string> out;
    static const std::regex kDigest("sha256:[0-9a-f]{64}");
    for (std::sregex_iterator it(text.begin(), text.end(), kDigest), end;
         it != end; ++it) {
      out.push_back(it->str());
    }
    // The first is the config's.
    if (!out.empty()) out.erase(out.begin());
    return out;
  }

  cache::InMemoryBlobStore cas_;
  FakeSteps steps_;
  ImagePipeline pipeline_;
  CasImageSink sink_{&cas_};
};

// The calls of `kind`, in order.
std::vector<FakeSteps::Call> OfKind(const std::vector<FakeSteps::Call>& calls,
                                    const std::string& kind) {
  std::vector<FakeSteps::Call> out;
  for (const auto& c : calls)
    if (c.kind == kind) out.push_back(c);
  return out;
}

bool Has(const FakeSteps::Call& c, const std::string& arg) {
  return std::find(c.argv.begin(), c.argv.end(), arg) != c.argv.end();
}

// Where the first call of `kind` is for which `also` holds.
size_t IndexOf(
    const std::vector<FakeSteps::Call>& calls, const std::string& kind,
    const std::function<bool(const FakeSteps::Call&)>& also = nullptr) {
  for (size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].kind == kind && (also == nullptr || also(calls[i]))) return i;
  }
  ADD_FAILURE() << "no such " << kind << " step";
  return calls.size();
}

TEST_F(ImagePipelineTest, RunsTheStepTableInOrderAndLayersEachImage) {
  BuildOptions o =
      Options(Project({{"pyproject.toml", kPyproject},
                       {"bindep.txt", "libffi-dev [compile]\nlibffi8\n"}}));
  o.find_links_root =
      Links({"liba-1.0-py3-none-any.whl", "libb-2.0.tar.gz",
             "libc-1.0-py3-none-any.whl", "unused-1.0-py3-none-any.whl"});
  absl::StatusOr<ProjectBuild> b = pipeline_.Build("demo", o);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->name, "demo");
  EXPECT_EQ(b->version, "1.0");

  std::vector<FakeSteps::Call> calls = steps_.Calls();
  std::map<std::string, int> kinds;
  for (const auto& c : calls) {
    ++kinds[c.kind];
    // What answers farm leases (which carry no kind) tells them apart too.
    EXPECT_EQ(FakeSteps::KindOf(c), c.kind);
  }
  // One resolution per image with its own extra (demo-base and tool; the
  // demo script has none), the sdist built once for both.
  EXPECT_EQ(kinds, (std::map<std::string, int>{{"base", 1},
                                               {"base-probe", 1},
                                               {"distro-layer", 2},
                                               {"project-wheel", 1},
                                               {"resolve", 2},
                                               {"wheel-build", 1},
                                               {"python-layer", 2},
                                               {"bytecode", 2},
                                               {"packages-probe", 1}}));
  // The SBOM's distro packages are listed on the images' rootfs: the base
  // and the runtime layer, not the builder.
  const FakeSteps::Call packages = OfKind(calls, "packages-probe").at(0);
  const FakeSteps::Call& runtime_call =
      *std::find_if(calls.begin(), calls.end(), [](const FakeSteps::Call& c) {
        return c.kind == "distro-layer" && !Has(c, "libffi-dev");
      });
  EXPECT_TRUE(absl::StartsWith(packages.platform.at("rootfs"),
                               runtime_call.platform.at("rootfs") + ","))
      << packages.platform.at("rootfs");
  EXPECT_EQ(std::count(packages.platform.at("rootfs").begin(),
                       packages.platform.at("rootfs").end(), ','),
            std::count(runtime_call.platform.at("rootfs").begin(),
                       runtime_call.platform.at("rootfs").end(), ',') +
                1);
  // The order the step table gives.
  size_t base = IndexOf(calls, "base"), probe = IndexOf(calls, "base-probe");
  // The builder layer has the compile packages, the runtime one only the
  // runtime ones.
  auto compile = [](const FakeSteps::Call& c) { return Has(c, "libffi-dev"); };
  size_t builder = IndexOf(calls, "distro-layer", compile);
  size_t runtime = IndexOf(calls, "distro-layer", [&](const auto& c) {
    return !compile(c) && Has(c, "libffi8");
  });
  size_t wheel = IndexOf(calls, "project-wheel");
  size_t build = IndexOf(calls, "wheel-build");
  EXPECT_LT(base, probe);
  EXPECT_LT(probe, builder);
  EXPECT_LT(probe, runtime);
  EXPECT_LT(builder, wheel);
  for (size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].kind == "resolve") {
      EXPECT_LT(wheel, i);
      EXPECT_LT(i, IndexOf(calls, "python-layer"));
    }
  }
  EXPECT_LT(build, IndexOf(calls, "python-layer"));

  // The base's Python layer installs the project, its dependency and its
  // base extra's; the tool's only what its extra adds.
  std::vector<FakeSteps::Call> py = OfKind(calls, "python-layer");
  std::vector<FakeSteps::Call> pyc = OfKind(calls, "bytecode");
  ASSERT_EQ(py.size(), 2u);
  ASSERT_EQ(pyc.size(), 2u);
  EXPECT_THAT(FilesIn(py[0].input_root, "wheels"),
              UnorderedElementsAre("demo-1.0-py3-none-any.whl",
                                   "liba-1.0-py3-none-any.whl",
                                   "libb-2.0-py3-none-any.whl"));
  EXPECT_THAT(FilesIn(py[1].input_root, "wheels"),
              UnorderedElementsAre("libc-1.0-py3-none-any.whl"));
  // Steps run on the rootfs below them: the builder's wheel step on base +
  // builder layer, the base byte-code on base + runtime-free python layer.
  Digest base_layer = LayerOf(calls[base]);
  EXPECT_EQ(calls[wheel].platform.at("rootfs"),
            base_layer.ToString() + "," + LayerOf(calls[builder]).ToString());
  EXPECT_EQ(pyc[0].platform.at("rootfs"),
            base_layer.ToString() + "," + LayerOf(py[0]).ToString());

  // Three images, each tagged latest and v1, layered bottom-up.
  std::vector<std::string> refs;
  std::map<std::string, Digest> manifests;
  for (const BuiltImage& img : b->images) {
    refs.push_back(img.ref);
    manifests.emplace(img.ref, img.manifest);
  }
  EXPECT_THAT(refs, UnorderedElementsAre(
                        "reg/team/demo-base:latest", "reg/team/demo-base:v1",
                        "reg/team/demo:latest", "reg/team/demo:v1",
                        "reg/team/tool:latest", "reg/team/tool:v1"));
  std::vector<std::string> common_layers = {
      Sha(base_layer), Sha(LayerOf(calls[runtime])), Sha(LayerOf(py[0])),
      Sha(LayerOf(pyc[0]))};
  EXPECT_EQ(ManifestLayers(manifests.at("reg/team/demo-base:latest")),
            common_layers);
  EXPECT_EQ(ManifestLayers(manifests.at("reg/team/demo:v1")), common_layers);
  std::vector<std::string> tool_layers = common_layers;
  tool_layers.push_back(Sha(LayerOf(py[1])));
  tool_layers.push_back(Sha(LayerOf(pyc[1])));
  EXPECT_EQ(ManifestLayers(manifests.at("reg/team/tool:latest")), tool_layers);

  // The report lists every step, the assemblies too.
  std::map<std::string, int> reported;
  for (const StepReport& s : b->steps) ++reported[s.kind];
  EXPECT_EQ(reported["image-assembly"], 3);
  EXPECT_EQ(reported["resolve"], 2);
  EXPECT_EQ(b->steps.size(), calls.size() + 3);
}

TEST_F(ImagePipelineTest, AFailedStepIsReportedAndNothingIsTagged) {
  // liba is nowhere: the base resolution fails as pip does.
  BuildOptions o = Options(Project({{"pyproject.toml", kPyproject}}));
  o.find_links_root = Links({"libb-2.0.tar.gz", "libc-1.0-py3-none-any.whl"});
  std::string layout = testing_util::NewTempDir("layout") + "/out";
  o.images = nullptr;  // the embedded path: an OCI layout
  o.output_layout = layout;
  o.scratch_dir = testing_util::NewTempDir("scratch");
  absl::StatusOr<ProjectBuild> b = pipeline_.Build("demo", o);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(b.status().message(),
              HasSubstr("step resolve (base) failed: exit 1\n  command: "
                        "python3 -m pip install --dry-run"));
  EXPECT_THAT(b.status().message(),
              HasSubstr("log (last lines):\nERROR: No matching distribution "
                        "found for liba\n"));
  std::vector<FakeSteps::Call> calls = steps_.Calls();
  EXPECT_TRUE(OfKind(calls, "python-layer").empty());
  EXPECT_TRUE(OfKind(calls, "bytecode").empty());
  // No layout was even opened: no image is half there.
  struct stat st;
  EXPECT_NE(stat(layout.c_str(), &st), 0);
}

TEST_F(ImagePipelineTest, AFailedProjectWheelStopsBeforeAnyResolution) {
  steps_.Fail("project-wheel", 1, "error: invalid command 'bdist_wheel'\n");
  BuildOptions o = Options(Project({{"pyproject.toml", kPyproject}}));
  o.find_links_root = Links({"liba-1.0-py3-none-any.whl"});
  absl::StatusOr<ProjectBuild> b = pipeline_.Build("demo", o);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(b.status().message(),
              HasSubstr("step project-wheel (demo) failed: exit 1"));
  EXPECT_THAT(b.status().message(),
              HasSubstr("error: invalid command 'bdist_wheel'"));
  std::vector<std::string> kinds;
  // (The packages-probe runs beside the builder chain: in any order.)
  for (const auto& c : steps_.Calls())
    if (c.kind != "packages-probe") kinds.push_back(c.kind);
  EXPECT_THAT(kinds, ElementsAre("base", "base-probe", "distro-layer",
                                 "project-wheel"));
}

TEST_F(ImagePipelineTest, RequirementsNeedLinksOrAnIndex) {
  BuildOptions o = Options(Project({{"pyproject.toml", kPyproject}}));
  absl::StatusOr<ProjectBuild> b = pipeline_.Build("demo", o);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(b.status().message(),
            "demo has requirements; give --find-links DIR or --index-url URL");
  EXPECT_TRUE(OfKind(steps_.Calls(), "resolve").empty());
}

TEST_F(ImagePipelineTest, AProjectWithoutRequirementsOrBindepIsOneChain) {
  BuildOptions o =
      Options(Project({{"pyproject.toml",
                        "[project]\nname = \"solo\"\nversion = \"2\"\n"
                        "[project.scripts]\nsolo = \"solo:main\"\n"}}));
  absl::StatusOr<ProjectBuild> b = pipeline_.Build("solo", o);
  ASSERT_TRUE(b.ok()) << b.status();
  std::vector<std::string> kinds;
  for (const auto& c : steps_.Calls())
    if (c.kind != "packages-probe") kinds.push_back(c.kind);
  // No runtime layer, no resolution: one builder layer (the build tools),
  // the wheel, its Python layer and byte-code; the packages-probe on the
  // base alone, beside them.
  EXPECT_THAT(kinds, ElementsAre("base", "base-probe", "distro-layer",
                                 "project-wheel", "python-layer", "bytecode"));
  std::vector<FakeSteps::Call> calls = steps_.Calls();
  ASSERT_EQ(OfKind(calls, "packages-probe").size(), 1u);
  EXPECT_EQ(OfKind(calls, "packages-probe")[0].platform.at("rootfs"),
            OfKind(calls, "base-probe")[0].platform.at("rootfs"));
  EXPECT_NE(b->images[0].sbom, Digest::Empty());
  EXPECT_NE(b->images[0].provenance, Digest::Empty());
  ASSERT_EQ(b->images.size(), 4u);  // solo-base and solo, latest and v1
  EXPECT_EQ(b->images[0].ref, "reg/team/solo-base:latest");
}

}  // namespace
}  // namespace pbrx::coordinator

namespace pbrx::coordinator {
namespace {

TEST_F(ImagePipelineTest, ToolPbrxNamesTheImagesUnlessPinned) {
  const std::string pyproject =
      "[project]\nname = \"solo\"\nversion = \"2\"\n"
      "[project.scripts]\nsolo = \"solo:main\"\n"
      "[tool.pbrx]\nprefix = \"proj.example/x\"\ntags = [\"p1\"]\n"
      "extra-packages = [\"libpq5\"]\n";
  BuildOptions o = Options(Project({{"pyproject.toml", pyproject}}));
  absl::StatusOr<ProjectBuild> b = pipeline_.Build("solo", o);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->images.size(), 2u);
  EXPECT_EQ(b->images[0].ref, "proj.example/x/solo-base:p1");
  // The extra package makes a runtime layer.
  bool runtime = false;
  for (const auto& c : steps_.Calls())
    runtime = runtime || (c.kind == "distro-layer" && Has(c, "libpq5"));
  EXPECT_TRUE(runtime);
  o.pinned = {"prefix", "tags"};
  b = pipeline_.Build("solo", o);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->images[0].ref, "reg/team/solo-base:latest");
}

TEST_F(ImagePipelineTest, BadToolPbrxFailsTheProjectNamingTheLine) {
  BuildOptions o = Options(
      Project({{"pyproject.toml",
                "[project]\nname = \"solo\"\nversion = \"2\"\n[tool.pbrx]\n"
                "prefix = \"UPPER/case\"\n"}}));
  absl::StatusOr<ProjectBuild> b = pipeline_.Build("solo", o);
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(b.status().message(),
                               "solo/pyproject.toml:4: [tool.pbrx] --prefix"))
      << b.status();
  EXPECT_TRUE(steps_.Calls().empty());
}

}  // namespace
}  // namespace pbrx::coordinator
