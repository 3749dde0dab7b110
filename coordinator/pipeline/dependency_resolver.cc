#include "coordinator/pipeline/dependency_resolver.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/credentials.h"
#include "common/json_struct.h"
#include "common/status_macros.h"

namespace pbrx::coordinator {
namespace {

namespace re = build::bazel::remote::execution::v2;
using common::Digest;

// The fetch step: download URL to out/NAME, verify its sha256 when known.
// Index credentials come as the netrc at $NETRC (outside the Action).
constexpr char kFetchScript[] = R"PY(
import base64, hashlib, netrc, os, sys, urllib.parse, urllib.request
url, sha, name = sys.argv[1:4]
os.makedirs("out", exist_ok=True)
h = hashlib.sha256()
req = urllib.request.Request(url)
if os.environ.get("NETRC"):
    auth = netrc.netrc(os.environ["NETRC"]).authenticators(
        urllib.parse.urlsplit(url).hostname or "")
    if auth:
        pair = ("%s:%s" % (auth[0], auth[2] or "")).encode()
        req.add_header("Authorization", "Basic " + base64.b64encode(pair).decode())
with urllib.request.urlopen(req, timeout=120) as r, open("out/" + name, "wb") as f:
    for chunk in iter(lambda: r.read(1 << 20), b""):
        h.update(chunk)
        f.write(chunk)
if sha and h.hexdigest() != sha:
    sys.exit("sha256 mismatch for %s: got %s, expected %s" % (url, h.hexdigest(), sha))
print("fetched %s sha256=%s" % (url, h.hexdigest()))
)PY";

}  // namespace

absl::StatusOr<std::unique_ptr<DependencyResolver>> DependencyResolver::Create(
    StepRunner* steps, ResolveInputs inputs) {
  std::unique_ptr<DependencyResolver> r(
      new DependencyResolver(steps, std::move(inputs)));
  const ResolveInputs& in = r->in_;
  cache::BlobStore& cas = steps->cas();
  // The find-links tree is in the CAS already (the client uploaded it);
  // only its top directory's file names are read here.
  Digest links_root = Digest::Empty();
  re::Directory links_dir;
  if (in.find_links_root.has_value()) {
    links_root = *in.find_links_root;
    ASSIGN_OR_RETURN(std::string bytes, cache::ReadBlob(cas, links_root));
    if (!links_dir.ParseFromString(bytes)) {
      return absl::InvalidArgumentError(
          absl::StrCat("find-links root ", links_root.ToString(),
                       " is not a REAPI Directory"));
    }
  } else {
    ASSIGN_OR_RETURN(links_root, steps->EmptyDir());
  }
  for (const auto& f : links_dir.files()) {
    ASSIGN_OR_RETURN(Digest d, Digest::FromProto(f.digest()));
    r->link_files_.emplace(f.name(), d);
  }
  re::Directory dist;
  auto* wf = dist.add_files();
  wf->set_name(in.project_wheel_file);
  *wf->mutable_digest() = in.project_wheel.ToProto();
  ASSIGN_OR_RETURN(Digest dist_digest,
                   cache::WriteBlob(cas, dist.SerializeAsString()));
  // Constraints files by content, as constraints/c1.txt, c2.txt, ...
  re::Directory cdir;
  for (size_t i = 0; i < in.constraint_blobs.size(); ++i) {
    auto* f = cdir.add_files();
    f->set_name(absl::StrCat("c", i + 1, ".txt"));
    *f->mutable_digest() = in.constraint_blobs[i].ToProto();
    r->constraint_args_.push_back("--constraint");
    r->constraint_args_.push_back(
        absl::StrCat("/work/constraints/c", i + 1, ".txt"));
  }
  // A Directory's entries sorted by name (c10.txt before c2.txt).
  std::sort(cdir.mutable_files()->begin(), cdir.mutable_files()->end(),
            [](const re::FileNode& a, const re::FileNode& b) {
              return a.name() < b.name();
            });
  // The input root's entries, sorted by name as a Directory's must be.
  re::Directory root;
  if (!in.constraint_blobs.empty()) {
    ASSIGN_OR_RETURN(Digest cdir_digest,
                     cache::WriteBlob(cas, cdir.SerializeAsString()));
    auto* c = root.add_directories();
    c->set_name("constraints");
    *c->mutable_digest() = cdir_digest.ToProto();
  }
  auto* dd = root.add_directories();
  dd->set_name("dist");
  *dd->mutable_digest() = dist_digest.ToProto();
  auto* l = root.add_directories();
  l->set_name("links");
  *l->mutable_digest() = links_root.ToProto();
  ASSIGN_OR_RETURN(r->root_, cache::WriteBlob(cas, root.SerializeAsString()));
  return r;
}

