#include "coordinator/build_inputs.h"

#include "gtest/gtest.h"

namespace pbrx::coordinator {
namespace {

absl::Status Check(BuildInputs in, FieldNames names = FieldNames::kFlags) {
  if (in.base.empty()) in.base = "debian:bookworm";
  return ValidateBuildInputs(in, names);
}

TEST(BuildInputsTest, GoodInputsPass) {
  BuildInputs in;
  in.base = "debian:trixie";
  in.prefix = "registry.example.org:5000/team/sub";
  in.tags = {"v1.2.3", "latest", "1.0_rc-1"};
  in.index_url = "https://pypi.example.org/simple";
  in.extra_index_urls = {"http://127.0.0.1:8080/simple"};
  in.pbr_version = "1.2.0.dev3+g1234";
  in.source_date_epoch = 1700000000;
  EXPECT_TRUE(Check(in).ok()) << Check(in);
  EXPECT_TRUE(Check(BuildInputs{"oci:/tmp/layout:ref"}).ok());
  const std::string pinned =
      "docker://127.0.0.1:5000/team/base:v1@sha256:" + std::string(64, 'c');
  EXPECT_TRUE(Check(BuildInputs{pinned}).ok());
  EXPECT_TRUE(Check(BuildInputs{pinned}, FieldNames::kBuildRequest).ok());
  // Before the pull, a tag alone is a valid base reference.
  EXPECT_TRUE(
      ValidateBaseReference("docker://debian:bookworm-slim", FieldNames::kFlags)
          .ok());
  BuildInputs req{"oci:", "pbrx-base:latest"};
  EXPECT_TRUE(Check(req, FieldNames::kBuildRequest).ok());
  // A request's oci: base names the uploaded layout as its client does.
  req.base = "oci:/home/me/layouts/base:pbrx-base:latest";
  EXPECT_TRUE(Check(req, FieldNames::kBuildRequest).ok());
}

TEST(BuildInputsTest, AShellInjectionInTheSuiteIsRefusedNamingTheField) {
  BuildInputs in{"debian:bookworm;touch /tmp/x;#"};
  absl::Status s = Check(in);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "--base 'debian:bookworm;touch /tmp/x;#': Debian suite "
            "'bookworm;touch /tmp/x;#' is not a suite name "
            "([a-z][a-z0-9.+-], at most 64)");
  s = Check(in, FieldNames::kBuildRequest);
  EXPECT_EQ(s.message(),
            "BuildRequest.base 'debian:bookworm;touch /tmp/x;#': Debian suite "
            "'bookworm;touch /tmp/x;#' is not a suite name "
            "([a-z][a-z0-9.+-], at most 64)");
}

TEST(BuildInputsTest, EachFieldHasItsRule) {
  struct Case {
    BuildInputs in;
    FieldNames names;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"debian:"},
       FieldNames::kFlags,
       "--base 'debian:': Debian suite '' is not a suite name "
       "([a-z][a-z0-9.+-], at most 64)"},
      {{"debian:" + std::string(65, 'a')}, FieldNames::kFlags, ""},
      {{"docker://registry.example/x"},
       FieldNames::kFlags,
       "--base 'docker://registry.example/x': a docker:// base reaches a "
       "build pinned to a digest (REF@sha256:HEX), its layout uploaded as "
       "base_layout"},
      {{"docker://Registry.example/X@sha256:" + std::string(64, 'a')},
       FieldNames::kBuildRequest,
       "BuildRequest.base: image reference 'Registry.example/X@sha256:" +
           std::string(64, 'a') +
           "': 'X' is not a valid repository path component (lowercase "
           "letters, digits, separators . _ __ -)"},
      {{"docker://r.example/x@sha256:ABC"},
       FieldNames::kFlags,
       "--base: image reference 'r.example/x@sha256:ABC': the digest is not "
       "sha256: followed by 64 lowercase hex digits"},
      {{"ubuntu:jammy"},
       FieldNames::kFlags,
       "--base 'ubuntu:jammy': expected debian:SUITE, oci:DIR[:REF] or "
       "docker://REF"},
      {{"oci:/srv/lay\nout"},
       FieldNames::kBuildRequest,
       "BuildRequest.base 'oci:/srv/lay\nout': expected debian:SUITE, "
       "docker://REF@sha256:HEX, or oci:[NAME] with the layout uploaded as "
       "base_layout (NAME: at most 4096 printable characters)"},
      {{"oci:" + std::string(4093, 'a')},
       FieldNames::kBuildRequest,
       "BuildRequest.base 'oci:" + std::string(196, 'a') +
           "': expected debian:SUITE, docker://REF@sha256:HEX, or oci:[NAME] "
           "with the layout uploaded as base_layout (NAME: at most 4096 "
           "printable characters)"},
      {{"ubuntu:jammy"},
       FieldNames::kBuildRequest,
       "BuildRequest.base 'ubuntu:jammy': expected debian:SUITE, "
       "docker://REF@sha256:HEX, or oci:[NAME] with the layout uploaded as "
       "base_layout (NAME: at most 4096 printable characters)"},
      {{"oci:", "../../etc;x"},
       FieldNames::kBuildRequest,
       "BuildRequest.base_ref '../../etc;x': not an image reference name"},
      {{"debian:bookworm", "", "Team/x"},
       FieldNames::kBuildRequest,
       "BuildRequest.prefix 'Team/x': 'Team' is not a valid image path "
       "component (lowercase letters, digits, separators . _ -)"},
      {{"debian:bookworm", "", "", {"ok", "$(id)"}},
       FieldNames::kFlags,
       "--tag '$(id)': not a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-], at most "
       "128)"},
      {{"debian:bookworm", "", "", {}, "file:///etc/passwd"},
       FieldNames::kBuildRequest,
       "BuildRequest.index_url 'file:///etc/passwd': expected an http:// or "
       "https:// URL (printable ASCII, no spaces, at most 2048 characters)"},
      {{"debian:bookworm", "", "", {}, "https://x/simple", {"http://a b/"}},
       FieldNames::kFlags,
       "--extra-index-url 'http://a b/': expected an http:// or https:// URL "
       "(printable ASCII, no spaces, at most 2048 characters)"},
      {{"debian:bookworm", "", "", {}, "", {}, "1.0\nX=1"},
       FieldNames::kBuildRequest,
       "BuildRequest.pbr_version '1.0\nX=1': not a version (letters, digits, "
       ". + ! _ -, at most 64)"},
      {{"debian:bookworm", "", "", {}, "", {}, "", -5},
       FieldNames::kFlags,
       "SOURCE_DATE_EPOCH '-5': expected seconds since 1970 up to the year "
       "9999"},
      {{"debian:bookworm",
        "",
        "",
        {},
        "",
        {},
        "",
        0,
        {"ok.example:8080", "a b"}},
       FieldNames::kFlags,
       "--trusted-host 'a b': not a HOST or HOST:PORT (letters, digits, . -)"},
      {{"debian:bookworm", "", "", {}, "", {}, "", 0, {"x;touch /tmp/y"}},
       FieldNames::kBuildRequest,
       "BuildRequest.trusted_hosts 'x;touch /tmp/y': not a HOST or HOST:PORT "
       "(letters, digits, . -)"},
  };
  for (const Case& c : cases) {
    absl::Status s = ValidateBuildInputs(c.in, c.names);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.in.base;
    if (!c.message.empty()) EXPECT_EQ(s.message(), c.message);
  }
  BuildInputs long_prefix{"debian:bookworm", "", std::string(256, 'a')};
  EXPECT_EQ(Check(long_prefix).message(), "--prefix '" + std::string(256, 'a') +
                                              "': longer than 255 characters");
}

