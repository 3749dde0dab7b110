// FlagParser: a small command-line parser for our binaries. Flags are
// registered against variables owned by main (never globals), accept both
// "--name=value" and "--name value", and every mistake yields one line that
// names the flag and what was expected, for an exit code 2 in main. Values:
// strings, byte sizes ("1048576", "512M", "10G", "1.5GiB"), durations
// ("30s", "5m"), booleans ("--flag", "--flag=false").
#ifndef PBRX_COMMON_FLAG_PARSER_H_
#define PBRX_COMMON_FLAG_PARSER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pbrx::common {

// Parses "123", "4k", "512M", "10G", "1T" (powers of 1024; an optional "i"
// and "B" are accepted: "10GiB", "10GB"). INVALID_ARGUMENT otherwise.
absl::StatusOr<int64_t> ParseByteSize(absl::string_view text);

class FlagParser {
 public:
  explicit FlagParser(std::string program) : program_(std::move(program)) {}

  void AddString(std::string name, std::string* target, std::string help);
  void AddByteSize(std::string name, int64_t* target, std::string help);
  // May be given several times; each value is appended.
  void AddStringList(std::string name, std::vector<std::string>* target,
                     std::string help);
  // A decimal integer (may be negative).
  void AddInt(std::string name, int64_t* target, std::string help);
  void AddDuration(std::string name, absl::Duration* target, std::string help);
  void AddBool(std::string name, bool* target, std::string help);
  // Marks a flag as required: Parse() fails if it is absent.
  void Require(const std::string& name);

  // Parses argv[1..]. Sets *help_requested on "--help"/"-h" (and returns OK).
  // Positional arguments are refused (none of our daemons take any).
  absl::Status Parse(int argc, char** argv, bool* help_requested);

  std::string Usage() const;

 private:
  struct Flag {
    std::string name;
    std::string help;
    std::string default_text;
    bool is_bool = false;
    bool required = false;
    bool seen = false;
    std::function<absl::Status(absl::string_view)> set;
  };
  Flag* Find(absl::string_view name);

  std::string program_;
  std::vector<Flag> flags_;
};

// The content of the file a flag names (at most `max_bytes`; symlinks
// followed): INVALID_ARGUMENT "FLAG FILE: cannot be read" when it does not
// exist, else "FLAG FILE: ..." naming why (permissions, not a regular file,
// over the limit).
absl::StatusOr<std::string> ReadFlagFile(const std::string& flag,
                                         const std::string& file,
                                         int64_t max_bytes);

}  // namespace pbrx::common

#endif  // PBRX_COMMON_FLAG_PARSER_H_
