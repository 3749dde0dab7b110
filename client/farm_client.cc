#include "client/farm_client.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cache/directory_tree.h"
#include "cache/grpc_cache_client.h"
#include "client/build_uploads.h"
#include "client/cli.h"
#include "client/paths.h"
#include "client/progress.h"
#include "common/grpc_channel.h"
#include "common/json_struct.h"
#include "common/oci/image_layout.h"
#include "common/oci/layout_reader.h"
#include "common/status_macros.h"
#include "coordinator/build_report.h"
#include "coordinator/farm_status_json.h"
#include "google/protobuf/struct.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "proto/farm.grpc.pb.h"

namespace pbrx::client {
namespace {

namespace fv = pbrx::farm::v1;
using common::Digest;

// A channel to the farm, or a one-line reason why there is none.
absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect(
    const std::string& url, const FarmCredentials& credentials,
    absl::Duration timeout) {
  common::ChannelOptions o;
  o.max_receive_bytes = common::kMaxBuildEventBytes;
  o.tls = credentials.tls;
  if (!credentials.token_file.empty()) {
    RETURN_IF_ERROR(common::LoadTokenFile(credentials.token_file, &o.token));
  } else if (const char* env = std::getenv("PBRX_TOKEN")) {
    o.token = env;
  }
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                   common::MakeChannel(url, o));
  if (!channel->WaitForConnected(absl::ToChronoTime(absl::Now() + timeout))) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach the farm at ", url, " (no answer within ",
                     absl::FormatDuration(timeout), ")"));
  }
  return channel;
}

// Bad TLS or token files are the user's flags (2); else the farm is
// unreachable (3).
int ConnectExitCode(const absl::Status& s) {
  return s.code() == absl::StatusCode::kInvalidArgument ? 2 : 3;
}

// Copies one image (manifest, config, layers) from the CAS into the layout
// and points `ref` at it.
absl::Status FetchImage(cache::BlobStore& cas, common::oci::OciLayout& layout,
                        const Digest& manifest, const std::string& ref) {
  ASSIGN_OR_RETURN(std::string bytes, cache::ReadBlob(cas, manifest));
  const std::string what = "manifest " + manifest.ToString();
  ASSIGN_OR_RETURN(google::protobuf::Struct m,
                   common::ParseJsonStruct(bytes, what));
  ASSIGN_OR_RETURN(common::oci::ManifestBlobs named,
                   common::oci::ParseManifestBlobs(m, what));
  std::vector<Digest> blobs = {named.config};
  blobs.insert(blobs.end(), named.layers.begin(), named.layers.end());
  for (const Digest& d : blobs) {
    struct stat st;
    if (stat(layout.BlobPath(d).c_str(), &st) == 0) continue;
    std::string tmp = layout.dir() + "/.pbrx-fetch-" + d.hash();
    absl::Status s = cache::BlobToFile(cas, d, tmp);
    if (s.ok()) s = layout.AddBlobFile(tmp, d);
    unlink(tmp.c_str());
    RETURN_IF_ERROR(s);
  }
  ASSIGN_OR_RETURN(Digest stored, layout.AddBlob(bytes));
  (void)stored;
  return layout.Tag(manifest, {ref});
}

// The image a build event reports, its digests checked.
absl::StatusOr<FarmImage> FarmImageOf(const fv::BuiltImage& img) {
  FarmImage out;
  ASSIGN_OR_RETURN(out.manifest, Digest::FromProto(img.manifest()));
  for (const auto* r : {&img.sbom(), &img.provenance()}) {
    if (r->hash().empty()) continue;
    ASSIGN_OR_RETURN(Digest d, Digest::FromProto(*r));
    out.referrers.push_back(d);
  }
  return out;
}

