#include "common/base/debian_base.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <regex>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/beneath.h"
#include "common/process.h"
#include "common/status_macros.h"
#include "common/step_tool.h"

namespace pbrx::common::base {
namespace {

constexpr char kToolName[] = "debian-base";

// The interpreter's standard library directories of a Debian tree
// (usr/lib/python3.N), which compileall gets besides dist-packages.
std::vector<std::string> StdlibDirs(const std::string& rootfs) {
  std::vector<std::string> dirs;
  static const std::regex kStdlib("python3\\.[0-9]{1,3}");
  DIR* d = opendir((rootfs + "/usr/lib").c_str());
  if (d == nullptr) return dirs;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    struct stat st;
    if (std::regex_match(name, kStdlib) &&
        fstatat(dirfd(d), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISDIR(st.st_mode)) {
      dirs.push_back("/usr/lib/" + name);
    }
  }
  closedir(d);
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

}  // namespace

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
  if (spec.include.size() > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat(spec.include.size(), " packages to include: at most 256"));
  }
  for (const std::string& p : spec.include) {
    if (!std::regex_match(p, kPackage)) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", p, "' is not a Debian package name"));
    }
  }
  if (spec.mtime < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("mtime ", spec.mtime, " is before the epoch"));
  }
  RETURN_IF_ERROR(ValidateDebianMirror(spec.mirror));
  static const std::regex kRelease("[0-9a-f]{64}");
  if (!spec.release.empty() && !std::regex_match(spec.release, kRelease)) {
    return absl::InvalidArgumentError(
        "the Debian release digest is not 64 lowercase hex digits");
  }
  return absl::OkStatus();
}

absl::Status ValidateDebianMirror(const std::string& mirror) {
  if (mirror.empty()) return absl::OkStatus();
  static const std::regex kMirror(
      "https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~:/%+-]*)?");
  if (mirror.size() > 512) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mirror URL is ", mirror.size(), " characters, at most 512"));
  }
  if (mirror.find('@') != std::string::npos) {
    return absl::InvalidArgumentError(
        "mirror URL holds user:password@ (it would be part of a cache key)");
  }
  if (!std::regex_match(mirror, kMirror)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mirror '", mirror,
        "' is not an http(s)://HOST[:PORT]/PATH URL of [A-Za-z0-9._~:/%+-]"));
  }
  return absl::OkStatus();
}

std::vector<ReleaseSource> DebianReleaseSources(const std::string& suite,
                                                const std::string& mirror) {
  if (!mirror.empty()) {
    std::string m = mirror;
    while (!m.empty() && m.back() == '/') m.pop_back();
    return {{absl::StrCat(m, "/dists/", suite, "/InRelease"), true}};
  }
  std::vector<ReleaseSource> out = {
      {absl::StrCat("http://deb.debian.org/debian/dists/", suite, "/InRelease"),
       true}};
  for (const char* rolling : {"testing", "unstable", "sid", "experimental"}) {
    if (suite == rolling) return out;
  }
  out.push_back({absl::StrCat("http://deb.debian.org/debian/dists/", suite,
                              "-updates/InRelease"),
                 false});
  out.push_back({absl::StrCat("http://security.debian.org/debian-security/"
                              "dists/",
                              suite, "-security/InRelease"),
                 false});
  return out;
}

absl::StatusOr<std::vector<std::string>> DebianBaseArgv(
    const DebianBaseSpec& spec) {
  RETURN_IF_ERROR(ValidateDebianBaseSpec(spec));
  std::vector<std::string> argv = {
      kStepToolPath,
      kStepToolMarker,
      kToolName,
      "--suite=" + spec.suite,
      "--variant=" + spec.variant,
      "--include=" + absl::StrJoin(spec.include, ","),
      absl::StrCat("--mtime=", spec.mtime)};
  // Only when set: a base without them keeps its key (and its cache hits).
  if (!spec.mirror.empty()) argv.push_back("--mirror=" + spec.mirror);
  if (!spec.release.empty()) argv.push_back("--release=" + spec.release);
  return argv;
}

absl::StatusOr<DebianBaseSpec> ParseDebianBaseArgs(
    const std::vector<std::string>& args) {
  DebianBaseSpec spec;
  bool suite = false, variant = false, include = false, mtime = false;
  for (const std::string& arg : args) {
    size_t eq = arg.find('=');
    if (!absl::StartsWith(arg, "--") || eq == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected --KEY=VALUE: '", arg, "'"));
    }
    std::string key = arg.substr(0, eq), value = arg.substr(eq + 1);
    if (key == "--suite") {
      spec.suite = value;
      suite = true;
    } else if (key == "--variant") {
      spec.variant = value;
      variant = true;
    } else if (key == "--include") {
      spec.include = absl::StrSplit(value, ',', absl::SkipEmpty());
      include = true;
    } else if (key == "--mirror") {
      spec.mirror = value;
    } else if (key == "--release") {
      spec.release = value;
    } else if (key == "--mtime") {
      if (!absl::SimpleAtoi(value, &spec.mtime) || spec.mtime < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--mtime needs seconds since the epoch: '", value, "'"));
      }
      mtime = true;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown option ", key));
    }
  }
  for (const auto& [given, name] :
       {std::pair{suite, "--suite"}, std::pair{variant, "--variant"},
        std::pair{include, "--include"}, std::pair{mtime, "--mtime"}}) {
    if (!given)
      return absl::InvalidArgumentError(absl::StrCat(name, " is required"));
  }
  RETURN_IF_ERROR(ValidateDebianBaseSpec(spec));
  return spec;
}

