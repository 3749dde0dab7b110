// Status propagation helpers. Abseil 20220623 ships no status macros, so this
// is the one place that defines them. Deliberately tiny: no source-location
// magic, no logging.
#ifndef PBRX_COMMON_STATUS_MACROS_H_
#define PBRX_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define PBRX_STATUS_CONCAT_INNER_(a, b) a##b
#define PBRX_STATUS_CONCAT_(a, b) PBRX_STATUS_CONCAT_INNER_(a, b)

// Returns from the current function when `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                    \
  do {                                           \
    ::absl::Status pbrx_status_ = (expr);        \
    if (!pbrx_status_.ok()) return pbrx_status_; \
  } while (false)

// `ASSIGN_OR_RETURN(auto x, F())`: evaluates F() (an absl::StatusOr<T>),
// returns its status when not OK, else moves the value into `lhs`.
#define ASSIGN_OR_RETURN(lhs, rexpr)                                         \
  PBRX_ASSIGN_OR_RETURN_IMPL_(PBRX_STATUS_CONCAT_(pbrx_statusor_, __LINE__), \
                              lhs, rexpr)

#define PBRX_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr)  \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = *std::move(statusor)

namespace pbrx::common {

// Returns `status` with `context` prepended to its message ("context: msg"),
// keeping its code. OK stays OK.
absl::Status Annotate(const absl::Status& status, absl::string_view context);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_STATUS_MACROS_H_