// Copies the artifact manifests that refer to `subject` (its SBOM and
// provenance) and their blobs into the layout, listed as its referrers.
absl::Status FetchReferrers(cache::BlobStore& cas,
                            common::oci::OciLayout& layout,
                            const Digest& subject,
                            const std::vector<Digest>& referrers) {
  std::vector<common::oci::Referrer> listed;
  for (const Digest& r : referrers) {
    ASSIGN_OR_RETURN(std::string bytes, cache::ReadBlob(cas, r));
    const std::string what = "artifact manifest " + r.ToString();
    ASSIGN_OR_RETURN(google::protobuf::Struct m,
                     common::ParseJsonStruct(bytes, what));
    const google::protobuf::Struct* s = common::Obj(m, "subject");
    if (s == nullptr ||
        common::Str(*s, "digest") != common::oci::DigestString(subject)) {
      return absl::DataLossError(
          absl::StrCat(what, " does not refer to ", subject.ToString()));
    }
    ASSIGN_OR_RETURN(common::oci::ManifestBlobs named,
                     common::oci::ParseManifestBlobs(m, what));
    std::vector<Digest> blobs = {named.config};
    blobs.insert(blobs.end(), named.layers.begin(), named.layers.end());
    for (const Digest& d : blobs) {
      constexpr int64_t kMaxAttestationBytes = 64 << 20;
      if (d.size() > kMaxAttestationBytes) {
        return absl::DataLossError(absl::StrCat(
            what, ": blob ", d.ToString(), " is over the limit of ",
            kMaxAttestationBytes, " bytes"));
      }
      ASSIGN_OR_RETURN(std::string blob, cache::ReadBlob(cas, d));
      RETURN_IF_ERROR(layout.AddBlob(blob).status());
    }
    RETURN_IF_ERROR(layout.AddBlob(bytes).status());
    listed.push_back({r, common::Str(m, "artifactType")});
  }
  return layout.AddReferrers(subject, listed);
}

}  // namespace

void AddCredentialFlags(common::FlagParser& p, FarmCredentials* c) {
  p.AddString("tls-ca", &c->tls.ca_file,
              "PEM CA bundle that verifies a grpcs:// farm (default: the "
              "system's)");
  p.SetValueName("tls-ca", "FILE");
  p.AddString("tls-cert", &c->tls.cert_file,
              "PEM client certificate for a farm that requires mTLS");
  p.SetValueName("tls-cert", "FILE");
  p.AddString("tls-key", &c->tls.key_file, "the PEM key of --tls-cert");
  p.SetValueName("tls-key", "FILE");
  p.AddString("token-file", &c->token_file,
              "a file whose first line is the farm's bearer token (else "
              "$PBRX_TOKEN)");
  p.SetValueName("token-file", "FILE");
}

const std::vector<std::string>& CredentialFlagNames() {
  static const auto* names = new std::vector<std::string>{
      "tls-ca", "tls-cert", "tls-key", "token-file"};
  return *names;
}

