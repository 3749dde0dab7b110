#include "common/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/metric_family.h"
#include "prometheus/client_metric.h"

namespace pbrx::common {
namespace {

prometheus::MetricFamily One(const std::string& name, const std::string& help,
                             prometheus::MetricType type, double value) {
  return SampledFamily(name, help, type, {{{}, value}});
}

std::string ReadSmall(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str().substr(0, 1 << 16);
}

double BootTimeSeconds() {
  std::istringstream in(ReadSmall("/proc/stat"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("btime ", 0) == 0) {
      double v = 0;
      if (absl::SimpleAtod(line.substr(6), &v)) return v;
    }
  }
  return 0;
}

double OpenFds() {
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  double n = 0;
  while (struct dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') n += 1;
  }
  closedir(d);
  return n - 1;  // the directory stream's own descriptor
}

}  // namespace

absl::StatusOr<ProcStat> ParseProcStat(const std::string& text,
                                       long ticks_per_second, long page_size) {
  size_t close = text.rfind(')');
  if (close == std::string::npos) {
    return absl::InvalidArgumentError("stat: no ')' after the command name");
  }
  // Fields after the name, numbered as proc(5) does from 3 (state).
  std::vector<std::string> f =
      absl::StrSplit(text.substr(close + 1), ' ', absl::SkipWhitespace());
  auto field = [&](int n, double* out) {
    size_t i = static_cast<size_t>(n - 3);
    return i < f.size() && absl::SimpleAtod(f[i], out);
  };
  double utime, stime, threads, start, vsize, rss;
  if (!field(14, &utime) || !field(15, &stime) || !field(20, &threads) ||
      !field(22, &start) || !field(23, &vsize) || !field(24, &rss)) {
    return absl::InvalidArgumentError(
        absl::StrCat("stat: ", f.size() + 2, " fields, want at least 24"));
  }
  ProcStat s;
  double ticks =
      static_cast<double>(ticks_per_second > 0 ? ticks_per_second : 100);
  s.cpu_seconds = (utime + stime) / ticks;
  s.start_seconds_after_boot = start / ticks;
  s.virtual_bytes = vsize;
  s.resident_bytes = rss * static_cast<double>(page_size);
  s.threads = threads;
  return s;
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  out.push_back(SampledFamily(
      "pbrx_build_info", "1, labelled with the version of this binary",
      MetricType::Gauge, {{{{"version", version_}}, 1}}));
  absl::StatusOr<ProcStat> s =
      ParseProcStat(ReadSmall("/proc/self/stat"), sysconf(_SC_CLK_TCK),
                    sysconf(_SC_PAGESIZE));
  if (s.ok()) {
    out.push_back(One("process_cpu_seconds_total",
                      "User and system CPU time spent, in seconds",
                      MetricType::Counter, s->cpu_seconds));
    out.push_back(One("process_resident_memory_bytes",
                      "Resident memory size in bytes", MetricType::Gauge,
                      s->resident_bytes));
    out.push_back(One("process_virtual_memory_bytes",
                      "Virtual memory size in bytes", MetricType::Gauge,
                      s->virtual_bytes));
    out.push_back(One("process_start_time_seconds",
                      "Start time of the process since the Unix epoch, in "
                      "seconds",
                      MetricType::Gauge,
                      BootTimeSeconds() + s->start_seconds_after_boot));
    out.push_back(One("process_threads", "Threads of the process",
                      MetricType::Gauge, s->threads));
  }
  out.push_back(One("process_open_fds", "Open file descriptors",
                    MetricType::Gauge, OpenFds()));
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    out.push_back(One("process_max_fds", "Maximum open file descriptors",
                      MetricType::Gauge, static_cast<double>(rl.rlim_cur)));
  }
  return out;
}

}  // namespace pbrx::common
