// Reading JSON documents (a step's probe.json, pip's install report, OCI
// and registry manifests: untrusted) as google.protobuf.Struct, with absent
// fields as "" / nullptr. The parser is strict RFC 8259: UTF-8 only, no
// duplicate keys (two readers of one hostile document must not see
// different values), nesting capped.
#ifndef PBRX_COMMON_JSON_STRUCT_H_
#define PBRX_COMMON_JSON_STRUCT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace pbrx::common {

// Objects and arrays nested deeper than this are refused.
inline constexpr int kMaxJsonDepth = 100;

// The object `text` holds. INVALID_ARGUMENT "WHAT is not valid JSON: line
// L, column C: PROBLEM", or "WHAT is not a JSON object" for another value.
absl::StatusOr<google::protobuf::Struct> ParseJsonStruct(
    const std::string& text, absl::string_view what);
// The string field `key` ("" when absent or not a string).
std::string Str(const google::protobuf::Struct& s, const std::string& key);
// The object field `key` (nullptr when absent or not an object).
const google::protobuf::Struct* Obj(const google::protobuf::Struct& s,
                                    const std::string& key);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_JSON_STRUCT_H_
