// Small helpers shared by tests: temp dirs under TEST_TMPDIR, polling.
#ifndef PBRX_TESTS_TEST_UTIL_H_
#define PBRX_TESTS_TEST_UTIL_H_

#include <string>

namespace pbrx::testing_util {

// Creates a fresh, empty directory under $TEST_TMPDIR (or /tmp) whose name
// starts with `prefix`, and returns its path. Aborts on failure.
std::string NewTempDir(const std::string& prefix);

// A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, close).
// For tools that cannot report the port they bound.
int FreeTcpPort();

}  // namespace pbrx::testing_util

#endif  // PBRX_TESTS_TEST_UTIL_H_
