#include "common/registry/registry_client.h"

#include <cstdlib>
#include <fstream>

#include "common/digest.h"
#include "common/registry/fake_registry.h"
#include "common/registry/image_pusher.h"
#include "common/registry/registry_access.h"
#include "gtest/gtest.h"

namespace pbrx::common::registry {
namespace {

RegistryClientOptions NoSleep(int64_t chunk = 1 << 20) {
  RegistryClientOptions o;
  o.sleep = [](absl::Duration) {};
  o.chunk_bytes = chunk;
  return o;
}

class MemoryBlobs : public BlobSourceProvider {
 public:
  Digest Add(const std::string& bytes) {
    Digest d = Digest::Of(bytes);
    blobs_[d.hash()] = bytes;
    return d;
  }
  absl::StatusOr<BlobSource> Open(const Digest& d) override {
    ++opened;
    BlobSource s;
    s.bytes = blobs_.at(d.hash());
    return s;
  }
  int opened = 0;

 private:
  std::map<std::string, std::string> blobs_;
};

struct Image {
  PushableImage image;
  std::vector<Digest> blobs;
};

Image MakeImage(MemoryBlobs& blobs, const std::vector<std::string>& layers) {
  Image out;
  Digest config = blobs.Add("{\"config\":1}");
  out.image.blobs.push_back(config);
  std::string manifest = "{\"layers\":[";
  for (const std::string& l : layers) {
    Digest d = blobs.Add(l);
    out.image.blobs.push_back(d);
    manifest += "\"" + d.hash() + "\",";
  }
  manifest += "]}";
  out.image.manifest = manifest;
  out.image.media_type = "application/vnd.oci.image.manifest.v1+json";
  return out;
}

std::string Text(const Digest& d) { return "sha256:" + d.hash(); }

TEST(RegistryClientTest, PushesOnlyWhatIsMissingAndMountsFromSiblings) {
  FakeRegistry reg;
  RegistryClient client(&reg, "reg.test", std::nullopt, NoSleep(64));
  MemoryBlobs blobs;
  std::string big(200, 'x');  // above the 64-byte chunk size: 4 PATCHes
  Image base = MakeImage(blobs, {"base layer", big});
  BlobLocations locations;
  auto first = PushImage(client, "team/app-base", {"v1", "latest"}, base.image,
                         blobs, locations);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->blobs_uploaded, 3);
  EXPECT_EQ(first->bytes_uploaded, 12 + 10 + 200);
  EXPECT_EQ(first->manifest, Digest::Of(base.image.manifest));
  EXPECT_EQ(reg.Manifest("team/app-base", "v1"), base.image.manifest);
  EXPECT_EQ(reg.Manifest("team/app-base", "latest"), base.image.manifest);
  EXPECT_EQ(reg.BlobBytesReceived(), 222);
  int patches = 0;
  for (const std::string& l : reg.Log())
    patches += l.rfind("PATCH ", 0) == 0 ? 1 : 0;
  EXPECT_EQ(patches, 4);

  // The same image again: every blob HEADed, none sent.
  auto again =
      PushImage(client, "team/app-base", {"v1"}, base.image, blobs, locations);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->blobs_skipped, 3);
  EXPECT_EQ(again->bytes_uploaded, 0);
  EXPECT_EQ(reg.BlobBytesReceived(), 222);

  // A sibling image on the same layers plus one: mounted, one upload.
  Image app = MakeImage(blobs, {"base layer", big, "app layer"});
  int opened = blobs.opened;
  auto sibling =
      PushImage(client, "team/app", {"v1"}, app.image, blobs, locations);
  ASSERT_TRUE(sibling.ok()) << sibling.status();
  EXPECT_EQ(sibling->blobs_mounted, 3);
  EXPECT_EQ(sibling->blobs_uploaded, 1);
  EXPECT_EQ(sibling->bytes_uploaded, 9);
  EXPECT_EQ(blobs.opened, opened + 1);  // only the new layer was read
  EXPECT_TRUE(reg.HasBlob("team/app", Text(app.image.blobs[2])));
}

// An artifact manifest whose subject is `subject` (the fields the
// registry and the fallback read).
PushableImage Artifact(MemoryBlobs& blobs, const std::string& content,
                       const std::string& type, const std::string& subject) {
  PushableImage a;
  Digest config = blobs.Add("{}");
  Digest layer = blobs.Add(content);
  a.blobs = {config, layer};
  a.media_type = "application/vnd.oci.image.manifest.v1+json";
  a.artifact_type = type;
  a.manifest = "{\"artifactType\":\"" + type + "\",\"layers\":[\"" +
               layer.hash() + "\"],\"subject\":{\"digest\":\"" + subject +
               "\"}}";
  return a;
}

