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
#include "client/arg_cursor.h"
#include "client/base_pull.h"
#include "client/build_uploads.h"
#include "client/cas_image_source.h"
#include "client/debian_release.h"
#include "client/embedded_farm.h"
#include "client/farm_client.h"
#include "client/image_output.h"
#include "client/image_push.h"
#include "client/paths.h"
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

constexpr char kUsage[] =
    "usage: pbrx build-images [--prefix P] [--tag T]... "
    "[--base debian:SUITE|oci:DIR[:REF]|docker://REF] [--mirror URL] "
    "[--platform OS/ARCH[/VARIANT]] "
    "[--output oci:DIR|oci-archive:FILE|docker-archive:FILE] "
    "[--find-links DIR] [--index-url URL] "
    "[--extra-index-url URL]... [--trusted-host HOST]... "
    "[--constraint FILE]... "
    "[--cache-dir DIR] [--jobs N] [--farm grpc[s]://HOST:PORT] "
    "[--tls-ca FILE] [--tls-cert FILE --tls-key FILE] [--token-file FILE] "
    "[--json] [--push] [--insecure-registry HOST[:PORT]]... "
    "[--registry-ca FILE] [--push-jobs N] "
    "[--action-memory SIZE] [--action-pids N] [--action-timeout-max D] "
    "[--action-tmp-size SIZE] [--allow-no-cgroups] "
    "[--sandbox-id-range FIRST:COUNT] [DIR...]\n";

