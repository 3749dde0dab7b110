#include "client/debian_release.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace pbrx::client {
namespace {

using ::testing::HasSubstr;

// Answers GETs from a map of URL -> body; other URLs 404; `down` fails the
// connection.
class FakeMirror : public common::registry::HttpTransport {
 public:
  absl::StatusOr<common::registry::HttpResponse> Send(
      const common::registry::HttpRequest& r) override {
    asked.push_back(r.url);
    if (down) return absl::UnavailableError("Couldn't connect to server");
    common::registry::HttpResponse out;
    auto it = files.find(r.url);
    out.status = it == files.end() ? 404 : 200;
    if (it != files.end()) out.body = it->second;
    return out;
  }
  std::map<std::string, std::string> files;
  std::vector<std::string> asked;
  bool down = false;
};

const char kMain[] = "http://deb.debian.org/debian/dists/bookworm/InRelease";
const char kUpdates[] =
    "http://deb.debian.org/debian/dists/bookworm-updates/InRelease";
const char kSecurity[] =
    "http://security.debian.org/debian-security/dists/bookworm-security/"
    "InRelease";

TEST(DebianReleaseTest, HashesTheSuitesTheBaseIsBuiltFrom) {
  FakeMirror m;
  m.files = {{kMain, "main 1"}, {kUpdates, "updates 1"}, {kSecurity, "sec 1"}};
  const std::string state = testing_util::NewTempDir("rel") + "/releases";
  auto r = ResolveDebianRelease(m, "bookworm", "", state);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->digest,
            common::Sha256::HexOf(absl::StrCat(
                kMain, " ", common::Sha256::HexOf("main 1"), "\n", kUpdates,
                " ", common::Sha256::HexOf("updates 1"), "\n", kSecurity, " ",
                common::Sha256::HexOf("sec 1"), "\n")));
  EXPECT_EQ(r->warning, "");
  EXPECT_EQ(m.asked.size(), 3u);
  // A security update changes it; the same archive gives the same digest.
  m.files[kSecurity] = "sec 2";
  auto updated = ResolveDebianRelease(m, "bookworm", "", state);
  ASSERT_TRUE(updated.ok());
  EXPECT_NE(updated->digest, r->digest);
  m.files[kSecurity] = "sec 1";
  EXPECT_EQ(ResolveDebianRelease(m, "bookworm", "", state)->digest, r->digest);
}

TEST(DebianReleaseTest, AMirrorIsOneSuiteAndOptionalSuitesMayBeAbsent) {
  FakeMirror m;
  const std::string state = testing_util::NewTempDir("rel") + "/releases";
  m.files = {{"http://127.0.0.1:9/snap/dists/bookworm/InRelease", "snap"}};
  auto r =
      ResolveDebianRelease(m, "bookworm", "http://127.0.0.1:9/snap", state);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(m.asked, std::vector<std::string>{
                         "http://127.0.0.1:9/snap/dists/bookworm/InRelease"});
  // sid has no -updates or -security: only its own InRelease.
  m.files = {{"http://deb.debian.org/debian/dists/sid/InRelease", "sid"}};
  m.asked.clear();
  auto sid = ResolveDebianRelease(m, "sid", "", state);
  ASSERT_TRUE(sid.ok()) << sid.status();
  EXPECT_EQ(m.asked.size(), 1u);
  // A stable suite without an updates suite: recorded as absent.
  m.files = {{kMain, "main"}, {kSecurity, "sec"}};
  auto absent = ResolveDebianRelease(m, "bookworm", "", state);
  ASSERT_TRUE(absent.ok()) << absent.status();
  EXPECT_EQ(absent->digest, common::Sha256::HexOf(absl::StrCat(
                                kMain, " ", common::Sha256::HexOf("main"), "\n",
                                kUpdates, " absent\n", kSecurity, " ",
                                common::Sha256::HexOf("sec"), "\n")));
  // A suite the mirror lacks is named.
  auto missing = ResolveDebianRelease(m, "bookwrom", "", state);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "debian:bookwrom: "
            "http://deb.debian.org/debian/dists/bookwrom/InRelease answered "
            "HTTP 404 (is 'bookwrom' a suite of Debian's mirror?)");
}

TEST(DebianReleaseTest, AReSignedArchiveIsTheSameStateNewPackagesAreNot) {
  auto inrelease = [](const std::string& date, const std::string& amd64) {
    return absl::StrCat(
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n",
        "Origin: Debian\nDate: ", date, "\nValid-Until: ", date,
        "\nMD5Sum:\n 0123 10 main/binary-amd64/Packages\nSHA256:\n", " ",
        std::string(64, '1'), " 100 main/binary-all/Packages\n", " ",
        std::string(64, '2'), " 900 main/binary-all/Packages.xz\n", " ", amd64,
        " 200 main/binary-amd64/Packages\n",
        "-----BEGIN PGP SIGNATURE-----\nsig of ", date, "\n");
  };
  const std::string a(64, 'a'), b(64, 'b');
  EXPECT_EQ(InReleaseState(inrelease("Mon", a)),
            std::string(64, '1') + " 100 main/binary-all/Packages\n" + a +
                " 200 main/binary-amd64/Packages");
  EXPECT_EQ(InReleaseState(inrelease("Mon", a)),
            InReleaseState(inrelease("Tue", a)));
  EXPECT_NE(InReleaseState(inrelease("Mon", a)),
            InReleaseState(inrelease("Mon", b)));
  EXPECT_EQ(InReleaseState("not an InRelease"), "not an InRelease");
}

TEST(DebianReleaseTest, OfflineTheLastKnownStateIsUsedWithAWarning) {
  FakeMirror m;
  m.files = {{kMain, "main 1"}, {kUpdates, "u"}, {kSecurity, "s"}};
  const std::string dir = testing_util::NewTempDir("rel");
  auto online = ResolveDebianRelease(m, "bookworm", "", dir + "/releases");
  ASSERT_TRUE(online.ok());
  m.down = true;
  auto offline = ResolveDebianRelease(m, "bookworm", "", dir + "/releases");
  ASSERT_TRUE(offline.ok()) << offline.status();
  EXPECT_EQ(offline->digest, online->digest);
  EXPECT_EQ(offline->warning,
            "cannot reach Debian's mirror (Couldn't connect to server); using "
            "the last known state of debian:bookworm (sha256:" +
                online->digest.substr(0, 12) + "...)");
  // Another mirror (or cache dir) has no known state: keyed by the suite
  // alone, said so.
  auto unknown = ResolveDebianRelease(
      m, "bookworm", "http://mirror.test/debian", dir + "/releases");
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  EXPECT_EQ(unknown->digest, "");
  EXPECT_EQ(unknown->warning,
            "cannot reach http://mirror.test/debian (Couldn't connect to "
            "server) and no earlier state of debian:bookworm is known: the "
            "base is keyed by its suite alone (a point release will not "
            "rebuild it)");
}

}  // namespace
}  // namespace pbrx::client