TEST(BuildInputsTest, AMirrorAndReleaseBelongToADebianBase) {
  BuildInputs in{"debian:bookworm"};
  in.mirror = "http://snapshot.debian.org/archive/debian/20240101T000000Z";
  in.base_release = std::string(64, 'a');
  EXPECT_TRUE(ValidateBuildInputs(in, FieldNames::kBuildRequest).ok());
  in.mirror = "https://ci:s3cret@mirror.example/debian";
  absl::Status s = ValidateBuildInputs(in, FieldNames::kBuildRequest);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "BuildRequest.mirror: mirror URL holds user:password@ (it would "
            "be part of a cache key)");
  in.mirror = "http://deb.debian.org/debian";
  in.base_release = "x;touch /tmp/pwned";
  s = ValidateBuildInputs(in, FieldNames::kBuildRequest);
  EXPECT_EQ(s.message(),
            "BuildRequest.base_release: the Debian release digest is not 64 "
            "lowercase hex digits");
  // On an imported base a mirror gives the apt/apk steps their sources; a
  // release digest keys only a debian: base.
  in.base = "oci:layout";
  in.base_release = "";
  EXPECT_TRUE(ValidateBuildInputs(in, FieldNames::kFlags).ok());
  in.base_release = std::string(64, 'a');
  s = ValidateBuildInputs(in, FieldNames::kFlags);
  EXPECT_EQ(s.message(),
            "--base applies to debian: bases (the base is oci:layout)");
}