int RunFarmBuild(const FarmBuild& b, BuildImagesIo& io) {
  auto channel = Connect(b.farm, b.credentials, b.connect_timeout);
  if (!channel.ok()) {
    *io.err << "pbrx build-images: " << channel.status().message() << "\n";
    return ConnectExitCode(channel.status());
  }
  cache::GrpcBlobStore cas(*channel, cache::GrpcCacheOptions{});
  fv::BuildRequest req;
  for (const std::string& dir : b.dirs) {
    std::string path = Absolute(dir);
    absl::StatusOr<cache::UploadedTree> up = cache::UploadDirectory(path, cas);
    if (!up.ok()) {
      *io.err << "pbrx build-images: " << dir
              << ": cannot upload: " << up.status().message() << "\n";
      // The farm unreachable or refusing this client (no or wrong token,
      // a role without CAS writes) fails every project: a farm failure.
      const absl::StatusCode code = up.status().code();
      return code == absl::StatusCode::kUnavailable ||
                     code == absl::StatusCode::kUnauthenticated ||
                     code == absl::StatusCode::kPermissionDenied
                 ? 3
                 : 1;
    }
    fv::ProjectSource* p = req.add_projects();
    p->set_dir(dir);
    p->set_path(path);
    *p->mutable_root() = up->root.ToProto();
  }
  const coordinator::BuildOptions& o = b.options;
  req.set_prefix(o.prefix);
  for (const auto& t : o.tags) req.add_tags(t);
  req.set_index_url(o.index_url);
  for (const auto& u : o.extra_index_urls) req.add_extra_index_urls(u);
  for (const auto& h : o.trusted_hosts) req.add_trusted_hosts(h);
  for (const common::HostCredential& c : o.index_credentials) {
    fv::HostCredential* r = req.add_index_credentials();
    r->set_host(c.host);
    r->set_username(c.username);
    r->set_password(c.password);
  }
  req.set_source_date_epoch(o.source_date_epoch);
  req.set_pbr_version(o.pbr_version);
  req.set_mirror(o.mirror);
  req.set_base_release(o.base_release);
  req.set_platform(o.platform);
  for (const std::string& p : o.pinned) req.add_pinned(p);
  req.set_jobs(b.jobs);
  // find-links, constraints and an oci: base layout go to the farm's CAS;
  // the request names them by digest (nothing is staged on the coordinator).
  coordinator::BuildOptions uploaded = o;
  absl::Status uploads = UploadBuildInputs(uploaded, cas, b.pulled_base_dir);
  if (uploads.ok()) {
    if (uploaded.find_links_root.has_value())
      *req.mutable_find_links() = uploaded.find_links_root->ToProto();
    for (size_t i = 0; i < uploaded.constraint_blobs.size(); ++i) {
      fv::NamedBlob* nb = req.add_constraints();
      nb->set_name(uploaded.constraints[i]);
      *nb->mutable_digest() = uploaded.constraint_blobs[i].ToProto();
    }
    // The base as the user named it (the images' base.name annotation, as
    // in embedded mode); an oci: base's layout by digest.
    req.set_base(uploaded.base);
    if (uploaded.base_layout_root.has_value()) {
      *req.mutable_base_layout() = uploaded.base_layout_root->ToProto();
      req.set_base_ref(uploaded.base_ref);
    }
  }
  if (!uploads.ok()) {
    *io.err << "pbrx build-images: uploading to the farm: " << uploads.message()
            << "\n";
    return 3;
  }

  // A push build leaves the local layout alone (FarmBuild::push).
  std::optional<common::oci::OciLayout> layout;
  if (!b.push) {
    absl::StatusOr<common::oci::OciLayout> opened =
        common::oci::OciLayout::Open(o.output_layout);
    if (!opened.ok()) {
      *io.err << "pbrx build-images: " << opened.status().message() << "\n";
      return 1;
    }
    layout.emplace(std::move(*opened));
  }
  std::map<std::string, FarmImage> built;
  auto stub = fv::Build::NewStub(*channel);
  grpc::ClientContext ctx;
  auto stream = stub->BuildImages(&ctx, req);
  fv::BuildEvent e;
  bool failed = false;
  std::string report;
  const int n = req.projects_size();
  // On a terminal: one status line per project (at most kMaxLines, then a
  // count), redrawn in place; results are printed once the block is gone.
  constexpr int kMaxLines = 20;
  std::vector<std::string> status(n, "waiting");
  std::vector<int> step_cached(n, 0), step_run(n, 0);
  int drawn = 0;
  std::string out_text, err_text;  // deferred on a terminal
  ProgressPrinter printer(b.progress, io.err, b.dirs);
  auto redraw = [&]() {
    if (!b.tty) return;
    std::string block;
    if (drawn > 0) block += absl::StrCat("\033[", drawn, "F");
    int lines = 0;
    for (int i = 0; i < n && i < kMaxLines; ++i, ++lines) {
      block += absl::StrCat(
          "\033[K", absl::StrCat(b.dirs[i], ": ", status[i]).substr(0, 150),
          "\n");
    }
    if (n > kMaxLines) {
      int finished = 0;
      for (const auto& st : status)
        finished +=
            absl::StartsWith(st, "done") || absl::StartsWith(st, "FAILED");
      block += absl::StrCat("\033[K... and ", n - kMaxLines, " more projects (",
                            finished, "/", n, " done)\n");
      ++lines;
    }
    drawn = lines;
    *io.err << block << std::flush;
  };
  auto clear = [&]() {
    if (!b.tty || drawn == 0) return;
    std::string block = absl::StrCat("\033[", drawn, "F");
    for (int i = 0; i < drawn; ++i) block += "\033[K\n";
    block += absl::StrCat("\033[", drawn, "F");
    *io.err << block << std::flush;
    drawn = 0;
  };
  auto emit_err = [&](const std::string& line) {
    if (b.tty) {
      err_text += line;
    } else {
      *io.err << line;
    }
  };
  auto emit_out = [&](const std::string& line) {
    if (b.tty) {
      out_text += line;
    } else {
      *io.out << line;
    }
  };
  redraw();
  while (stream->Read(&e)) {
    if (e.has_step()) {
      int i = e.step().project();
      if (i < 0 || i >= n) continue;
      if (e.step().started()) {
        printer.StepStarted(i, e.step().kind(), e.step().name());
        status[i] = absl::StrCat(step_cached[i], " cached, ", step_run[i],
                                 " run; running ", e.step().kind(), " ",
                                 e.step().name());
        redraw();
        continue;
      }
      coordinator::StepReport st;
      st.kind = e.step().kind();
      st.name = e.step().name();
      st.cached = e.step().cached();
      st.joined = e.step().joined();
      st.failed = e.step().failed();
      st.seconds = e.step().seconds();
      printer.StepFinished(i, st);
      if (e.step().kind() != "image-assembly" && !e.step().joined())
        (e.step().cached() ? step_cached[i] : step_run[i])++;
      status[i] =
          absl::StrCat(step_cached[i], " cached, ", step_run[i], " run; last ",
                       e.step().kind(), " ", e.step().name());
      redraw();
    } else if (e.has_project()) {
      const fv::ProjectDone& p = e.project();
      if (p.project() < 0 || p.project() >= n) continue;
      const std::string& dir = b.dirs[p.project()];
      {
        absl::StatusOr<coordinator::ProjectBuild> pb =
            absl::UnknownError(p.error());
        if (p.error().empty()) {
          coordinator::ProjectBuild built;
          built.name = p.name();
          built.version = p.version();
          built.images.resize(p.images_size());
          pb = built;
        }
        printer.ProjectFinished(p.project(), pb, p.steps_cached(),
                                p.steps_run());
      }
      if (!p.error().empty()) {
        failed = true;
        std::string message = p.error();
        if (!absl::StartsWith(message, Absolute(dir)))
          message = absl::StrCat(dir, ": ", message);
        emit_err("pbrx build-images: " + message + "\n");
        status[p.project()] = "FAILED";
        redraw();
        continue;
      }
      absl::Status fetched;
      for (const fv::BuiltImage& img : p.images()) {
        absl::StatusOr<FarmImage> farm_image = FarmImageOf(img);
        if (farm_image.ok() && b.push) {
          built.emplace(img.ref(), *farm_image);
        } else if (!farm_image.ok()) {
          fetched = farm_image.status();
        } else {
          fetched = FetchImage(cas, *layout, farm_image->manifest, img.ref());
          if (fetched.ok()) {
            fetched = FetchReferrers(cas, *layout, farm_image->manifest,
                                     farm_image->referrers);
          }
        }
        if (!fetched.ok()) break;
      }
      if (!fetched.ok()) {
        failed = true;
        emit_err(absl::StrCat(
            "pbrx build-images: ", dir,
            ": fetching the images from the farm: ", fetched.message(), "\n"));
        status[p.project()] = "FAILED (fetching images)";
        redraw();
        continue;
      }
      status[p.project()] =
          absl::StrCat("done: ", p.name(), " ", p.version(), ", ",
                       p.images_size(), " image ref(s)");
      redraw();
      if (b.json) continue;
      for (const fv::BuiltImage& img : p.images())
        emit_out(
            absl::StrCat(img.ref(), " sha256:", img.manifest().hash(), "\n"));
      emit_err(absl::StrCat("pbrx build-images: ", p.name(), " ", p.version(),
                            ": ", p.images_size(),
                            " image ref(s), steps: ", p.steps_cached(),
                            " cached, ", p.steps_run(), " run\n"));
    } else if (e.has_done()) {
      report = e.done().report_json();
    }
  }
  grpc::Status s = stream->Finish();
  clear();
  *io.out << out_text;
  *io.err << err_text;
  if (!s.ok()) {
    *io.err << "pbrx build-images: the farm at " << b.farm
            << " failed: " << s.error_message() << "\n";
    return 3;
  }
  if (b.json && b.report_out != nullptr) {
    *b.report_out = report;
  } else if (b.json) {
    *io.out << report;
  }
  if (b.push) return b.push(cas, built, failed ? 1 : 0);
  return failed ? 1 : 0;
}