absl::StatusOr<WheelList> DependencyResolver::Resolve(
    const std::string& name, const std::vector<std::string>& extras) {
  ActionSpec r;
  r.input_root = root_;
  std::string req = "/work/dist/" + in_.project_wheel_file;
  if (!extras.empty()) req += "[" + absl::StrJoin(extras, ",") + "]";
  r.argv = {"python3", "-m", "pip", "install", "--dry-run",
            "--ignore-installed", "--report", "/work/report.json",
            "--find-links", "/work/links",
            // Not --quiet: on a conflict pip explains it at INFO level.
            "--disable-pip-version-check"};
  r.argv.insert(r.argv.end(), constraint_args_.begin(), constraint_args_.end());
  r.platform = {{"rootfs", in_.builder_rootfs}};
  if (in_.index_url.empty()) {
    r.argv.push_back("--no-index");
  } else {
    r.argv.insert(r.argv.end(), {"--index-url", in_.index_url});
    for (const std::string& u : in_.extra_index_urls)
      r.argv.insert(r.argv.end(), {"--extra-index-url", u});
    for (const std::string& h : in_.trusted_hosts)
      r.argv.insert(r.argv.end(), {"--trusted-host", h});
    r.platform.emplace_back("network", "egress");
    r.do_not_cache = true;  // the index may have changed since
    r.credentials = in_.credentials;
  }
  r.argv.push_back(req);
  r.output_files = {"report.json"};
  ASSIGN_OR_RETURN(re::ActionResult rr, steps_.Step("resolve", name, r));
  ASSIGN_OR_RETURN(Digest report_digest, steps_.OutputFile(rr, "report.json"));
  ASSIGN_OR_RETURN(std::string report_text,
                   cache::ReadBlob(steps_.cas(), report_digest));
  ASSIGN_OR_RETURN(google::protobuf::Struct report,
                   common::ParseJsonStruct(report_text, "resolve report"));
  WheelList out;
  auto it = report.fields().find("install");
  if (it == report.fields().end()) return out;
  for (const auto& item : it->second.list_value().values()) {
    const auto* di = common::Obj(item.struct_value(), "download_info");
    std::string url = di != nullptr ? common::Str(*di, "url") : "";
    std::string file = url.substr(url.rfind('/') + 1);
    if (absl::StartsWith(url, "file:///work/dist/"))
      continue;  // the project itself
    Digest dist_digest = Digest::Empty();
    Origin origin;
    auto lf = link_files_.find(file);
    if (absl::StartsWith(url, "file:///work/links/") &&
        lf != link_files_.end()) {
      dist_digest = lf->second;
      origin.source = "find-links";
    } else if (absl::StartsWith(url, "http://") ||
               absl::StartsWith(url, "https://")) {
      // From an index: fetched by URL, verified by sha256, cached.
      std::string sha;
      if (const auto* ai = common::Obj(*di, "archive_info")) {
        if (const auto* hs = common::Obj(*ai, "hashes"))
          sha = common::Str(*hs, "sha256");
        std::string h = common::Str(*ai, "hash");
        if (sha.empty() && absl::StartsWith(h, "sha256=")) sha = h.substr(7);
      }
      std::string clean = url.substr(0, url.find_first_of("#?"));
      file = clean.substr(clean.rfind('/') + 1);
      ASSIGN_OR_RETURN(dist_digest, Fetch(clean, file, sha));
      origin.source = common::WithoutUserinfo(clean);
    } else {
      return absl::InternalError(
          absl::StrCat("resolve chose ", url,
                       ", which is neither in --find-links nor on an index"));
    }
    if (absl::EndsWith(file, ".whl")) {
      out.emplace_back(file, dist_digest);
    } else {
      ASSIGN_OR_RETURN(auto wheel, SdistWheel(file, dist_digest));
      origin.sdist_file = file;
      origin.sdist = dist_digest;
      out.push_back(std::move(wheel));
    }
    absl::MutexLock lock(&mu_);
    origins_[out.back().first] = origin;
  }
  return out;
}

