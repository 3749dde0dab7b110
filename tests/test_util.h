// Small helpers shared by tests: temp dirs under TEST_TMPDIR, polling.
#ifndef PBRX_TESTS_TEST_UTIL_H_
#define PBRX_TESTS_TEST_UTIL_H_

#include <string>

namespace pbrx::testing_util {

// Creates a fresh, empty directory under $TEST_TMPDIR (or /tmp) whose name
// starts with `prefix`, and returns its path. Aborts on failure.
std::string NewTempDir(const std::string& prefix);

// A fresh directory under $TEST_TMPDIR holding a copy of the tree `src`
// with every symlink replaced by what it points at (runfiles are symlinks
// out of the tree, which project readers refuse). Returns its path; the
// same path for the same `src` within one test process. Not thread-safe.
std::string DereferencedCopy(const std::string& src);

// The whole content of a file ("" if it cannot be read).
std::string ReadFile(const std::string& path);

// The value of the sample `series` (a metric name with its labels exactly as
// exposed, e.g. `x_total{a="b"}`) in a Prometheus text exposition; -1 when
// there is no such line. Matches whole series names, never prefixes.
double MetricValue(const std::string& exposition, const std::string& series);

}  // namespace pbrx::testing_util

#endif  // PBRX_TESTS_TEST_UTIL_H_
