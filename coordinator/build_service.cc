#include "coordinator/build_service.h"

#include <unistd.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "cache/directory_tree.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "common/oci/image_layout.h"
#include "common/parallel.h"
#include "common/status_macros.h"
#include "coordinator/build_inputs.h"
#include "coordinator/build_report.h"
#include "coordinator/farm_executor.h"
#include "coordinator/image_sink.h"

namespace pbrx::coordinator {
namespace {

namespace fv = pbrx::farm::v1;
using common::Digest;

// The digest `proto` names, present in the CAS (the client uploaded it
// first). INVALID_ARGUMENT / FAILED_PRECONDITION naming `what` otherwise.
absl::StatusOr<Digest> UploadedDigest(
    const build::bazel::remote::execution::v2::Digest& proto,
    cache::BlobStore& cas, const std::string& what) {
  absl::StatusOr<Digest> d = Digest::FromProto(proto);
  if (!d.ok()) return common::Annotate(d.status(), what);
  ASSIGN_OR_RETURN(std::vector<Digest> missing, cas.FindMissing({*d}));
  if (!missing.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " ", d->ToString(), " is not in the CAS"));
  }
  return *d;
}

// Whether the client went away, asked of gRPC at most every 100 ms: a sync
// call's IsCancelled polls its completion queue, and a build's steps ask
// before and while each waits (thousands a second across a farm).
class CancelProbe {
 public:
  CancelProbe(grpc::ServerContext* context, common::Clock* clock)
      : context_(context), clock_(clock) {}

  bool Cancelled() {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return true;
    const absl::Time now = clock_->Now();
    if (now < next_check_) return false;
    next_check_ = now + absl::Milliseconds(100);
    cancelled_ = context_->IsCancelled();
    return cancelled_;
  }

