#include "client/build_images_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "cache/grpc_cache_client.h"
#include "client/base_pull.h"
#include "client/build_images_flags.h"
#include "client/build_uploads.h"
#include "client/cas_image_source.h"
#include "client/cli.h"
#include "client/debian_release.h"
#include "client/embedded_farm.h"
#include "client/farm_client.h"
#include "client/image_output.h"
#include "client/image_push.h"
#include "client/paths.h"
#include "client/progress.h"
#include "common/flag_parser.h"
#include "common/grpc_channel.h"
#include "common/json_writer.h"
#include "common/oci/layer.h"
#include "common/parallel.h"
#include "common/project/ini_file.h"
#include "common/registry/curl_transport.h"
#include "common/version.h"
#include "coordinator/build_inputs.h"
#include "coordinator/build_report.h"
#include "coordinator/image_pipeline.h"
#include "coordinator/planner.h"
#include "executor/action_runner.h"
#include "executor/sandbox_ids.h"

namespace pbrx::client {
namespace {

int UsageError(BuildImagesIo& io, const std::string& message) {
  return client::UsageError(*io.err, "build-images", message);
}

// index-url / extra-index-url / trusted-host from [global] of the pip
// configuration files
// pip reads ($PIP_CONFIG_FILE, /etc/pip.conf, ~/.config/pip/pip.conf,
// ~/.pip/pip.conf; later files win).
void ReadPipConf(std::string* index_url, std::vector<std::string>* extra,
                 std::vector<std::string>* trusted) {
  std::vector<std::string> files = {"/etc/pip.conf"};
  if (const char* home = std::getenv("HOME")) {
    files.push_back(std::string(home) + "/.pip/pip.conf");
    files.push_back(std::string(home) + "/.config/pip/pip.conf");
  }
  if (const char* env = std::getenv("PIP_CONFIG_FILE")) files.push_back(env);
  for (const std::string& f : files) {
    std::ifstream in(f);
    if (!in) continue;
    std::stringstream ss;
    ss << in.rdbuf();
    absl::StatusOr<common::project::IniFile> ini =
        common::project::ParseIni(ss.str(), f);
    if (!ini.ok()) continue;
    const common::project::IniSection* global = ini->Find("global");
    if (global == nullptr) continue;
    if (const auto* e = global->Find("index-url")) *index_url = e->value;
    if (const auto* e = global->Find("trusted-host")) {
      trusted->clear();
      for (absl::string_view h : absl::StrSplit(
               e->value, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
        trusted->push_back(std::string(h));
      }
    }
    if (const auto* e = global->Find("extra-index-url")) {
      extra->clear();
      for (absl::string_view u : absl::StrSplit(
               e->value, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
        extra->push_back(std::string(u));
      }
    }
  }
}

// --push: the images of the projects that built, from the layout (or the
// farm's CAS) to their registries. Prints "NAME:TAG@DIGEST" lines (or the
// report with "pushed").
int PushBuilt(ImageSource& source, const std::vector<std::string>& refs,
              const RegistryFlags& registry, bool json,
              const std::string& report, int build_rc, BuildImagesIo& io) {
  std::vector<PushedImage> pushed;
  std::vector<std::string> errors;
  PushImages(source, ImagesOfRefs(refs), registry, &pushed, &errors);
  for (const std::string& e : errors)
    *io.err << "pbrx build-images: " << e << "\n";
  if (json) {
    *io.out << ReportWithPushes(report, pushed, errors);
  } else {
    PrintPushed(pushed, *io.out);
  }
  return errors.empty() ? build_rc : 1;
}

}  // namespace

const std::vector<std::string>& EmbeddedLimitFlagNames() {
  static const auto* names = new std::vector<std::string>{
      "action-memory",   "action-pids",      "action-timeout-max",
      "action-tmp-size", "allow-no-cgroups", "sandbox-id-range"};
  return *names;
}

void AddBuildImagesFlags(common::FlagParser& p, BuildImagesFlags* f) {
  p.SetSynopsis("[FLAGS] [DIR...]");
  p.SetDescription(
      "Builds container images for the Python projects in DIR... (default: "
      "the current directory): {name}-base with the project and its "
      "dependencies, and one image per console_scripts entry point, each "
      "with the extras named after it. Distro packages come from "
      "bindep.txt. Every step is cached by content under --cache-dir (or "
      "on the farm), so a second build of the same inputs runs nothing.\n\n"
      "Prints REF sha256:DIGEST per image (a status line on a terminal). "
      "Settings come from the flags, then PBRX_* variables, then the "
      "[build-images] table of ~/.config/pbrx/pbrx.toml and "
      "/etc/pbrx/pbrx.toml (`pbrx config` shows the result).\n\n"
      "Exit codes: 0 all built (and pushed), 1 a project, a pull or a push "
      "failed (the others still build), 2 usage error, 3 the farm is "
      "unreachable or failed.");
  p.AddString("prefix", &f->options.prefix,
              "image name prefix, e.g. registry.example.com/team (its first "
              "component names the registry for --push)");
  p.SetValueName("prefix", "P");
  p.SetEnvironment("prefix", "PBRX_PREFIX");
  p.AddStringList("tag", &f->options.tags,
                  "image tag; latest when none is given");
  p.SetValueName("tag", "T");
  p.AddString("base", &f->base,
              "the base image: debian:SUITE (built with mmdebstrap), "
              "oci:DIR[:REF] (a local OCI layout) or docker://REF (pulled "
              "from a registry)");
  p.SetValueName("base", "SPEC");
  p.SetEnvironment("base", "PBRX_BASE");
  p.AddString("mirror", &f->options.mirror,
              "the Debian (or Alpine) mirror distro packages come from");
  p.SetValueName("mirror", "URL");
  p.SetEnvironment("mirror", "PBRX_MIRROR");
  p.AddString("platform", &f->options.platform,
              "the platform of oci: and docker:// bases to build for, e.g. "
              "linux/arm64 (default: linux/amd64)");
  p.SetValueName("platform", "OS/ARCH[/VARIANT]");
  p.AddString("output", &f->output,
              "where the images go: oci:DIR (an OCI layout), "
              "oci-archive:FILE or docker-archive:FILE (for podman load and "
              "docker load)");
  p.SetValueName("output", "DEST");
  p.SetEnvironment("output", "PBRX_OUTPUT");
  p.AddString("find-links", &f->options.find_links,
              "a directory of wheels and sdists searched before any index");
  p.SetValueName("find-links", "DIR");
  p.AddString("index-url", &f->options.index_url,
              "the package index (default: pip.conf's, else none); "
              "https://user:pass@host/ credentials never reach a cache key "
              "or a log");
  p.SetValueName("index-url", "URL");
  p.SetEnvironment("index-url", "PBRX_INDEX_URL");
  p.AddStringList("extra-index-url", &f->options.extra_index_urls,
                  "a further index (needs --index-url)");
  p.SetValueName("extra-index-url", "URL");
  p.AddStringList("trusted-host", &f->options.trusted_hosts,
                  "an index host reached over plain HTTP");
  p.SetValueName("trusted-host", "HOST[:PORT]");
  p.AddStringList("constraint", &f->options.constraints,
                  "a pip constraints file that pins dependency versions");
  p.SetValueName("constraint", "FILE");
  p.AddShort('c', "constraint");
  p.AddString("cache-dir", &f->cache_dir,
              "the local step cache and state (embedded mode), base "
              "pulls and registry state");
  p.SetValueName("cache-dir", "DIR");
  p.SetEnvironment("cache-dir", "PBRX_CACHE_DIR");
  p.AddCustom("jobs",
              "steps run at once, and projects built at once (default: the "
              "number of cores)",
              [f](absl::string_view v) -> absl::Status {
                int64_t n = 0;
                if (!absl::SimpleAtoi(v, &n) || n < 1 || n > 1024) {
                  return absl::InvalidArgumentError(absl::StrCat(
                      "expected a number from 1 to 1024, got '", v, "'"));
                }
                f->jobs = n;
                return absl::OkStatus();
              });
  p.SetValueName("jobs", "N");
  p.AddShort('j', "jobs");
  p.SetEnvironment("jobs", "PBRX_JOBS");
  p.AddString("farm", &f->farm,
              "build on a farm (a pbrx-coordinator) instead of in this "
              "process");
  p.SetValueName("farm", "grpc[s]://HOST:PORT");
  p.SetEnvironment("farm", "PBRX_FARM");
  AddCredentialFlags(p, &f->credentials);
  p.AddBool("json", &f->json,
            "print the build report as JSON on stdout (docs/build-report.md) "
            "and progress events as JSON lines on stderr");
  p.AddString("progress", &f->progress,
              "how the build shows itself while it runs: tty (a status "
              "line per project, redrawn), plain (a timestamped line per "
              "step started, cached, done or failed, with durations), json "
              "(one JSON event per line on stderr) or auto (json with "
              "--json, tty on a terminal, else plain)");
  p.SetValueName("progress", "MODE");
  p.SetEnvironment("progress", "PBRX_PROGRESS");
  p.AddBool("push", &f->push,
            "push every image built to the registry its --prefix names");
  AddRegistryFlags(p, &f->registry);
  p.AddCustom("action-memory",
              "embedded mode: memory one step may use (cgroup memory.max), "
              "e.g. 4G",
              [f](absl::string_view v) -> absl::Status {
                absl::StatusOr<int64_t> n = common::ParseByteSize(v);
                if (!n.ok()) return n.status();
                f->runner.memory_bytes = *n;
                return absl::OkStatus();
              });
  p.SetValueName("action-memory", "SIZE");
  p.AddInt("action-pids", &f->runner.max_pids,
           "embedded mode: processes and threads one step may have");
  p.AddDuration("action-timeout-max", &f->runner.max_timeout,
                "embedded mode: the wall-time cap of one step, e.g. 2h");
  p.AddCustom("action-tmp-size",
              "embedded mode: size of a step's /tmp (counted in its memory)",
              [f](absl::string_view v) -> absl::Status {
                absl::StatusOr<int64_t> n = common::ParseByteSize(v);
                if (!n.ok()) return n.status();
                f->runner.tmp_bytes = *n;
                return absl::OkStatus();
              });
  p.SetValueName("action-tmp-size", "SIZE");
  p.AddBool("allow-no-cgroups", &f->allow_no_cgroups,
            "embedded mode: build even without writable cgroups (step "
            "limits are then rlimits only)");
  p.AddCustom("sandbox-id-range",
              "embedded mode: host ids a step's ids 0..COUNT-1 map to",
              [f](absl::string_view v) -> absl::Status {
                absl::StatusOr<executor::SandboxIds> ids =
                    executor::ParseSandboxIds(v);
                if (!ids.ok()) return ids.status();
                f->ids = *ids;
                return absl::OkStatus();
              });
  p.SetValueName("sandbox-id-range", "FIRST:COUNT");
  p.AllowPositionals(&f->dirs);
  p.AddExample("pbrx build-images .",
               "images for the project in ., into the OCI layout "
               "pbrx-images");
  p.AddExample(
      "pbrx build-images --prefix localhost:5000/team --tag 1.0 --push a b",
      "images for projects a and b, tagged 1.0, pushed to the registry at "
      "localhost:5000");
  p.AddExample(
      "pbrx build-images --base docker://debian:bookworm-slim "
      "--output docker-archive:app.tar .",
      "on a base pulled from a registry, into a file for docker "
      "load");
  p.AddExample("PBRX_FARM=grpc://farm:8981 pbrx build-images -j8 */",
               "every project under the current directory on a farm, eight "
               "at a time");
}

void SetBuildImagesDefaults(
    BuildImagesFlags* f,
    const std::function<const char*(const char*)>& getenv) {
  f->cache_dir = DefaultCacheDir(getenv);
  f->jobs = std::max(1u, std::thread::hardware_concurrency());
}

int RunBuildImagesCommand(const std::vector<std::string>& args,
                          BuildImagesIo& io) {
  BuildImagesFlags f;
  SetBuildImagesDefaults(&f, std::getenv);
  common::FlagParser parser("pbrx build-images");
  AddBuildImagesFlags(parser, &f);
  if (std::optional<int> rc = ParseCommand(parser, "build-images", args,
                                           *io.out, *io.err, std::getenv)) {
    return *rc;
  }
  coordinator::BuildOptions& options = f.options;
  options.pinned = PinnedSettings(parser);
  std::string& output = f.output;
  std::string& base = f.base;
  std::string& cache_dir = f.cache_dir;
  const bool json = f.json;
  const bool push = f.push;
  const std::string& farm = f.farm;
  const FarmCredentials& credentials = f.credentials;
  const std::string credentials_flag =
      FirstGiven(parser, CredentialFlagNames());
  const bool jobs_given = parser.Given("jobs");
  executor::ActionRunnerOptions& ro = f.runner;
  const std::string limit_flag = FirstGiven(parser, EmbeddedLimitFlagNames());
  const bool allow_no_cgroups = f.allow_no_cgroups;
  const executor::SandboxIds& ids = f.ids;
  const int jobs = static_cast<int>(f.jobs);
  std::vector<std::string>& dirs = f.dirs;
  const bool output_given = parser.Given("output");
  RegistryFlags& registry = f.registry;
  const std::string registry_flag = FirstGiven(parser, RegistryFlagNames());
  absl::StatusOr<ProgressMode> progress_mode =
      ParseProgressMode(f.progress, json, isatty(STDERR_FILENO) == 1);
  if (!progress_mode.ok())
    return UsageError(io, std::string(progress_mode.status().message()));
  if (dirs.empty()) dirs.push_back(".");
  if (!push && !registry_flag.empty() && !absl::StartsWith(base, "docker://"))
    return UsageError(io,
                      registry_flag + " applies to --push and docker:// bases");
  if (absl::StartsWith(base, "oci:") && base.size() > 4 && base[4] != '/') {
    base = "oci:" + Absolute(base.substr(4));
  }
  // A registry base is pulled here, into the cache dir (farm mode too: the
  // client pulls it and uploads the layout like an oci: base).
  std::string pulled_base_dir;
  if (absl::StartsWith(base, "docker://")) {
    if (absl::Status s = coordinator::ValidateBaseReference(
            base, coordinator::FieldNames::kFlags);
        !s.ok()) {
      return UsageError(io, std::string(s.message()));
    }
    if (absl::Status s = coordinator::ValidatePlatform(
            options.platform, base, coordinator::FieldNames::kFlags);
        !s.ok()) {
      return UsageError(io, std::string(s.message()));
    }
    absl::StatusOr<PulledBase> pulled =
        PullDockerBase(base, registry, Absolute(cache_dir), options.platform);
    if (!pulled.ok()) {
      *io.err << "pbrx build-images: " << pulled.status().message() << "\n";
      return 1;
    }
    if (!pulled->warning.empty())
      *io.err << "pbrx build-images: warning: " << pulled->warning << "\n";
    base = pulled->base;
    pulled_base_dir = pulled->layout_dir;
  }
  options.base = base;
  absl::StatusOr<ImageOutput> image_output =
      ParseImageOutput(output, Absolute(cache_dir) + "/tmp");
  if (!image_output.ok())
    return UsageError(io, std::string(image_output.status().message()));
  if (!image_output->archive.empty() &&
      !MakeDirs(Absolute(cache_dir) + "/tmp")) {
    *io.err << "pbrx build-images: cannot create the cache directory "
            << cache_dir << "\n";
    return 1;
  }
  if (options.index_url.empty() && options.extra_index_urls.empty()) {
    // As pip itself would: the index settings of the user's pip.conf.
    ReadPipConf(&options.index_url, &options.extra_index_urls,
                &options.trusted_hosts);
  }
  if (!options.extra_index_urls.empty() && options.index_url.empty()) {
    return UsageError(
        io, "--extra-index-url needs --index-url (or index-url in pip.conf)");
  }
  for (std::string& c : options.constraints) {
    c = Absolute(c);
    if (access(c.c_str(), R_OK) != 0) {
      return UsageError(io, "constraints file " + c + " cannot be read");
    }
  }
  options.output_layout = image_output->layout;
  if (!options.find_links.empty())
    options.find_links = Absolute(options.find_links);
  options.source_date_epoch = common::oci::SourceDateEpoch();
  if (const char* v = std::getenv("PBR_VERSION")) options.pbr_version = v;
  // Every value that will become an argument or a path, checked by the
  // same function as a BuildRequest's fields (docker:// is refused there).
  coordinator::BuildInputs inputs;
  inputs.base = options.base;
  inputs.mirror = options.mirror;
  inputs.platform = options.platform;
  inputs.prefix = options.prefix;
  inputs.tags = options.tags;
  inputs.index_url = options.index_url;
  inputs.extra_index_urls = options.extra_index_urls;
  inputs.trusted_hosts = options.trusted_hosts;
  inputs.pbr_version = options.pbr_version;
  inputs.source_date_epoch = options.source_date_epoch;
  // Index credentials leave the URLs here: nothing after this sees them
  // but the steps that download (common/credentials.h).
  if (absl::Status s = coordinator::ExtractIndexCredentials(
          &inputs, coordinator::FieldNames::kFlags);
      !s.ok()) {
    return UsageError(io, std::string(s.message()));
  }
  options.index_url = inputs.index_url;
  options.extra_index_urls = inputs.extra_index_urls;
  options.index_credentials = inputs.index_credentials;
  if (absl::Status s = coordinator::ValidateBuildInputs(
          inputs, coordinator::FieldNames::kFlags);
      !s.ok()) {
    return UsageError(io, std::string(s.message()));
  }
  if (absl::Status s = executor::ValidateLimitFlags(ro); !s.ok())
    return UsageError(io, std::string(s.message()));
  // A debian: base is keyed by the archive's state, found now (farm mode
  // too: the executors build from the same mirror).
  if (absl::StartsWith(options.base, "debian:")) {
    const std::string bases = Absolute(cache_dir) + "/bases";
    if (!MakeDirs(bases)) {
      *io.err << "pbrx build-images: cannot create " << bases << "\n";
      return 1;
    }
    common::registry::CurlTransportOptions to;
    to.user_agent = absl::StrCat("pbrx/", kVersion);
    to.connect_timeout = absl::Seconds(15);
    common::registry::CurlTransport http(to);
    absl::StatusOr<DebianRelease> release =
        ResolveDebianRelease(http, options.base.substr(7), options.mirror,
                             bases + "/debian-releases");
    if (!release.ok()) {
      *io.err << "pbrx build-images: " << release.status().message() << "\n";
      return 1;
    }
    if (!release->warning.empty())
      *io.err << "pbrx build-images: warning: " << release->warning << "\n";
    options.base_release = release->digest;
  }
  if (!farm.empty() && !limit_flag.empty()) {
    return UsageError(io, limit_flag +
                              " applies to embedded mode; a farm's executors "
                              "set their own limits");
  }
  if (farm.empty() && !credentials_flag.empty())
    return UsageError(io, credentials_flag + " applies to --farm");
  if (!farm.empty()) {
    if (!common::ChannelTarget(farm).ok()) {
      return UsageError(io, "--farm " + farm +
                                ": expected grpc://HOST:PORT or "
                                "grpcs://HOST:PORT");
    }
    FarmBuild fb;
    fb.farm = farm;
    fb.credentials = credentials;
    fb.dirs = dirs;
    fb.options = options;
    fb.json = json;
    fb.progress = *progress_mode;
    fb.tty = *progress_mode == ProgressMode::kTty;
    fb.jobs = jobs_given ? jobs : 0;
    fb.pulled_base_dir = pulled_base_dir;
    if (!push) {
      return FinishImageOutput(*image_output, RunFarmBuild(fb, io),
                               options.source_date_epoch, *io.err);
    }
    if (output_given) {
      return UsageError(io,
                        "--output with --farm and --push: a farm push goes "
                        "from the farm's cache to the registry and writes no "
                        "layout (build without --push for one)");
    }
    // Straight from the farm's CAS to the registries: only the blobs a
    // registry lacks pass through here (client/cas_image_source.h).
    registry.state_dir = Absolute(cache_dir) + "/registries";
    if (!MakeDirs(registry.state_dir)) registry.state_dir.clear();
    const std::string tmp = Absolute(cache_dir) + "/tmp";
    std::string report;
    fb.report_out = &report;
    fb.push = [&](cache::BlobStore& cas,
                  const std::map<std::string, FarmImage>& built, int build_rc) {
      if (!MakeDirs(tmp)) {
        *io.err << "pbrx build-images: cannot create " << tmp << "\n";
        return 1;
      }
      std::vector<std::string> refs;
      for (const auto& [ref, manifest] : built) refs.push_back(ref);
      CasImageSource source(&cas, built, tmp);
      return PushBuilt(source, refs, registry, json, report, build_rc, io);
    };
    return RunFarmBuild(fb, io);
  }
  cache_dir = Absolute(cache_dir);
  options.scratch_dir = cache_dir + "/tmp";
  if (!MakeDirs(options.scratch_dir) || !MakeDirs(cache_dir + "/runs")) {
    *io.err << "pbrx build-images: cannot create the cache directory "
            << cache_dir << "\n";
    return 1;
  }

  // Embedded mode: cache, executor runtime and pipeline in this process.
  EmbeddedFarmOptions eo;
  eo.cache_dir = cache_dir;
  eo.jobs = jobs;
  eo.runner = ro;
  eo.ids = ids;
  eo.allow_no_cgroups = allow_no_cgroups;
  eo.source_date_epoch = options.source_date_epoch;
  std::string warning;
  absl::StatusOr<std::unique_ptr<EmbeddedFarm>> embedded =
      EmbeddedFarm::Open(eo, &warning);
  if (!embedded.ok()) {
    *io.err << "pbrx build-images: " << embedded.status().message() << "\n";
    return 1;
  }
  if (!warning.empty())
    *io.err << "pbrx build-images: warning: " << warning << "\n";
  coordinator::ImagePipeline& pipeline = (*embedded)->pipeline();
  // On a terminal: one status line, rewritten as steps run.
  const bool tty = *progress_mode == ProgressMode::kTty;
  ProgressPrinter printer(*progress_mode, io.err, dirs);
  absl::Mutex io_mu;
  if (tty) {
    options.progress = [&io, &io_mu](const std::string& line) {
      absl::MutexLock lock(&io_mu);
      *io.err << "\r\033[K" << line.substr(0, 150) << std::flush;
    };
  }

  // Up to --jobs projects at once; each reports as it finishes, the JSON
  // report keeps the order of the command line.
  std::vector<absl::StatusOr<coordinator::ProjectBuild>> builds(
      dirs.size(), absl::UnknownError("not built"));
  std::atomic<size_t> next_project{0};
  auto report_text = [&](size_t i) {
    const std::string& dir = dirs[i];
    const auto& build = builds[i];
    absl::MutexLock lock(&io_mu);
    if (tty) *io.err << "\r\033[K" << std::flush;  // clear the status line
    if (!build.ok()) {
      std::string message(build.status().message());
      // Project-loading errors already start with the directory.
      if (!absl::StartsWith(message, Absolute(dir)))
        message = absl::StrCat(dir, ": ", message);
      *io.err << "pbrx build-images: " << message << "\n";
      return;
    }
    if (json) return;
    auto [cached, executed] = coordinator::StepCounts(*build);
    for (const auto& img : build->images)
      *io.out << img.ref << " " << img.manifest_digest << "\n";
    *io.err << "pbrx build-images: " << build->name << " " << build->version
            << ": " << build->images.size()
            << " image ref(s), steps: " << cached << " cached, " << executed
            << " run\n";
  };
  // find-links, constraints and an oci: base layout into the cache, where
  // the pipeline reads them (as the farm's coordinator does).
  if (absl::Status s =
          UploadBuildInputs(options, (*embedded)->cas(), pulled_base_dir);
      !s.ok()) {
    *io.err << "pbrx build-images: " << s.message() << "\n";
    return 1;
  }
  {
    std::vector<common::ScopedThread> workers;
    for (int t = 0; t < std::min<int>(jobs, dirs.size()); ++t) {
      workers.emplace_back([&] {
        for (size_t i = next_project++; i < dirs.size(); i = next_project++) {
          coordinator::BuildOptions o = options;
          if (!tty) {
            // Plain lines or JSON events on stderr; the report (or the
            // REF DIGEST lines) goes to stdout.
            o.on_step = [&, i](const coordinator::StepReport& s) {
              absl::MutexLock lock(&io_mu);
              printer.StepFinished(i, s);
            };
            o.on_step_start = [&, i](const std::string& kind,
                                     const std::string& name) {
              absl::MutexLock lock(&io_mu);
              printer.StepStarted(i, kind, name);
            };
          }
          builds[i] = pipeline.Build(Absolute(dirs[i]), o);
          {
            absl::MutexLock lock(&io_mu);
            auto [cached, run] = builds[i].ok()
                                     ? coordinator::StepCounts(*builds[i])
                                     : std::pair<int, int>(0, 0);
            printer.ProjectFinished(i, builds[i], cached, run);
          }
          report_text(i);
        }
      });
    }
  }

  bool failed = false;
  for (const auto& b : builds) failed = failed || !b.ok();
  if (push) {
    registry.state_dir = cache_dir + "/registries";
    if (!MakeDirs(registry.state_dir)) registry.state_dir.clear();
    std::vector<std::string> refs;
    for (const auto& b : builds) {
      if (!b.ok()) continue;
      for (const auto& img : b->images) refs.push_back(img.ref);
    }
    LayoutImageSource source(options.output_layout);
    return FinishImageOutput(
        *image_output,
        PushBuilt(source, refs, registry, json,
                  json ? coordinator::BuildReportJson(dirs, builds) : "",
                  failed ? 1 : 0, io),
        options.source_date_epoch, *io.err);
  }
  if (json) *io.out << coordinator::BuildReportJson(dirs, builds);
  return FinishImageOutput(*image_output, failed ? 1 : 0,
                           options.source_date_epoch, *io.err);
}

}  // namespace pbrx::client