TEST(RegistryClientTest, ReferrersGoUpByDigestAndUnderTheFallbackTag) {
  for (bool api : {false, true}) {
    SCOPED_TRACE(api ? "referrers API" : "fallback tag");
    FakeRegistry reg;
    if (api) reg.EnableReferrersApi();
    RegistryClient client(&reg, "reg.test", std::nullopt, NoSleep());
    MemoryBlobs blobs;
    Image app = MakeImage(blobs, {"layer"});
    const Digest subject = Digest::Of(app.image.manifest);
    app.image.referrers = {
        Artifact(blobs, "{\"spdxVersion\":\"SPDX-2.3\"}",
                 "application/spdx+json", Text(subject)),
        Artifact(blobs, "{\"_type\":\"statement\"}",
                 "application/vnd.in-toto+json", Text(subject))};
    BlobLocations locations;
    auto pushed =
        PushImage(client, "team/app", {"v1"}, app.image, blobs, locations);
    ASSERT_TRUE(pushed.ok()) << pushed.status();
    EXPECT_EQ(pushed->referrers, 2);
    EXPECT_EQ(pushed->referrers_tag, !api);
    EXPECT_EQ(pushed->blobs_uploaded, 5);  // config, layer, {}, 2 documents
    for (const PushableImage& r : app.image.referrers) {
      EXPECT_EQ(reg.Manifest("team/app", Text(Digest::Of(r.manifest))),
                r.manifest);
      EXPECT_TRUE(reg.HasBlob("team/app", Text(r.blobs[1])));
    }
    const std::string index = reg.Manifest("team/app", ReferrersTag(subject));
    if (api) {
      EXPECT_EQ(index, "");
      // Again: the tag and the referrers API answer; nothing is sent.
      const size_t before = reg.Log().size();
      auto again =
          PushImage(client, "team/app", {"v1"}, app.image, blobs, locations);
      ASSERT_TRUE(again.ok()) << again.status();
      EXPECT_TRUE(again->already_there);
      EXPECT_EQ(again->referrers, 0);
      EXPECT_EQ(reg.Log().size(), before + 2);
      continue;
    }
    const Digest sbom = Digest::Of(app.image.referrers[0].manifest);
    const Digest prov = Digest::Of(app.image.referrers[1].manifest);
    EXPECT_EQ(ReferrersTag(subject), "sha256-" + subject.hash());
    EXPECT_EQ(index,
              "{\"schemaVersion\":2,\"mediaType\":\"application/"
              "vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":"
              "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" +
                  Text(sbom) + "\",\"size\":" + std::to_string(sbom.size()) +
                  ",\"artifactType\":\"application/spdx+json\"},{"
                  "\"mediaType\":\"application/"
                  "vnd.oci.image.manifest.v1+json\",\"digest\":\"" +
                  Text(prov) + "\",\"size\":" + std::to_string(prov.size()) +
                  ",\"artifactType\":\"application/vnd.in-toto+json\"}]}");
    // Pushed again: the index lists them already and is not written again;
    // a new referrer is added beside them.
    const size_t before = reg.Log().size();
    size_t puts = 0;
    for (const std::string& l : reg.Log())
      puts += l == "PUT /v2/team/app/manifests/" + ReferrersTag(subject);
    EXPECT_EQ(puts, 1u);
    auto again =
        PushImage(client, "team/app", {"v1"}, app.image, blobs, locations);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_TRUE(again->already_there);
    EXPECT_EQ(again->referrers, 0);
    EXPECT_EQ(again->blobs_skipped, 2);
    // A second push asks three things: the tag, the referrers API (none),
    // the referrers tag; no blob is even checked.
    std::vector<std::string> log = reg.Log();
    EXPECT_EQ(std::vector<std::string>(log.begin() + before, log.end()),
              (std::vector<std::string>{
                  "HEAD /v2/team/app/manifests/v1",
                  "GET /v2/team/app/referrers/" + Text(subject),
                  "GET /v2/team/app/manifests/" + ReferrersTag(subject)}));
    puts = 0;
    for (const std::string& l : reg.Log())
      puts += l == "PUT /v2/team/app/manifests/" + ReferrersTag(subject);
    EXPECT_EQ(puts, 1u);
    PushableImage sig =
        Artifact(blobs, "signature", "application/x-sig", Text(subject));
    ASSERT_TRUE(AddToReferrersTag(client, "team/app", subject, {sig}).ok());
    const std::string three = reg.Manifest("team/app", ReferrersTag(subject));
    EXPECT_NE(three.find(Text(sbom)), std::string::npos);
    EXPECT_NE(three.find(Text(Digest::Of(sig.manifest))), std::string::npos);
  }
}

