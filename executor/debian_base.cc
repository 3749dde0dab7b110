#include "executor/debian_base.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <memory>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "common/oci/layer.h"
#include "common/process.h"
#include "common/status_macros.h"
#include "executor/action_runner.h"
#include "executor/input_tree.h"

namespace pbrx::executor {

const char kBaseProbeScript[] = R"PY(
import json, platform, sys, sysconfig
info = {"os_release": {}}
try:
    for line in open("/etc/os-release"):
        k, _, v = line.strip().partition("=")
        if k:
            info["os_release"][k] = v.strip('"')
except OSError:
    pass
info["python"] = sys.executable
info["python_version"] = platform.python_version()
info["paths"] = sysconfig.get_paths()
try:
    from pip._vendor.packaging import tags
    info["wheel_tags"] = [str(t) for t in tags.sys_tags()]
except Exception as e:
    info["wheel_tags"] = []
    info["wheel_tags_error"] = repr(e)
json.dump(info, open("probe.json", "w"), indent=1, sort_keys=True)
)PY";

namespace re = build::bazel::remote::execution::v2;
using common::Digest;

absl::Status ValidateDebianBaseSpec(const DebianBaseSpec& spec) {
  static const std::regex kSuite("[a-z][a-z0-9.+-]{0,63}");
  static const std::regex kPackage("[a-z0-9][a-z0-9+.-]{0,127}");
  static const char* const kVariants[] = {
      "extract", "custom", "essential", "apt",         "required",
      "minbase", "buildd", "important", "debootstrap", "standard"};
  if (!std::regex_match(spec.suite, kSuite)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Debian suite '", spec.suite,
                     "' is not a suite name ([a-z][a-z0-9.+-], at most 64)"));
  }
  if (std::find(std::begin(kVariants), std::end(kVariants), spec.variant) ==
      std::end(kVariants)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", spec.variant, "' is not an mmdebstrap variant"));
  }
  for (const std::string& p : spec.include) {
    if (!std::regex_match(p, kPackage)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", p, "' is not a Debian package name"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Digest> DebianBaseKey(const DebianBaseSpec& spec,
                                     cache::BlobStore& cas) {
  RETURN_IF_ERROR(ValidateDebianBaseSpec(spec));
  re::Command cmd;
  for (const std::string& a :
       {std::string("pbrx-base"), std::string("mmdebstrap"),
        std::string("pyc=unchecked-hash"), std::string("no-work-dir"),
        "--variant=" + spec.variant,
        "--include=" + absl::StrJoin(spec.include, ","), spec.suite,
        absl::StrCat("--mtime=", spec.mtime)}) {
    cmd.add_arguments(a);
  }
  cmd.add_output_files("base.tar.gz");
  cmd.add_output_files("base.diff_id");
  ASSIGN_OR_RETURN(Digest cmd_digest,
                   cache::WriteBlob(cas, cmd.SerializeAsString()));
  ASSIGN_OR_RETURN(Digest empty_dir,
                   cache::WriteBlob(cas, re::Directory().SerializeAsString()));
  re::Action action;
  *action.mutable_command_digest() = cmd_digest.ToProto();
  *action.mutable_input_root_digest() = empty_dir.ToProto();
  return cache::WriteBlob(cas, action.SerializeAsString());
}

absl::StatusOr<BaseImage> EnsureDebianBase(const DebianBaseSpec& spec,
                                           cache::BlobStore& cas,
                                           cache::ActionCache& ac,
                                           const std::string& scratch_dir) {
  BaseImage base;
  ASSIGN_OR_RETURN(base.key, DebianBaseKey(spec, cas));
  absl::StatusOr<re::ActionResult> hit = ac.Get(base.key);
  if (hit.ok() && hit->output_files_size() == 2) {
    ASSIGN_OR_RETURN(base.layer,
                     Digest::FromProto(hit->output_files(0).digest()));
    ASSIGN_OR_RETURN(Digest diff_blob,
                     Digest::FromProto(hit->output_files(1).digest()));
    ASSIGN_OR_RETURN(std::string diff_text, cache::ReadBlob(cas, diff_blob));
    ASSIGN_OR_RETURN(base.diff_id, common::oci::ParseDiffId(diff_text));
    // diff_id sizes are not recorded; only the hash is used in configs.
    base.cached = true;
    return base;
  }
  std::string dir = absl::StrCat(scratch_dir, "/base-", getpid());
  RemoveTree(dir).IgnoreError();
  std::string rootfs = dir + "/rootfs", log = dir + "/mmdebstrap.log";
  if (mkdir(dir.c_str(), 0755) != 0) {
    return absl::InternalError(absl::StrCat("cannot create ", dir));
  }
  // Host tools run from argv vectors with a clean environment: no text
  // from a request ever reaches a shell.
  common::ProcessOptions po;
  po.env = {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"HOME", "/root"},
      {"LANG", "C.UTF-8"},
      {"TMPDIR", dir}};
  po.log_path = log;
  po.timeout = absl::Minutes(30);
  const std::vector<std::string> argv = {
      "mmdebstrap",
      "--quiet",
      "--variant=" + spec.variant,
      "--include=" + absl::StrJoin(spec.include, ","),
      spec.suite,
      rootfs};
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(common::ProcessResult run, common::RunProcess(argv, po));
    if (!run.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "building the ", spec.suite, " base with mmdebstrap failed (",
          run.Describe(), "): ", absl::StrJoin(argv, " "), "\n",
          common::ReadTail(log, 15)));
    }
    // Byte-code that does not depend on file times: the layer's mtimes are
    // fixed, which would make the timestamp-based .pyc files stale.
    const std::vector<std::string> compile = {"chroot",
                                              rootfs,
                                              "python3",
                                              "-m",
                                              "compileall",
                                              "-q",
                                              "-f",
                                              "--invalidation-mode",
                                              "unchecked-hash",
                                              "/usr/lib/python3.11",
                                              "/usr/lib/python3/dist-packages"};
    ASSIGN_OR_RETURN(run, common::RunProcess(compile, po));
    if (!run.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "byte-compiling the base failed (", run.Describe(),
          "): ", absl::StrJoin(compile, " "), "\n", common::ReadTail(log, 15)));
    }
    // Device nodes are provided by the sandbox (and by container runtimes).
    RETURN_IF_ERROR(RemoveTree(rootfs + "/dev"));
    mkdir((rootfs + "/dev").c_str(), 0755);
    common::oci::LayerOptions lo;
    lo.mtime = spec.mtime;
    lo.exclude_prefixes = common::oci::PackageNoisePrefixes();
    ASSIGN_OR_RETURN(common::oci::Layer layer,
                     common::oci::WriteLayer(rootfs, dir + "/base.tar.gz", lo));
    ASSIGN_OR_RETURN(base.layer, UploadFile(layer.path, cas));
    base.diff_id = layer.diff_id;
    ASSIGN_OR_RETURN(
        Digest diff_blob,
        cache::WriteBlob(cas, common::oci::DiffIdText(layer.diff_id)));
    re::ActionResult result;
    auto* f = result.add_output_files();
    f->set_path("base.tar.gz");
    *f->mutable_digest() = base.layer.ToProto();
    auto* g = result.add_output_files();
    g->set_path("base.diff_id");
    *g->mutable_digest() = diff_blob.ToProto();
    return ac.Update(base.key, result);
  }();
  RemoveTree(dir).IgnoreError();
  if (!status.ok()) return status;
  return base;
}

}  // namespace pbrx::executor
