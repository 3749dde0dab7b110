// Reading JSON documents (a step's probe.json, pip's install report, OCI
// and registry manifests) as google.protobuf.Struct, unknown fields
// ignored, with absent fields as "" / nullptr.
#ifndef PBRX_COMMON_JSON_STRUCT_H_
#define PBRX_COMMON_JSON_STRUCT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace pbrx::common {

// INVALID_ARGUMENT "WHAT is not valid JSON" otherwise.
absl::StatusOr<google::protobuf::Struct> ParseJsonStruct(
    const std::string& text, absl::string_view what);
// The string field `key` ("" when absent or not a string).
std::string Str(const google::protobuf::Struct& s, const std::string& key);
// The object field `key` (nullptr when absent or not an object).
const google::protobuf::Struct* Obj(const google::protobuf::Struct& s,
                                    const std::string& key);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_JSON_STRUCT_H_
