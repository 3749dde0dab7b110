#include "executor/action_runner.h"

#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cache/directory_tree.h"
#include "common/beneath.h"
#include "common/credentials.h"
#include "common/missing_blobs.h"
#include "common/oci/layer.h"
#include "common/status_macros.h"
#include "common/step_tool.h"
#include "executor/layer_store.h"
#include "google/protobuf/util/time_util.h"

namespace pbrx::executor {
namespace {

// Bytes of regular files at or below `path`, symlinks not followed.
int64_t OutputBytes(const std::string& path) {
  int64_t total = 0;
  common::WalkTree(path, [&](const struct stat& st) {
    if (S_ISREG(st.st_mode)) total += st.st_size;
  });
  return total;
}

namespace re = build::bazel::remote::execution::v2;
using common::Digest;

// Bytes available to unprivileged writers under `path` (-1 if unknown).
int64_t FreeBytes(const std::string& path) {
  struct statvfs vfs;
  if (statvfs(path.c_str(), &vfs) != 0) return -1;
  return static_cast<int64_t>(vfs.f_bavail) *
         static_cast<int64_t>(vfs.f_frsize);
}

bool SafeRelativePath(const std::string& p) {
  if (p.empty() || p.front() == '/') return false;
  for (absl::string_view part : absl::StrSplit(p, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

absl::Status MkdirParents(const std::string& base, const std::string& rel) {
  size_t pos = 0;
  while ((pos = rel.find('/', pos)) != std::string::npos) {
    std::string dir = base + "/" + rel.substr(0, pos);
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::InternalError(
          absl::StrCat("cannot create ", dir, ": ", std::strerror(errno)));
    }
    ++pos;
  }
  return absl::OkStatus();
}

google::protobuf::Timestamp ToProto(absl::Time t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      absl::ToUnixNanos(t));
}

}  // namespace

absl::Status ValidateLimitFlags(const ActionRunnerOptions& o) {
  if (o.memory_bytes < (int64_t{16} << 20)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--action-memory ", o.memory_bytes, " bytes is below the minimum 16M"));
  }
  if (o.max_pids < 16 || o.max_pids > 4194304) {
    return absl::InvalidArgumentError(
        absl::StrCat("--action-pids ", o.max_pids, " is outside 16..4194304"));
  }
  if (o.max_timeout < absl::Seconds(1) || o.max_timeout > absl::Hours(24 * 7)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--action-timeout-max ", absl::FormatDuration(o.max_timeout),
        " is outside 1s..168h"));
  }
  if (o.tmp_bytes < (int64_t{1} << 20)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--action-tmp-size ", o.tmp_bytes, " bytes is below the minimum 1M"));
  }
  return absl::OkStatus();
}