DependencyResolver::Origin DependencyResolver::OriginOf(
    const std::string& file) const {
  absl::MutexLock lock(&mu_);
  auto it = origins_.find(file);
  return it == origins_.end() ? Origin{} : it->second;
}

absl::StatusOr<Digest> DependencyResolver::Fetch(const std::string& url,
                                                 const std::string& file,
                                                 const std::string& sha256) {
  ActionSpec f;
  ASSIGN_OR_RETURN(f.input_root, steps_.EmptyDir());
  f.argv = {"python3", "-c", kFetchScript, url, sha256, file};
  f.output_files = {"out/" + file};
  f.platform = {{"rootfs", in_.builder_rootfs}, {"network", "egress"}};
  f.credentials = common::CredentialsForUrl(url, in_.credentials);
  // Only a download its index vouched for by sha256 is kept: without a
  // hash (or over plain http, where anyone on the path may change both)
  // the bytes are not verified and must not answer later builds.
  f.do_not_cache = sha256.empty() || absl::StartsWith(url, "http://");
  ASSIGN_OR_RETURN(re::ActionResult fr, steps_.Step("fetch", file, f));
  return steps_.OutputFile(fr, "out/" + file);
}

absl::StatusOr<std::pair<std::string, Digest>> DependencyResolver::SdistWheel(
    const std::string& file, const Digest& sdist) {
  // Resolutions run concurrently and may share sdists: each sdist's wheel
  // is built once, under its own lock.
  std::shared_ptr<absl::Mutex> file_lock;
  {
    absl::MutexLock lock(&mu_);
    auto& l = sdist_locks_[file];
    if (l == nullptr) l = std::make_shared<absl::Mutex>();
    file_lock = l;
  }
  absl::MutexLock sdist_lock(file_lock.get());
  {
    absl::MutexLock lock(&mu_);
    auto b = built_.find(file);
    if (b != built_.end()) return b->second;
  }
  re::Directory sd;
  auto* f = sd.add_files();
  f->set_name(file);
  *f->mutable_digest() = sdist.ToProto();
  ASSIGN_OR_RETURN(Digest sd_digest,
                   cache::WriteBlob(steps_.cas(), sd.SerializeAsString()));
  ActionSpec w;
  ASSIGN_OR_RETURN(w.input_root, steps_.Wrap("sdist", sd_digest));
  w.argv = {"sh", "-c",
            // Unpacked at a fixed path so compiled code (debug info, build
            // ids) does not depend on a random build dir.
            "mkdir -p /work/build && python3 -c 'import shutil, sys; "
            "shutil.unpack_archive(sys.argv[1], \"/work/build\")' \"$1\" && "
            "python3 -m pip wheel --no-deps --no-build-isolation --no-index "
            "--disable-pip-version-check --wheel-dir /work/out "
            "/work/build/*/",
            "wheel-build", "/work/sdist/" + file};
  w.output_dirs = {"out"};
  w.platform = {{"rootfs", in_.builder_rootfs}};
  ASSIGN_OR_RETURN(re::ActionResult wr, steps_.Step("wheel-build", file, w));
  ASSIGN_OR_RETURN(auto wheel, steps_.SingleWheel(wr));
  absl::MutexLock lock(&mu_);
  built_.emplace(file, wheel);
  return wheel;
}

}  // namespace pbrx::coordinator
