// Reading the JSON documents steps write (probe.json, pip's install
// report) as google.protobuf.Struct, with absent fields as "" / nullptr.
#ifndef PBRX_COORDINATOR_PIPELINE_JSON_STRUCT_H_
#define PBRX_COORDINATOR_PIPELINE_JSON_STRUCT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace pbrx::coordinator {

// INVALID_ARGUMENT "WHAT is not valid JSON" otherwise.
absl::StatusOr<google::protobuf::Struct> ParseJsonStruct(
    const std::string& text, absl::string_view what);
// The string field `key` ("" when absent or not a string).
std::string Str(const google::protobuf::Struct& s, const std::string& key);
// The object field `key` (nullptr when absent or not an object).
const google::protobuf::Struct* Obj(const google::protobuf::Struct& s,
                                    const std::string& key);

}  // namespace pbrx::coordinator

#endif  // PBRX_COORDINATOR_PIPELINE_JSON_STRUCT_H_