absl::StatusOr<common::ActionOutcome> ActionRunner::Run(
    const Digest& action_digest, const common::ExecuteOptions& options) {
  const bool skip_cache_lookup = options.skip_cache_lookup;
  absl::Time queued = clock_->Now();
  // The caller's copies (the lease's) when they are the digests' messages;
  // else the CAS's.
  ASSIGN_OR_RETURN(re::Action action,
                   cache::KnownOrReadProtoBlob(*cas_, action_digest.ToProto(),
                                               options.action, "action"));
  common::ActionOutcome outcome;
  if (!skip_cache_lookup && !action.do_not_cache()) {
    absl::StatusOr<re::ActionResult> hit = ac_->Get(action_digest);
    if (hit.ok()) {
      outcome.result = std::move(*hit);
      outcome.cached = true;
      return outcome;
    }
    if (hit.status().code() != absl::StatusCode::kNotFound) return hit.status();
  }
  ASSIGN_OR_RETURN(re::Command command,
                   cache::KnownOrReadProtoBlob(*cas_, action.command_digest(),
                                               options.command, "command"));
  if (command.arguments().empty())
    return absl::InvalidArgumentError("command has no arguments");
  if (options_.min_free_bytes > 0) {
    int64_t free_bytes = FreeBytes(options_.work_root);
    if (free_bytes >= 0 && free_bytes < options_.min_free_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the work dir ", options_.work_root, " has ",
                       free_bytes >> 20, " MiB free, less than the ",
                       options_.min_free_bytes >> 20, " MiB required"));
    }
  }
  ASSIGN_OR_RETURN(Digest input_root,
                   Digest::FromProto(action.input_root_digest()));

  SandboxSpec spec;
  std::vector<Digest> rootfs_layers;
  bool capture_rootfs = false;
  bool step_tools = false;
  bool debian_base = false;
  const re::Platform& platform =
      action.has_platform() ? action.platform() : command.platform();
  for (const auto& p : platform.properties()) {
    if (p.name() == "network" &&
        (p.value() == "none" || p.value() == "egress")) {
      spec.network = p.value() == "egress";
    } else if (p.name() == "capture" &&
               (p.value() == "outputs" || p.value() == "rootfs-diff")) {
      capture_rootfs = p.value() == "rootfs-diff";
    } else if (p.name() == common::kStepToolsProperty &&
               p.value() == common::kStepToolsVersion &&
               !options_.step_tool_binary.empty()) {
      step_tools = true;
    } else if (p.name() == common::kDebianBaseProperty &&
               p.value() == common::kDebianBaseBuilder &&
               options_.debian_base_builder) {
      debian_base = true;
    } else if (p.name() == "platform" &&
               std::find(options_.platforms.begin(), options_.platforms.end(),
                         p.value()) != options_.platforms.end()) {
      // Run as any step: binfmt handlers (or the hardware) run its binaries.
    } else if (p.name() == "rootfs" && options_.layers != nullptr) {
      for (absl::string_view d :
           absl::StrSplit(p.value(), ',', absl::SkipEmpty())) {
        absl::StatusOr<Digest> layer = Digest::Parse(d);
        if (!layer.ok())
          return common::Annotate(layer.status(), "platform property rootfs");
        rootfs_layers.push_back(*layer);
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unsupported platform property ", p.name(), "=", p.value()));
    }
  }
  if (capture_rootfs && rootfs_layers.empty()) {
    return absl::InvalidArgumentError("capture=rootfs-diff needs a rootfs");
  }
  if (step_tools && !rootfs_layers.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(common::kStepToolsProperty, "=", common::kStepToolsVersion,
                     " runs on the host's tools, not on a rootfs"));
  }
  if (step_tools)
    spec.ro_binds[options_.step_tool_binary] = common::kStepToolPath;
  if (debian_base) {
    // The extra capabilities are for pbrx's own tool only, never for a
    // command a client wrote.
    const std::vector<std::string> tool = {common::kStepToolPath,
                                           common::kStepToolMarker,
                                           common::kDebianBaseTool};
    if (!step_tools || !spec.network || command.arguments_size() < 3 ||
        !std::equal(tool.begin(), tool.end(), command.arguments().begin())) {
      return absl::InvalidArgumentError(absl::StrCat(
          common::kDebianBaseProperty, "=", common::kDebianBaseBuilder,
          " runs only the step tool ", common::kDebianBaseTool, " (with ",
          common::kStepToolsProperty, "=", common::kStepToolsVersion,
          " and network=egress)"));
    }
    spec.package_manager = true;
    spec.chroot = true;
  }
  if (!command.working_directory().empty() &&
      !SafeRelativePath(command.working_directory())) {
    return absl::InvalidArgumentError(absl::StrCat("working_directory '",
                                                   command.working_directory(),
                                                   "' is not relative"));
  }
  std::vector<std::string> outputs(command.output_files().begin(),
                                   command.output_files().end());
  outputs.insert(outputs.end(), command.output_directories().begin(),
                 command.output_directories().end());
  outputs.insert(outputs.end(), command.output_paths().begin(),
                 command.output_paths().end());
  for (const std::string& o : outputs) {
    if (!SafeRelativePath(o)) {
      return absl::InvalidArgumentError(
          absl::StrCat("output path '", o, "' is not relative"));
    }
  }

  // A fresh directory: run/{work, stdout, stderr}.
  std::string run_dir = absl::StrCat(options_.work_root, "/", getpid(), "-",
                                     next_id_.fetch_add(1));
  std::string work = run_dir + "/work";
  if (mkdir(run_dir.c_str(), 0755) != 0 || mkdir(work.c_str(), 0755) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot create ", work, ": ", std::strerror(errno)));
  }
  absl::Status status = [&]() -> absl::Status {
    absl::Time start = clock_->Now();
    RETURN_IF_ERROR(cache::StageDirectory(input_root, *cas_, work));
    std::string cwd = work;
    if (!command.working_directory().empty())
      cwd += "/" + command.working_directory();
    for (const std::string& o : outputs) RETURN_IF_ERROR(MkdirParents(cwd, o));
    // Declared before the mount: the layers stay pinned until it is gone.
    std::optional<LayerPins> pins;
    if (options_.layers != nullptr) pins.emplace(options_.layers);
    std::unique_ptr<RootfsMount> rootfs;
    std::string upper = run_dir + "/upper";
    if (!rootfs_layers.empty()) {
      std::vector<std::string> dirs;
      // overlayfs cannot stack one directory twice. A layer that appears
      // again higher up re-applies the same content there, so only its
      // topmost occurrence is mounted (e.g. two empty layers).
      std::vector<Digest> unique;
      for (auto it = rootfs_layers.rbegin(); it != rootfs_layers.rend(); ++it) {
        if (std::find(unique.begin(), unique.end(), *it) == unique.end())
          unique.push_back(*it);
      }
      std::reverse(unique.begin(), unique.end());
      ASSIGN_OR_RETURN(std::string stubs, options_.layers->Stubs());
      dirs.push_back(stubs);
      for (const Digest& l : unique) {
        ASSIGN_OR_RETURN(std::string dir, options_.layers->Get(l, &*pins));
        dirs.push_back(dir);
      }
      ASSIGN_OR_RETURN(std::string mount_points,
                       options_.layers->MountPoints());
      dirs.push_back(mount_points);
      std::string root = run_dir + "/root",
                  overlay_work = run_dir + "/overlay-work";
      for (const std::string& d : {root, upper, overlay_work}) {
        if (mkdir(d.c_str(), 0755) != 0) {
          return absl::InternalError(
              absl::StrCat("cannot create ", d, ": ", std::strerror(errno)));
        }
      }
      ASSIGN_OR_RETURN(rootfs,
                       capture_rootfs
                           ? RootfsMount::Mount(dirs, root, upper, overlay_work)
                           : RootfsMount::Mount(dirs, root));
      spec.rootfs = root;
      spec.writable_root = capture_rootfs;
      spec.package_manager = capture_rootfs;
    }
    absl::Time staged = clock_->Now();

    spec.argv.assign(command.arguments().begin(), command.arguments().end());
    for (const auto& v : command.environment_variables())
      spec.env[v.name()] = v.value();
    spec.work_dir = work;
    spec.working_directory = command.working_directory();
    spec.stdout_path = run_dir + "/stdout";
    spec.stderr_path = run_dir + "/stderr";
    spec.scratch_dir = run_dir;
    spec.timeout =
        std::min(action.has_timeout() && (action.timeout().seconds() > 0 ||
                                          action.timeout().nanos() > 0)
                     ? absl::Seconds(action.timeout().seconds()) +
                           absl::Nanoseconds(action.timeout().nanos())
                     : options_.default_timeout,
                 options_.max_timeout);
    spec.memory_bytes = options_.memory_bytes;
    spec.max_pids = options_.max_pids;
    spec.tmp_bytes = options_.tmp_bytes;
    spec.cancel = options.cancel;
    // Index credentials: a netrc made from bytes, outside the key.
    if (!options.credentials.empty()) {
      spec.data_files["/tmp/.netrc"] = common::RenderNetrc(options.credentials);
      spec.env["NETRC"] = "/tmp/.netrc";
    }
    ASSIGN_OR_RETURN(SandboxResult run, sandbox_->Run(spec));
    for (const std::string* log : {&spec.stdout_path, &spec.stderr_path}) {
      RETURN_IF_ERROR(common::RedactSecretsInFile(*log, options.credentials));
    }
    absl::Time executed = clock_->Now();
    if (rootfs != nullptr) RETURN_IF_ERROR(rootfs->Unmount());
    if (run.cancelled) {
      return absl::CancelledError("the execution was cancelled");
    }
    if (!run.ok() && options_.min_free_bytes > 0) {
      // A command that failed on a full disk says nothing about the action.
      int64_t free_bytes = FreeBytes(options_.work_root);
      if (free_bytes >= 0 && free_bytes < (int64_t{1} << 20)) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "the work dir ", options_.work_root,
            " filled up while the command ran (", run.Describe(), ")"));
      }
    }

    re::ActionResult& result = outcome.result;
    result.set_exit_code(run.exit_code >= 0 ? run.exit_code
                                            : 128 + run.term_signal);
    if (options_.max_output_bytes > 0) {
      int64_t total =
          OutputBytes(spec.stdout_path) + OutputBytes(spec.stderr_path);
      for (const std::string& o : outputs) {
        std::string rel = command.working_directory().empty()
                              ? o
                              : command.working_directory() + "/" + o;
        if (cache::CheckBeneath(work, rel).ok())
          total += OutputBytes(cwd + "/" + o);
      }
      if (total > options_.max_output_bytes) {
        return absl::InvalidArgumentError(
            absl::StrCat("the action's outputs are ", total,
                         " bytes, more than the executor's limit of ",
                         options_.max_output_bytes, " (--max-output-bytes)"));
      }
    }
    // stdout, stderr and the output files go up together (one FindMissing,
    // batched writes); output directories each as a tree.
    std::vector<std::string> upload = {spec.stdout_path, spec.stderr_path};
    for (const std::string& o : outputs) {
      // Never through a symlink the command made: `out -> /` with an output
      // `out/etc/hostname` must not upload the host's file.
      std::string rel = command.working_directory().empty()
                            ? o
                            : command.working_directory() + "/" + o;
      absl::Status beneath = cache::CheckBeneath(work, rel);
      if (beneath.code() == absl::StatusCode::kNotFound) continue;
      if (!beneath.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("output path '", o, "': ", beneath.message()));
      }
      std::string path = cwd + "/" + o;
      struct stat st;
      if (lstat(path.c_str(), &st) != 0) continue;  // not produced
      if (S_ISREG(st.st_mode)) {
        upload.push_back(path);
        auto* f = result.add_output_files();
        f->set_path(o);
        f->set_is_executable((st.st_mode & 0111) != 0);
      } else if (S_ISDIR(st.st_mode)) {
        ASSIGN_OR_RETURN(cache::UploadedTree tree,
                         cache::UploadDirectory(path, *cas_));
        std::string bytes = tree.tree.SerializeAsString();
        ASSIGN_OR_RETURN(Digest td, cache::WriteBlob(*cas_, bytes));
        auto* d = result.add_output_directories();
        d->set_path(o);
        *d->mutable_tree_digest() = td.ToProto();
      } else if (S_ISLNK(st.st_mode)) {
        std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
        ssize_t n = readlink(path.c_str(), target.data(), target.size());
        if (n < 0) continue;
        target.resize(static_cast<size_t>(n));
        auto* l = result.add_output_symlinks();
        l->set_path(o);
        l->set_target(target);
      }
    }
    ASSIGN_OR_RETURN(std::vector<Digest> uploaded,
                     cache::UploadFiles(upload, *cas_));
    *result.mutable_stdout_digest() = uploaded[0].ToProto();
    *result.mutable_stderr_digest() = uploaded[1].ToProto();
    for (int i = 0; i < result.output_files_size(); ++i) {
      *result.mutable_output_files(i)->mutable_digest() =
          uploaded[static_cast<size_t>(i) + 2].ToProto();
    }
    if (capture_rootfs && run.ok()) {
      // The work dir is the step's own; only the root's changes make the layer.
      common::oci::LayerOptions lo;
      lo.mtime = options_.layer_mtime;
      lo.overlay_upper = true;
      lo.exclude_prefixes = common::oci::PackageNoisePrefixes();
      lo.exclude_prefixes.push_back("work");
      lo.exclude_prefixes.push_back("etc/resolv.conf");  // bound in for egress
      ASSIGN_OR_RETURN(
          common::oci::Layer layer,
          common::oci::WriteLayer(upper, run_dir + "/rootfs-diff.tar.gz", lo));
      ASSIGN_OR_RETURN(Digest ld, cache::UploadFile(layer.path, *cas_));
      auto* f = result.add_output_files();
      f->set_path("rootfs-diff.tar.gz");
      *f->mutable_digest() = ld.ToProto();
      ASSIGN_OR_RETURN(
          Digest dd,
          cache::WriteBlob(*cas_, common::oci::DiffIdText(layer.diff_id)));
      auto* g = result.add_output_files();
      g->set_path("rootfs-diff.diff_id");
      *g->mutable_digest() = dd.ToProto();
    }
    auto* md = result.mutable_execution_metadata();
    md->set_worker(options_.worker_name);
    *md->mutable_queued_timestamp() = ToProto(queued);
    *md->mutable_worker_start_timestamp() = ToProto(start);
    *md->mutable_input_fetch_start_timestamp() = ToProto(start);
    *md->mutable_input_fetch_completed_timestamp() = ToProto(staged);
    *md->mutable_execution_start_timestamp() = ToProto(staged);
    *md->mutable_execution_completed_timestamp() = ToProto(executed);
    *md->mutable_worker_completed_timestamp() = ToProto(clock_->Now());

    if (run.timed_out) {
      outcome.status = absl::DeadlineExceededError(run.Describe());
      outcome.limit_exceeded = "timeout";
    } else if (run.memory_exceeded ||
               (run.pids_exceeded && result.exit_code() != 0)) {
      // The result is kept; the status names the limit that ended it.
      outcome.status = absl::ResourceExhaustedError(run.Describe());
      outcome.limit_exceeded = run.memory_exceeded ? "memory" : "pids";
    }
    // Only clean, successful runs become cache entries.
    if (outcome.status.ok() && result.exit_code() == 0 &&
        !action.do_not_cache() && options_.record_in_action_cache) {
      RETURN_IF_ERROR(ac_->Update(action_digest, result));
    }
    return absl::OkStatus();
  }();
  if (!status.ok() && options_.min_free_bytes > 0 &&
      status.code() != absl::StatusCode::kResourceExhausted &&
      status.code() != absl::StatusCode::kCancelled) {
    // Staging inputs or extracting layers on a full disk fails in many
    // ways (ENOSPC, then ENOENT for what could not be created): that says
    // nothing about the action, it is this executor's fault (a farm runs
    // it elsewhere).
    int64_t free_bytes = FreeBytes(options_.work_root);
    if (free_bytes >= 0 && free_bytes < options_.min_free_bytes) {
      status = absl::ResourceExhaustedError(absl::StrCat(
          "the work dir ", options_.work_root, " is full (", free_bytes >> 20,
          " MiB free) while staging the action: ", status.message()));
    }
  }
  if (!options_.keep_work_dirs) common::RemoveTree(run_dir).IgnoreError();
  if (!status.ok()) return status;
  return outcome;
}

}  // namespace pbrx::executor
