#include "common/json_struct.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace pbrx::common {

absl::StatusOr<google::protobuf::Struct> ParseJsonStruct(
    const std::string& text, absl::string_view what) {
  google::protobuf::Struct s;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(text, &s, opts).ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not valid JSON"));
  }
  return s;
}

std::string Str(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? "" : it->second.string_value();
}

const google::protobuf::Struct* Obj(const google::protobuf::Struct& s,
                                    const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() || !it->second.has_struct_value()
             ? nullptr
             : &it->second.struct_value();
}

}  // namespace pbrx::common
