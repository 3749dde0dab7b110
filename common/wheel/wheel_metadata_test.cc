#include "common/wheel/wheel_metadata.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tests/zip_writer.h"

namespace pbrx::common::wheel {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

absl::StatusOr<WheelMetadata> ReadWheelMetadata(const std::string& path) {
  return ParseWheelMetadata(path, testing_util::ReadFile(path));
}

std::string Wheel(const std::string& metadata,
                  const std::string& entry_points = "") {
  std::string path =
      testing_util::NewTempDir("meta") + "/demo-1.0-py3-none-any.whl";
  std::vector<testing_util::ZipEntry> e = {
      {"demo/__init__.py", ""}, {"demo-1.0.dist-info/METADATA", metadata}};
  if (!entry_points.empty())
    e.push_back({"demo-1.0.dist-info/entry_points.txt", entry_points});
  EXPECT_TRUE(testing_util::WriteZip(path, e));
  return path;
}

TEST(WheelMetadataTest, ReadsWhatImagesNeed) {
  std::string w = Wheel(
      "Metadata-Version: 2.1\r\nName: demo-app\nVersion: 1.0.post1\n"
      "Requires-Dist: requests>=2\nRequires-Dist: rich; extra == 'cli'\n"
      "Provides-Extra: cli\nHome-page: https://example.org/home\n"
      "Project-URL: Source, https://example.org/src\n\n"
      "Name: not-a-header-any-more\n",
      "# comment\n[console_scripts]\ndemo = demo.cli:main\n"
      "demo-gui = demo.gui:run [cli]\n[other]\nx = y:z\n");
  absl::StatusOr<WheelMetadata> m = ReadWheelMetadata(w);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->name, "demo-app");
  EXPECT_EQ(m->version, "1.0.post1");
  EXPECT_THAT(m->requires_dist,
              ElementsAre("requests>=2", "rich; extra == 'cli'"));
  EXPECT_THAT(m->extras, ElementsAre("cli"));
  EXPECT_EQ(m->source, "https://example.org/src");
  EXPECT_THAT(m->console_scripts,
              ElementsAre(Pair("demo", "demo.cli:main"),
                          Pair("demo-gui", "demo.gui:run [cli]")));
}

TEST(WheelMetadataTest, RefusesWhatCannotBecomeANameOrArgument) {
  auto message = [](const std::string& w) {
    return std::string(ReadWheelMetadata(w).status().message());
  };
  std::string w = Wheel("Name: demo\n");
  EXPECT_EQ(message(w), w + ": METADATA lacks Name/Version");
  w = Wheel("Name: ../../etc\nVersion: 1\n");
  EXPECT_EQ(message(w), w + ": Name '../../etc' is not a valid project name");
  w = Wheel("Name: demo\nVersion: 1;rm -rf\n");
  EXPECT_EQ(message(w), w + ": Version '1;rm -rf' is not a version");
  w = Wheel(
      "Name: demo\nVersion: 1\nProvides-Extra: x] --index-url http://e\n");
  EXPECT_EQ(message(w), w + ": Provides-Extra 'x] --index-url http://e' is not "
                            "a valid extra name");
  w = Wheel("Name: demo\nVersion: 1\n",
            "[console_scripts]\n../evil = demo:main\n");
  EXPECT_EQ(ReadWheelMetadata(w).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(message(w),
              ::testing::StartsWith(w + ": entry_points.txt: entry point '"));
  std::string junk = testing_util::NewTempDir("meta") + "/junk.whl";
  {
    FILE* f = fopen(junk.c_str(), "w");
    fputs("not a zip", f);
    fclose(f);
  }
  EXPECT_EQ(message(junk), junk + " is not a wheel");
}

TEST(WheelMetadataTest, MetadataIsCapped) {
  // A METADATA of 20 MiB (a bomb in a small zip): refused, not read whole.
  std::string w =
      Wheel("Name: demo\nVersion: 1\n" + std::string(20 << 20, 'x'));
  absl::StatusOr<WheelMetadata> m = ReadWheelMetadata(w);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m.status().message(),
            w + ": demo-1.0.dist-info/METADATA is larger than 16777216 bytes");
}

}  // namespace
}  // namespace pbrx::common::wheel
