// Metrics every daemon exports beside its own, as Prometheus' client
// libraries name them:
//   pbrx_build_info{version}            1
//   process_cpu_seconds_total           user + system CPU time
//   process_resident_memory_bytes       RSS
//   process_virtual_memory_bytes        address space
//   process_open_fds, process_max_fds   descriptors in use / RLIMIT_NOFILE
//   process_start_time_seconds          Unix time the process started
//   process_threads                     threads
// Read from /proc/self at every scrape.
#ifndef PBRX_COMMON_PROCESS_METRICS_H_
#define PBRX_COMMON_PROCESS_METRICS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace pbrx::common {

// The fields of /proc/PID/stat this needs.
struct ProcStat {
  double cpu_seconds = 0;  // utime + stime
  double start_seconds_after_boot = 0;
  double virtual_bytes = 0;
  double resident_bytes = 0;
  double threads = 0;
};

// Parses the text of /proc/PID/stat (the command name may hold spaces and
// parentheses: fields count from its last ')'). INVALID_ARGUMENT when
// fields are missing.
absl::StatusOr<ProcStat> ParseProcStat(const std::string& text,
                                       long ticks_per_second, long page_size);

class ProcessCollector : public prometheus::Collectable {
 public:
  explicit ProcessCollector(std::string version)
      : version_(std::move(version)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string version_;
};

}  // namespace pbrx::common

#endif  // PBRX_COMMON_PROCESS_METRICS_H_
