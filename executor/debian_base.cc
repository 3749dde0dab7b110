#include "executor/debian_base.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "common/oci/layer.h"
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

absl::StatusOr<Digest> DebianBaseKey(const DebianBaseSpec& spec,
                                     cache::BlobStore& cas) {
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
  std::string cmd =
      absl::StrCat("mmdebstrap --quiet --variant=", spec.variant,
                   " --include=", absl::StrJoin(spec.include, ","), " ",
                   spec.suite, " ", rootfs, " > ", log, " 2>&1");
  absl::Status status = [&]() -> absl::Status {
    if (std::system(cmd.c_str()) != 0) {
      std::string tail;
      std::unique_ptr<FILE, int (*)(FILE*)> f(
          popen(("tail -n 15 " + log).c_str(), "r"), pclose);
      std::array<char, 4096> buf;
      size_t n;
      while ((n = fread(buf.data(), 1, buf.size(), f.get())) > 0)
        tail.append(buf.data(), n);
      return absl::UnavailableError(
          absl::StrCat("building the ", spec.suite,
                       " base with mmdebstrap failed: ", cmd, "\n", tail));
    }
    // Byte-code that does not depend on file times: the layer's mtimes are
    // fixed, which would make the timestamp-based .pyc files stale.
    std::string compile = absl::StrCat(
        "chroot ", rootfs,
        " python3 -m compileall -q -f --invalidation-mode unchecked-hash "
        "/usr/lib/python3.11 /usr/lib/python3/dist-packages >> ",
        log, " 2>&1");
    if (std::system(compile.c_str()) != 0) {
      return absl::UnavailableError(
          absl::StrCat("byte-compiling the base failed: ", compile));
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