int UsageError(BuildImagesIo& io, const std::string& message) {
  *io.err << "pbrx build-images: " << message << "\n" << kUsage;
  return 2;
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

int RunBuildImagesCommand(const std::vector<std::string>& args,
                          BuildImagesIo& io) {
  coordinator::BuildOptions options;
  std::string output = "oci:pbrx-images";
  std::string base = "debian:bookworm";
  const char* home = std::getenv("HOME");
  std::string cache_dir =
      absl::StrCat(home != nullptr ? home : "/root", "/.cache/pbrx");
  bool json = false;
  std::string farm;
  if (const char* env = std::getenv("PBRX_FARM")) farm = env;
  FarmCredentials credentials;
  std::string credentials_flag;  // the first of them given
  bool jobs_given = false;
  // Step limits of embedded mode: pbrx-executor's flags and defaults.
  executor::ActionRunnerOptions ro;
  std::string limit_flag;  // the first --action-* given (refused with --farm)
  bool allow_no_cgroups = false;
  executor::SandboxIds ids;
  int jobs = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::string> dirs;
  bool push = false;
  bool output_given = false;
  RegistryFlags registry;
  std::string registry_flag;  // the first registry flag given
  ArgCursor cursor(args);
  while (cursor.Next()) {
    const std::string a = cursor.name();
    auto take = [&](std::string* out) { return cursor.Value(out); };
    std::string v, error;
    if (a == "-h" || a == "--help") {
      *io.out << kUsage;
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--push") {
      push = true;
    } else if (TakeRegistryFlag(cursor, &registry, &error)) {
      if (!error.empty()) return UsageError(io, error);
      if (registry_flag.empty()) registry_flag = a;
    } else if (a == "--prefix") {
      if (!take(&options.prefix))
        return UsageError(io, "--prefix needs a value");
    } else if (a == "--tag") {
      if (!take(&v)) return UsageError(io, "--tag needs a value");
      options.tags.push_back(v);
    } else if (a == "--base") {
      if (!take(&base)) return UsageError(io, "--base needs a value");
    } else if (a == "--platform") {
      if (!take(&options.platform))
        return UsageError(io, "--platform needs OS/ARCH[/VARIANT]");
    } else if (a == "--mirror") {
      if (!take(&options.mirror)) return UsageError(io, "--mirror needs a URL");
    } else if (a == "--output") {
      if (!take(&output)) return UsageError(io, "--output needs a value");
      output_given = true;
    } else if (a == "--index-url") {
      if (!take(&options.index_url))
        return UsageError(io, "--index-url needs a value");
    } else if (a == "--extra-index-url") {
      if (!take(&v)) return UsageError(io, "--extra-index-url needs a value");
      options.extra_index_urls.push_back(v);
    } else if (a == "--trusted-host") {
      if (!take(&v)) return UsageError(io, "--trusted-host needs HOST[:PORT]");
      options.trusted_hosts.push_back(v);
    } else if (a == "--find-links") {
      if (!take(&options.find_links))
        return UsageError(io, "--find-links needs a value");
    } else if (a == "--cache-dir") {
      if (!take(&cache_dir)) return UsageError(io, "--cache-dir needs a value");
    } else if (a == "--farm") {
      if (!take(&farm))
        return UsageError(io, "--farm needs grpc[s]://HOST:PORT");
    } else if (std::string error;
               TakeCredentialFlag(cursor, &credentials, &error)) {
      if (!error.empty()) return UsageError(io, error);
      credentials_flag = a;
    } else if (a == "--constraint" || a == "-c") {
      if (!take(&v)) return UsageError(io, a + " needs a file");
      options.constraints.push_back(v);
    } else if (a == "--action-memory" || a == "--action-tmp-size") {
      absl::StatusOr<int64_t> bytes = absl::InvalidArgumentError("missing");
      if (take(&v)) bytes = common::ParseByteSize(v);
      if (!bytes.ok()) return UsageError(io, a + " needs a size, e.g. 4G");
      (a == "--action-memory" ? ro.memory_bytes : ro.tmp_bytes) = *bytes;
      if (limit_flag.empty()) limit_flag = a;
    } else if (a == "--action-pids") {
      if (!take(&v) || !absl::SimpleAtoi(v, &ro.max_pids))
        return UsageError(io, "--action-pids needs a number");
      if (limit_flag.empty()) limit_flag = a;
    } else if (a == "--action-timeout-max") {
      if (!take(&v) || !absl::ParseDuration(v, &ro.max_timeout))
        return UsageError(io, "--action-timeout-max needs a duration, e.g. 2h");
      if (limit_flag.empty()) limit_flag = a;
    } else if (a == "--allow-no-cgroups") {
      allow_no_cgroups = true;
      if (limit_flag.empty()) limit_flag = a;
    } else if (a == "--sandbox-id-range") {
      if (!take(&v))
        return UsageError(io, "--sandbox-id-range needs FIRST:COUNT");
      absl::StatusOr<executor::SandboxIds> parsed =
          executor::ParseSandboxIds(v);
      if (!parsed.ok())
        return UsageError(io, std::string(parsed.status().message()));
      ids = *parsed;
      if (limit_flag.empty()) limit_flag = a;
    } else if (a == "--jobs" || a == "-j") {
      if (!take(&v) || !absl::SimpleAtoi(v, &jobs) || jobs < 1) {
        return UsageError(io, "--jobs needs a positive number");
      }
      jobs_given = true;
    } else if (absl::StartsWith(a, "-")) {
      return UsageError(io, "unknown option " + a);
    } else {
      dirs.push_back(cursor.raw());
    }
  }
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
    fb.tty = !json && isatty(STDERR_FILENO) == 1;
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
  bool tty = !json && isatty(STDERR_FILENO) == 1;
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
          if (json) {
            // Progress as JSON lines on stderr; the report goes to stdout.
            o.on_step = [&, i](const coordinator::StepReport& s) {
              absl::MutexLock lock(&io_mu);
              *io.err << coordinator::StepEventJson(dirs[i], s) << std::flush;
            };
          }
          builds[i] = pipeline.Build(Absolute(dirs[i]), o);
          if (json) {
            absl::MutexLock lock(&io_mu);
            *io.err << coordinator::ProjectEventJson(dirs[i], builds[i]);
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
