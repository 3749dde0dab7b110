// JsonWriter: a small streaming JSON emitter for our machine-readable
// outputs (`pbrx plan --json`, build reports). Pretty-prints with two-space
// indentation, escapes strings per RFC 8259, keeps keys in the order written
// (our schemas document that order). It does not parse JSON.
#ifndef PBRX_COMMON_JSON_WRITER_H_
#define PBRX_COMMON_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace pbrx::common {

class JsonWriter {
 public:
  // `pretty`: two-space indentation and newlines; otherwise compact (as OCI
  // manifests and configs are conventionally written).
  explicit JsonWriter(bool pretty = true) : pretty_(pretty) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // Inside an object: the next value's key.
  JsonWriter& Key(absl::string_view key);
  JsonWriter& String(absl::string_view value);
  JsonWriter& Int(int64_t value);
  // A number with up to 10 significant digits (3.41, 1234.567); null when
  // not finite.
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  JsonWriter& StringArray(const std::vector<std::string>& values);

  // The document so far, with a trailing newline once complete.
  std::string str() const;

  static std::string Quote(absl::string_view s);

 private:
  void BeforeValue();
  void Newline();

  std::string out_;
  struct Level {
    bool is_object;
    int count;
  };
  std::vector<Level> stack_;
  bool after_key_ = false;
  bool pretty_;
};

}  // namespace pbrx::common

#endif  // PBRX_COMMON_JSON_WRITER_H_
