#include "coordinator/pipeline/package_inventory.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pbrx::coordinator {
namespace {

using ::testing::HasSubstr;

TEST(ParseInventoryTest, ReadsAProbesOutputSortedAndWithoutSameNameSources) {
  absl::StatusOr<DistroInventory> inv = ParseInventory(
      R"({"manager": "dpkg",
          "os_release": {"ID": "debian", "VERSION_ID": "12",
                         "VERSION_CODENAME": "bookworm"},
          "packages": [
            {"name": "zlib1g", "version": "1:1.2.13.dfsg-1", "arch": "amd64",
             "source": "zlib"},
            {"name": "bash", "version": "5.2.15-2+b2", "arch": "amd64",
             "source": "bash"}]})",
      "packages.json");
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->manager, "dpkg");
  EXPECT_EQ(inv->distro_id, "debian");
  EXPECT_EQ(inv->version_id, "12");
  EXPECT_EQ(inv->codename, "bookworm");
  ASSERT_EQ(inv->packages.size(), 2u);
  EXPECT_EQ(inv->packages[0].name, "bash");
  EXPECT_EQ(inv->packages[0].source, "");
  EXPECT_EQ(inv->packages[1].name, "zlib1g");
  EXPECT_EQ(inv->packages[1].version, "1:1.2.13.dfsg-1");
  EXPECT_EQ(inv->packages[1].source, "zlib");
}

TEST(ParseInventoryTest, RefusesWhatAHostileRootfsCouldWrite) {
  struct Case {
    std::string json, message;
  } cases[] = {
      {"not json", "packages.json is not valid JSON"},
      {R"({"manager": "rpm"})", "unknown package manager 'rpm'"},
      {R"({"manager": "dpkg", "packages": {}})", "'packages' is not a list"},
      {R"({"manager": "dpkg", "packages": [1]})",
       "packages.json packages[0] is not an object"},
      {R"({"manager": "dpkg", "packages": [{"version": "1"}]})",
       "packages.json packages[0] has no name"},
      {R"({"manager": "dpkg", "packages": [{"name": "a\nb"}]})",
       "packages.json packages[0]: field 'name' holds a control character"},
      {R"({"manager": "dpkg", "packages": [{"name": ")" +
           std::string(300, 'x') + R"("}]})",
       "packages.json packages[0]: field 'name' is 300 bytes, over the limit "
       "of 256"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<DistroInventory> inv =
        ParseInventory(c.json, "packages.json");
    ASSERT_FALSE(inv.ok()) << c.json;
    EXPECT_EQ(inv.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(inv.status().message()), HasSubstr(c.message));
  }
}

TEST(ParseInventoryTest, CapsThePackageCount) {
  std::string json = R"({"manager": "apk", "packages": [)";
  for (size_t i = 0; i <= kMaxInventoryPackages; ++i) {
    if (i > 0) json += ",";
    json += R"({"name":"p"})";
  }
  json += "]}";
  absl::StatusOr<DistroInventory> inv = ParseInventory(json, "packages.json");
  ASSERT_FALSE(inv.ok());
  EXPECT_THAT(std::string(inv.status().message()),
              HasSubstr("lists 100001 packages, over the limit of 100000"));
}

}  // namespace
}  // namespace pbrx::coordinator