TEST(BuildInputsTest, APlatformIsOsArchVariantForImportedBases) {
  BuildInputs in{"oci:layout"};
  for (const char* ok : {"linux/arm64", "linux/arm64/v8", "linux/amd64"}) {
    in.platform = ok;
    EXPECT_TRUE(ValidateBuildInputs(in, FieldNames::kBuildRequest).ok()) << ok;
  }
  in.platform = "linux/arm64;id";
  EXPECT_EQ(ValidateBuildInputs(in, FieldNames::kBuildRequest).message(),
            "BuildRequest.platform 'linux/arm64;id': expected "
            "OS/ARCH[/VARIANT] (lowercase letters, digits; e.g. "
            "linux/arm64/v8)");
  in.base = "debian:bookworm";
  in.platform = "linux/arm64";
  EXPECT_EQ(ValidateBuildInputs(in, FieldNames::kFlags).message(),
            "--platform linux/arm64 applies to oci: and docker:// bases (a "
            "debian: base is built for linux/amd64)");
  in.platform = "linux/amd64";
  EXPECT_TRUE(ValidateBuildInputs(in, FieldNames::kFlags).ok());
}

TEST(BuildInputsTest, IndexCredentialsLeaveTheUrls) {
  BuildInputs in{"debian:bookworm"};
  in.index_url = "https://ci:t0ken%2Fx@pypi.example.org/simple";
  in.extra_index_urls = {"https://other.example/simple",
                         "https://bot@extra.example:8443/simple"};
  ASSERT_TRUE(ExtractIndexCredentials(&in, FieldNames::kFlags).ok());
  EXPECT_EQ(in.index_url, "https://pypi.example.org/simple");
  EXPECT_EQ(in.extra_index_urls,
            (std::vector<std::string>{"https://other.example/simple",
                                      "https://extra.example:8443/simple"}));
  EXPECT_EQ(in.index_credentials, (std::vector<common::HostCredential>{
                                      {"pypi.example.org", "ci", "t0ken/x"},
                                      {"extra.example", "bot", ""}}));
  EXPECT_TRUE(Check(in).ok()) << Check(in);
}

TEST(BuildInputsTest, CredentialRefusalsNameTheFieldNotThePassword) {
  BuildInputs in{"debian:bookworm"};
  in.index_url = "https://ci:bad%zzpass@pypi.example.org/simple";
  absl::Status s = ExtractIndexCredentials(&in, FieldNames::kBuildRequest);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      std::string(s.message()),
      "BuildRequest.index_url: the password in the URL has a bad %-escape");
  // A URL that still carries userinfo is never validated as it is.
  in.index_url = "https://ci:s3cret@pypi.example.org/simple";
  s = Check(in, FieldNames::kBuildRequest);
  EXPECT_EQ(
      std::string(s.message()),
      "BuildRequest.index_url: credentials in the URL must be split off first "
      "(pypi.example.org)");
  in.index_url = "https://pypi.example.org/simple";
  in.index_credentials = {{"pypi.example.org", "ci", "has space"}};
  s = Check(in, FieldNames::kBuildRequest);
  EXPECT_EQ(std::string(s.message()),
            "BuildRequest.index_credentials: the password for pypi.example.org "
            "must be at "
            "most 1024 printable characters without space, '\"', '\\' or "
            "'#'");
  in.index_credentials.assign(17, {"h.example", "u", "p"});
  s = Check(in, FieldNames::kBuildRequest);
  EXPECT_EQ(std::string(s.message()),
            "BuildRequest.index_credentials: more than 16 index credentials");
  in.index_credentials = {{"bad host", "u", "p"}};
  EXPECT_EQ(std::string(Check(in, FieldNames::kBuildRequest).message()),
            "BuildRequest.index_credentials: the credential's host is not a "
            "host name");
}

}  // namespace
}  // namespace pbrx::coordinator