TEST(RegistryClientTest, RetriesTransientFailuresAndGivesUpClearly) {
  FakeRegistry reg;
  RegistryClient client(&reg, "reg.test", std::nullopt, NoSleep());
  MemoryBlobs blobs;
  Image img = MakeImage(blobs, {"layer"});
  BlobLocations locations;
  reg.FailNext(3, 503);
  auto ok = PushImage(client, "app", {"latest"}, img.image, blobs, locations,
                      PushImageOptions{1});
  ASSERT_TRUE(ok.ok()) << ok.status();
  reg.FailNext(2, 0);  // connection resets
  ASSERT_TRUE(client.BlobExists("app", img.image.blobs[1]).value_or(false));
  reg.FailNext(2, 429);
  ASSERT_TRUE(
      client.PutManifest("app", "v2", img.image.media_type, img.image.manifest)
          .ok());

  reg.FailNext(100, 503);
  absl::StatusOr<bool> down = client.BlobExists("app", Digest::Of("nope"));
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(down.status().message(),
            "checking blob " + Text(Digest::Of("nope")) +
                " in reg.test/app: HTTP 503 UNAVAILABLE: fake UNAVAILABLE "
                "(gave up after 5 attempts)");
}

TEST(RegistryClientTest, ErrorsNameTheBlobAndTheRegistryCode) {
  FakeRegistry reg;
  RegistryClient client(&reg, "reg.test", std::nullopt, NoSleep());
  BlobSource wrong;
  wrong.bytes = "not the bytes";
  Digest claimed = Digest::Of("other bytes!!");
  absl::Status s = client.UploadBlob("app", claimed, wrong);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "uploading blob " + Text(claimed) +
                             " to reg.test/app: HTTP 400 DIGEST_INVALID: "
                             "fake DIGEST_INVALID");
  auto m = client.GetManifest("app", "nope", {"a/b"});
  EXPECT_EQ(m.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(m.status().message(),
            "getting manifest reg.test/app:nope: HTTP 404 MANIFEST_UNKNOWN: "
            "fake MANIFEST_UNKNOWN");
}