 private:
  grpc::ServerContext* context_;
  common::Clock* clock_;
  absl::Mutex mu_;
  absl::Time next_check_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

grpc::Status BuildService::BuildImages(grpc::ServerContext* context,
                                       const fv::BuildRequest* request,
                                       grpc::ServerWriter<fv::BuildEvent>* w) {
  if (absl::Status denied =
          common::Authorize(options_.authorizer, *context,
                            common::Permission::kExecute, "Build.BuildImages");
      !denied.ok()) {
    return common::ToGrpcStatus(denied);
  }
  absl::StatusOr<common::StreamLimiter::Slot> slot =
      common::StreamLimiter::AcquireFrom(options_.streams, context->peer(),
                                         "Build.BuildImages");
  if (!slot.ok()) return common::ToGrpcStatus(slot.status());
  if (request->projects_size() == 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "BuildRequest names no project");
  }
  for (const auto& p : request->projects()) {
    if (!Digest::FromProto(p.root()).ok() || p.dir().empty()) {
      return grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("project '", p.dir(), "': missing dir or bad root"));
    }
  }
  // The same checks as the CLI's flags, before any field becomes an
  // argument or a path.
  BuildInputs inputs;
  inputs.base = request->base().empty() ? "debian:bookworm" : request->base();
  inputs.base_ref = request->base_ref();
  inputs.mirror = request->mirror();
  inputs.base_release = request->base_release();
  inputs.platform = request->platform();
  inputs.prefix = request->prefix();
  inputs.tags.assign(request->tags().begin(), request->tags().end());
  inputs.index_url = request->index_url();
  inputs.extra_index_urls.assign(request->extra_index_urls().begin(),
                                 request->extra_index_urls().end());
  inputs.trusted_hosts.assign(request->trusted_hosts().begin(),
                              request->trusted_hosts().end());
  inputs.pbr_version = request->pbr_version();
  inputs.source_date_epoch = request->source_date_epoch();
  for (const fv::HostCredential& c : request->index_credentials()) {
    inputs.index_credentials.push_back(
        {absl::AsciiStrToLower(c.host()), c.username(), c.password()});
  }
  if (absl::Status s =
          ExtractIndexCredentials(&inputs, FieldNames::kBuildRequest);
      !s.ok()) {
    return common::ToGrpcStatus(s);
  }
  if (absl::Status s = ValidateBuildInputs(inputs, FieldNames::kBuildRequest);
      !s.ok()) {
    return common::ToGrpcStatus(s);
  }
  const std::string id = absl::StrCat("build-", getpid(), "-", next_build_++);
  metrics_->BuildStarted();
  struct Finish {
    CoordinatorMetrics* m;
    ~Finish() { m->BuildFinished(); }
  } finish{metrics_};

  absl::Mutex write_mu;
  auto send = [&](const fv::BuildEvent& e) {
    absl::MutexLock lock(&write_mu);
    w->Write(e);
  };

  BuildOptions options;
  options.prefix = request->prefix();
  options.tags.assign(request->tags().begin(), request->tags().end());
  options.index_url = inputs.index_url;
  options.extra_index_urls = inputs.extra_index_urls;
  options.trusted_hosts = inputs.trusted_hosts;
  options.index_credentials = inputs.index_credentials;
  options.source_date_epoch = request->source_date_epoch();
  options.pbr_version = request->pbr_version();
  options.base = request->base().empty() ? "debian:bookworm" : request->base();
  options.builder_id = "urn:pbrx:builder:farm";
  options.mirror = request->mirror();
  options.base_release = request->base_release();
  options.platform = request->platform();
  for (const std::string& p : request->pinned()) {
    if (p != "prefix" && p != "tags") {
      return grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          "pinned: '" + p.substr(0, 64) + "' is not a setting (prefix, tags)");
    }
    options.pinned.insert(p);
  }
  absl::Status setup = [&]() -> absl::Status {
    // Inputs are read from the CAS by digest; nothing touches a disk here.
    if (request->has_find_links()) {
      ASSIGN_OR_RETURN(
          options.find_links_root,
          UploadedDigest(request->find_links(), *cas_, "find-links tree"));
    }
    for (const auto& c : request->constraints()) {
      ASSIGN_OR_RETURN(
          Digest d,
          UploadedDigest(c.digest(), *cas_,
                         absl::StrCat("constraints file ", c.name())));
      options.constraints.push_back(c.name());
      options.constraint_blobs.push_back(d);
    }
    if (absl::StartsWith(options.base, "oci:") ||
        absl::StartsWith(options.base, "docker://")) {
      if (!request->has_base_layout()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "an ", options.base.substr(0, options.base.find(':') + 1),
            " base needs its layout uploaded (base_layout)"));
      }
      ASSIGN_OR_RETURN(
          options.base_layout_root,
          UploadedDigest(request->base_layout(), *cas_, "the base layout"));
      options.base_ref = request->base_ref();
    } else if (!absl::StartsWith(options.base, "debian:")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "base ", options.base,
          ": expected debian:SUITE, oci: or docker://REF@sha256:HEX"));
    }
    return absl::OkStatus();
  }();
  if (!setup.ok()) return common::ToGrpcStatus(setup);

  const absl::Time deadline = clock_->Now() + options_.build_timeout;
  CancelProbe cancel(context, clock_);
  FarmExecutor executor(
      scheduler_, cas_, ac_, metrics_, id, [this, &cancel, deadline] {
        if (cancel.Cancelled())
          return absl::CancelledError("the build was cancelled");
        if (clock_->Now() > deadline) {
          return absl::DeadlineExceededError(
              absl::StrCat("the build ran past --build-timeout ",
                           absl::FormatDuration(options_.build_timeout)));
        }
        return absl::OkStatus();
      });
  options.executor = &executor;
  // Images are config + manifest blobs in the CAS; their layers are step
  // outputs, already there. The client copies what it lacks.
  CasImageSink images(cas_);
  options.images = &images;
  const int n = request->projects_size();
  std::vector<std::string> dirs(n);
  std::vector<absl::StatusOr<ProjectBuild>> builds(
      n, absl::UnknownError("not built"));
  BuildTracker* tracker = options_.tracker;
  if (tracker != nullptr) {
    std::vector<std::string> project_dirs;
    for (const auto& p : request->projects()) project_dirs.push_back(p.dir());
    tracker->Started(id, context->peer(), project_dirs, clock_->Now());
  }
  struct Untrack {
    BuildTracker* t;
    std::string id;
    ~Untrack() {
      if (t != nullptr) t->Finished(id);
    }
  } untrack{tracker, id};
  std::atomic<int> next{0};
  auto build_one = [&](int i) {
    const fv::ProjectSource& p = request->projects(i);
    dirs[i] = p.dir();
    const std::string client_path = p.path().empty() ? p.dir() : p.path();
    BuildOptions o = options;
    o.on_step = [&send, i, tracker, &id](const StepReport& s) {
      fv::BuildEvent e;
      fv::StepEvent* st = e.mutable_step();
      st->set_project(i);
      st->set_kind(s.kind);
      st->set_name(s.name);
      st->set_cached(s.cached);
      st->set_joined(s.joined);
      st->set_seconds(s.seconds);
      st->set_failed(s.failed);
      send(e);
      if (tracker != nullptr) tracker->StepFinished(id, i, s);
    };
    o.on_step_start = [&send, i, tracker, &id](const std::string& kind,
                                               const std::string& name) {
      fv::BuildEvent e;
      fv::StepEvent* st = e.mutable_step();
      st->set_project(i);
      st->set_kind(kind);
      st->set_name(name);
      st->set_started(true);
      send(e);
      if (tracker != nullptr) tracker->StepStarted(id, i, kind, name);
    };
    // Read from the CAS where the client uploaded it, never staged here;
    // messages name the client's directory.
    o.source_root = Digest::FromProto(p.root()).value();  // checked above
    absl::StatusOr<ProjectBuild> b = pipeline_.Build(client_path, o);
    builds[i] = b;
    if (tracker != nullptr)
      tracker->ProjectFinished(id, i, b.status(), clock_->Now());
    fv::BuildEvent e;
    fv::ProjectDone* d = e.mutable_project();
    d->set_project(i);
    if (!b.ok()) {
      d->set_error(std::string(b.status().message()));
    } else {
      d->set_name(b->name);
      d->set_version(b->version);
      auto [cached, run] = StepCounts(*b);
      d->set_steps_cached(cached);
      d->set_steps_run(run);
      for (const BuiltImage& img : b->images) {
        fv::BuiltImage* out = d->add_images();
        out->set_ref(img.ref);
        *out->mutable_manifest() = img.manifest.ToProto();
        out->set_size(img.size);
        if (img.sbom != Digest::Empty())
          *out->mutable_sbom() = img.sbom.ToProto();
        if (img.provenance != Digest::Empty())
          *out->mutable_provenance() = img.provenance.ToProto();
      }
    }
    send(e);
  };
  int parallel = request->jobs() > 0
                     ? std::min(request->jobs(), options_.max_parallel_projects)
                     : options_.max_parallel_projects;
  {
    std::vector<common::ScopedThread> threads;
    for (int t = 0; t < std::min(parallel, n); ++t) {
      threads.emplace_back([&] {
        for (int i = next++; i < n; i = next++) build_one(i);
      });
    }
  }
  if (context->IsCancelled()) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
  }
  fv::BuildEvent done;
  done.mutable_done()->set_report_json(BuildReportJson(dirs, builds));
  send(done);
  return grpc::Status::OK;
}

}  // namespace pbrx::coordinator