void AddFarmStatusFlags(common::FlagParser& p, FarmStatusFlags* f) {
  p.SetDescription(
      "Shows a farm's executors (slots, busy, uptime, peer), its queue, "
      "builds in flight and step counts since the coordinator started.\n\n"
      "Exit codes: 0 shown, 2 usage error, 3 the farm is unreachable or "
      "refused.");
  p.AddString("farm", &f->farm, "the coordinator: grpc[s]://HOST:PORT");
  p.SetValueName("farm", "URL");
  p.SetEnvironment("farm", "PBRX_FARM");
  AddCredentialFlags(p, &f->credentials);
  p.AddBool("json", &f->json, "print the status as JSON");
  p.AddExample("pbrx farm status --farm grpc://coordinator.example:8981",
               "what that farm is doing");
}

int RunFarmCommand(const std::vector<std::string>& args, BuildImagesIo& io) {
  const char* usage =
      "usage: pbrx farm status [FLAGS]\n\ncommands:\n  status   executors, "
      "queue and step counts of a farm (pbrx farm status --help)\n";
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    *(args.empty() ? io.err : io.out) << usage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] != "status") {
    *io.err << "pbrx farm: unknown subcommand '" << args[0]
            << "' (the only one is status)\n";
    return 2;
  }
  FarmStatusFlags f;
  common::FlagParser parser("pbrx farm status");
  AddFarmStatusFlags(parser, &f);
  if (std::optional<int> rc =
          ParseCommand(parser, "farm status",
                       std::vector<std::string>(args.begin() + 1, args.end()),
                       *io.out, *io.err, std::getenv)) {
    return *rc;
  }
  const std::string& farm = f.farm;
  const bool json = f.json;
  const FarmCredentials& credentials = f.credentials;
  if (farm.empty()) {
    return UsageError(*io.err, "farm status",
                      "give --farm grpc[s]://HOST:PORT or set PBRX_FARM");
  }
  if (!common::ChannelTarget(farm).ok()) {
    return UsageError(
        *io.err, "farm status",
        "--farm " + farm + ": expected grpc://HOST:PORT or grpcs://HOST:PORT");
  }
  auto channel = Connect(farm, credentials, absl::Seconds(10));
  if (!channel.ok()) {
    *io.err << "pbrx farm: " << channel.status().message() << "\n";
    return ConnectExitCode(channel.status());
  }
  auto stub = fv::FarmStatus::NewStub(*channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  fv::GetStatusResponse st;
  grpc::Status s = stub->GetStatus(&ctx, fv::GetStatusRequest(), &st);
  if (!s.ok()) {
    *io.err << "pbrx farm: status from " << farm
            << " failed: " << s.error_message() << "\n";
    return 3;
  }
  if (json) {
    *io.out << coordinator::FarmStatusJson(st);
    return 0;
  }
  *io.out << "farm " << farm << ": " << st.executors_size() << " executor(s), "
          << st.queued() << " queued, " << st.running() << " running, "
          << st.builds_in_flight() << " build(s) in flight\n";
  *io.out << "cache: " << st.cache() << "\n";
  // Names, dirs and messages come from executors and clients: no control
  // characters reach the terminal.
  auto shown = [](const std::string& s) {
    std::string out = s;
    for (char& c : out) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    return out;
  };
  for (const auto& e : st.executors()) {
    *io.out << absl::StrFormat("  %-20s %d/%d busy  up %ds  %s\n",
                               shown(e.name()), e.busy(), e.slots(),
                               e.connected_seconds(), shown(e.peer()));
    for (const auto& a : e.running()) {
      *io.out << absl::StrFormat(
          "      %s %s for %ds (%s%s)\n", shown(a.kind()),
          shown(a.action()).substr(0, 12), a.seconds(), shown(a.build()),
          a.attempt() > 1 ? absl::StrCat(", attempt ", a.attempt()) : "");
    }
  }
  *io.out << "steps since start: " << st.actions_cache_hits() << " cache hits, "
          << st.actions_joined() << " joined, " << st.actions_executed()
          << " executed, " << st.actions_failed() << " failed, "
          << st.actions_retried() << " retried\n";
  for (const auto& q : st.queue())
    *io.out << "queued: " << q.queued() << " for " << shown(q.group()) << "\n";
  for (const auto& b : st.builds()) {
    *io.out << "build " << shown(b.id()) << " from " << shown(b.client())
            << ", " << b.seconds() << "s:\n";
    for (const auto& p : b.projects()) {
      *io.out << "  " << shown(p.dir()) << ": " << p.state()
              << (p.current().empty() ? "" : " " + shown(p.current())) << " ("
              << p.steps_cached() << " cached, " << p.steps_run() << " run)\n";
    }
  }
  if (st.failures_size() > 0) *io.out << "last failures:\n";
  for (const auto& f : st.failures()) {
    std::vector<std::string> lines = absl::StrSplit(f.message(), '\n');
    *io.out << "  " << f.seconds_ago() << "s ago, " << shown(f.build()) << " "
            << shown(f.dir()) << ": " << shown(lines[0]) << "\n";
    size_t from = lines.size() > 6 ? lines.size() - 5 : 1;
    for (size_t i = from; i < lines.size(); ++i)
      *io.out << "      " << shown(lines[i]) << "\n";
  }
  return 0;
}

}  // namespace pbrx::client