TEST(RegistryClientTest, BasicAuthAnswersTheChallenge) {
  FakeRegistry reg;
  reg.SetAuth(FakeRegistry::Auth::kBasic, "alice", "pw");
  RegistryClient anonymous(&reg, "reg.test", std::nullopt, NoSleep());
  auto denied = anonymous.BlobExists("app", Digest::Of("x"));
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(denied.status().message(),
            "registry reg.test asks for credentials (Basic) and none were "
            "found for it");
  RegistryClient wrong(&reg, "reg.test", RegistryCredentials{"alice", "bad"},
                       NoSleep());
  auto refused = wrong.BlobExists("app", Digest::Of("x"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(refused.status().message(),
            "registry reg.test refused the credentials of user 'alice' (HTTP "
            "401)");
  RegistryClient client(&reg, "reg.test", RegistryCredentials{"alice", "pw"},
                        NoSleep());
  auto found = client.BlobExists("app", Digest::Of("x"));
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_FALSE(*found);
  // The Basic header is kept: the next request needs no second challenge.
  size_t before = reg.Log().size();
  ASSERT_TRUE(client.BlobExists("app", Digest::Of("y")).ok());
  EXPECT_EQ(reg.Log().size(), before + 1);
}

TEST(RegistryClientTest, BearerTokenFlow) {
  FakeRegistry reg;
  reg.SetAuth(FakeRegistry::Auth::kBearer, "bob", "pw");
  RegistryClient client(&reg, "reg.test", RegistryCredentials{"bob", "pw"},
                        NoSleep());
  MemoryBlobs blobs;
  Image img = MakeImage(blobs, {"layer"});
  BlobLocations locations;
  auto pushed =
      PushImage(client, "app", {"latest"}, img.image, blobs, locations);
  ASSERT_TRUE(pushed.ok()) << pushed.status();
  EXPECT_EQ(reg.Manifest("app", "latest"), img.image.manifest);
  bool asked = false;
  for (const std::string& l : reg.Log()) {
    if (l == "GET auth.test/token?service=reg.test&scope=repository%3Ax%3Apull")
      asked = true;
  }
  EXPECT_TRUE(asked);
  RegistryClient stranger(&reg, "reg.test", RegistryCredentials{"eve", "no"},
                          NoSleep());
  auto refused = stranger.BlobExists("app", Digest::Of("x"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(refused.status().message(),
            "getting a token for repository:x:pull from auth.test: HTTP 401");
}

TEST(RegistryClientTest, GetBlobVerifiesWhatItWrites) {
  FakeRegistry reg;
  RegistryClient client(&reg, "reg.test", std::nullopt, NoSleep());
  BlobSource s;
  s.bytes = "blob bytes";
  Digest d = Digest::Of(s.bytes);
  ASSERT_TRUE(client.UploadBlob("app", d, s).ok());
  std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/blob";
  ASSERT_TRUE(client.GetBlob("app", d, path).ok());
  std::ifstream in(path);
  std::string got((std::istreambuf_iterator<char>(in)),
                  std::istreambuf_iterator<char>());
  EXPECT_EQ(got, "blob bytes");
}

TEST(BlobLocationsTest, RemembersTheNewestAcrossRuns) {
  std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/reg.blobs";
  Digest a = Digest::Of("a"), b = Digest::Of("b");
  {
    BlobLocations l;
    l.Add(a, "team/one");
    l.Add(b, "team/one");
    l.Add(a, "team/two");
    ASSERT_TRUE(l.Save(path, 100).ok());
  }
  {
    std::ofstream append(path, std::ios::app);
    append << "not a line\n" << a.hash() << " Bad/Repo\n";
  }
  BlobLocations loaded;
  loaded.Load(path, 100);
  EXPECT_EQ(loaded.Others(a, "x"),
            (std::vector<std::string>{"team/two", "team/one"}));
  EXPECT_EQ(loaded.Others(a, "team/two"),
            (std::vector<std::string>{"team/one"}));
  BlobLocations capped;
  capped.Load(path, 1);  // only the newest line
  EXPECT_EQ(capped.Others(a, "x"), (std::vector<std::string>{"team/two"}));
  EXPECT_TRUE(capped.Others(b, "x").empty());
}

TEST(RegistryAccessTest, PlainHttpOnlyForLoopbackAndNamedHosts) {
  EXPECT_TRUE(UsesPlainHttp("localhost:5000", {}));
  EXPECT_TRUE(UsesPlainHttp("127.0.0.1:5000", {}));
  EXPECT_TRUE(UsesPlainHttp("127.1.2.3", {}));
  EXPECT_TRUE(UsesPlainHttp("[::1]:5000", {}));
  EXPECT_FALSE(UsesPlainHttp("127.0.0.1.example.org", {}));
  EXPECT_FALSE(UsesPlainHttp("reg.example:5000", {}));
  EXPECT_TRUE(UsesPlainHttp("reg.example:5000", {"reg.example:5000"}));
  EXPECT_FALSE(UsesPlainHttp("reg.example", {"reg.example:5000"}));
}

TEST(RegistryAccessTest, LoopbackTriesHttpsFirst) {
  // reg.test named insecure: the fake answers https, so https is kept.
  FakeRegistry reg;
  RegistryAccessOptions o;
  o.insecure_hosts = {"reg.test"};
  o.client = NoSleep();
  RegistryAccess access(&reg, o);
  auto client = access.Client("reg.test");
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE((*client)->BlobExists("app", Digest::Of("x")).ok());
  EXPECT_EQ(reg.Log(),
            (std::vector<std::string>{"GET /v2/", "HEAD /v2/app/blobs/sha256:" +
                                                      Digest::Of("x").hash()}));
  // A host no TLS answers for (the fake knows no "plain.test") falls back.
  RegistryAccess other(
      &reg, RegistryAccessOptions{{"plain.test"}, {}, nullptr, NoSleep()});
  auto plain = other.Client("plain.test");
  ASSERT_TRUE(plain.ok());
  auto r = (*plain)->BlobExists("app", Digest::Of("x"));
  EXPECT_EQ(r.status().message(),
            "fake: no such host in http://plain.test/v2/app/blobs/sha256:" +
                Digest::Of("x").hash() + " (gave up after 5 attempts)");
}

TEST(ChallengeTest, ParsesQuotedParameters) {
  auto c = ParseChallenge(
      R"(Bearer realm="https://auth.example/token",service="reg, inc",)"
      R"(scope="repository:a:pull,push repository:b:pull")");
  EXPECT_EQ(c["scheme"], "bearer");
  EXPECT_EQ(c["realm"], "https://auth.example/token");
  EXPECT_EQ(c["service"], "reg, inc");
  EXPECT_EQ(c["scope"], "repository:a:pull,push repository:b:pull");
}

}  // namespace
}  // namespace pbrx::common::registry