std::vector<std::string> MmdebstrapArgv(const DebianBaseSpec& spec,
                                        const std::string& rootfs) {
  // Root mode as root of the step's user namespace: no CAP_SYS_ADMIN there,
  // so nothing is mounted into the tree (said explicitly, so the tree is the
  // same wherever it is built); device nodes come from the sandbox and from
  // container runtimes.
  std::vector<std::string> argv = {
      "mmdebstrap", "--mode=root", "--skip=chroot/mount",
      // Debian's keys from /usr (the sandbox has no /etc/apt): apt
      // verifies the mirror with them, and the tree's sources.list
      // does not depend on the executor's apt configuration.
      "--keyring=/usr/share/keyrings/debian-archive-keyring.gpg",
      "--variant=" + spec.variant,
      "--include=" + absl::StrJoin(spec.include, ","), spec.suite, rootfs};
  if (!spec.mirror.empty()) argv.push_back(spec.mirror);
  return argv;
}

bool MmdebstrapInstalled() {
  for (const char* dir :
       {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin"}) {
    if (access(absl::StrCat(dir, "/mmdebstrap").c_str(), X_OK) == 0)
      return true;
  }
  return false;
}

absl::StatusOr<oci::Layer> BuildDebianBase(const DebianBaseSpec& spec,
                                           const std::string& out_dir) {
  RETURN_IF_ERROR(ValidateDebianBaseSpec(spec));
  const std::string rootfs = out_dir + "/rootfs";
  const std::string tmp = out_dir + "/.tmp";
  if (mkdir(tmp.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InternalError(
        absl::StrCat("cannot create ", tmp, ": ", std::strerror(errno)));
  }
  ProcessOptions po;
  po.env = {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"HOME", tmp},
      {"LANG", "C.UTF-8"},
      // mmdebstrap and dpkg clamp times and drop logs and caches by it
      // (e.g. the password-change day in /etc/shadow).
      {"SOURCE_DATE_EPOCH", absl::StrCat(spec.mtime)},
      {"TMPDIR", tmp}};
  // The tools' output is the step's log (its stderr).
  po.log_to_stderr = true;
  po.timeout = absl::Minutes(30);
  auto run = [&](const std::vector<std::string>& argv,
                 absl::string_view what) -> absl::Status {
    ASSIGN_OR_RETURN(ProcessResult r, RunProcess(argv, po));
    if (r.ok()) return absl::OkStatus();
    return absl::UnavailableError(absl::StrCat(
        what, " failed (", r.Describe(), "): ", absl::StrJoin(argv, " ")));
  };
  RETURN_IF_ERROR(
      run(MmdebstrapArgv(spec, rootfs),
          absl::StrCat("building the ", spec.suite, " base with mmdebstrap")));
  // Byte-code that does not depend on file times: the layer's mtimes are
  // fixed, which would make timestamp-based .pyc files stale.
  std::vector<std::string> compile = {
      "chroot",        rootfs, "python3", "-m",
      "compileall",    "-q",   "-f",      "--invalidation-mode",
      "unchecked-hash"};
  for (const std::string& d : StdlibDirs(rootfs)) compile.push_back(d);
  compile.push_back("/usr/lib/python3/dist-packages");
  RETURN_IF_ERROR(run(compile, "byte-compiling the base"));
  // Device nodes, resolv.conf and hostname come from the sandbox (and from
  // container runtimes); mmdebstrap copied the build host's last two in,
  // which would make the layer differ between executors.
  {
    UniqueFd root(
        open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (root.get() < 0) {
      return absl::InternalError(
          absl::StrCat("cannot open ", rootfs, ": ", std::strerror(errno)));
    }
    RETURN_IF_ERROR(RemoveAt(root.get(), "dev"));
    if (mkdirat(root.get(), "dev", 0755) != 0) {
      return absl::InternalError(absl::StrCat("cannot create ", rootfs,
                                              "/dev: ", std::strerror(errno)));
    }
    ASSIGN_OR_RETURN(UniqueFd etc, OpenDirBeneath(root.get(), "etc"));
    RETURN_IF_ERROR(RemoveAt(etc.get(), "resolv.conf"));
    RETURN_IF_ERROR(RemoveAt(etc.get(), "hostname"));
  }
  oci::LayerOptions lo;
  lo.mtime = spec.mtime;
  lo.exclude_prefixes = oci::PackageNoisePrefixes();
  ASSIGN_OR_RETURN(oci::Layer layer,
                   oci::WriteLayer(rootfs, out_dir + "/" + kBaseLayerFile, lo));
  std::ofstream diff_id(out_dir + "/" + kBaseDiffIdFile, std::ios::binary);
  diff_id << oci::DiffIdText(layer.diff_id);
  diff_id.close();
  if (!diff_id) {
    return absl::InternalError(
        absl::StrCat("cannot write ", out_dir, "/", kBaseDiffIdFile));
  }
  return layer;
}

}  // namespace pbrx::common::base
