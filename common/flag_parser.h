// FlagParser: a small command-line parser for our binaries. Flags are
// registered against variables owned by main (never globals), accept both
// "--name=value" and "--name value" (and "-j4" for short aliases), and every
// mistake yields one line that names the flag and what was expected (with
// the closest flag for a misspelt one), for an exit code 2. Values:
// strings, byte sizes ("1048576", "512M", "10G", "1.5GiB"), durations
// ("30s", "5m"), booleans ("--flag", "--flag=false"), or checked by the
// caller (AddCustom). Values may also come from a configuration file and
// environment variables, which the command line overrides; each flag
// remembers where its value came from. Used by the daemons and the pbrx
// subcommands alike (their --help, completions and man pages).
#ifndef PBRX_COMMON_FLAG_PARSER_H_
#define PBRX_COMMON_FLAG_PARSER_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pbrx::common {

// Parses "123", "4k", "512M", "10G", "1T" (powers of 1024; an optional "i"
// and "B" are accepted: "10GiB", "10GB"). INVALID_ARGUMENT otherwise.
absl::StatusOr<int64_t> ParseByteSize(absl::string_view text);

// Edit distance (insertions, deletions, substitutions, transpositions).
size_t EditDistance(absl::string_view a, absl::string_view b);

// The candidate closest to `name` (edit distance below 3; with `prefixes`,
// a candidate `name` starts, for names of 3 or more characters), or "".
// For "did you mean" hints.
std::string ClosestName(absl::string_view name,
                        const std::vector<std::string>& candidates,
                        bool prefixes = false);

class FlagParser {
 public:
  explicit FlagParser(std::string program) : program_(std::move(program)) {}

  // What Usage() prints besides the flags: "usage: PROGRAM SYNOPSIS"
  // (default "[FLAGS]"), a description, and examples (a command line and
  // what it does).
  void SetSynopsis(std::string synopsis) { synopsis_ = std::move(synopsis); }
  void SetDescription(std::string text) { description_ = std::move(text); }
  void AddExample(std::string command, std::string what) {
    examples_.push_back({std::move(command), std::move(what)});
  }

  void AddString(std::string name, std::string* target, std::string help);
  void AddByteSize(std::string name, int64_t* target, std::string help);
  // May be given several times; each value is appended.
  void AddStringList(std::string name, std::vector<std::string>* target,
                     std::string help);
  // A decimal integer (may be negative).
  void AddInt(std::string name, int64_t* target, std::string help);
  void AddDuration(std::string name, absl::Duration* target, std::string help);
  void AddBool(std::string name, bool* target, std::string help);
  // A value `set` checks and stores; its error follows "--NAME: ".
  // `repeated`: may be given several times (each value is passed on).
  void AddCustom(std::string name, std::string help,
                 std::function<absl::Status(absl::string_view)> set,
                 bool repeated = false);
  // Marks a flag as required: Parse() fails if it is absent.
  void Require(const std::string& name);
  // "-LETTER" stands for --NAME: "-j4", "-j 4", "-j=4"; for a boolean "-v".
  void AddShort(char letter, const std::string& name);
  // The placeholder of the flag's value in the help (--output=DEST);
  // default VALUE.
  void SetValueName(const std::string& name, std::string value_name);
  // The environment variable that sets the flag when the command line does
  // not (ApplyEnvironment).
  void SetEnvironment(const std::string& name, std::string variable);
  // Arguments that do not start with '-' ("-" itself too), and all after
  // "--", are appended to *out; without this they are refused.
  void AllowPositionals(std::vector<std::string>* out) { positionals_ = out; }

  // Sets flag `name` from a configuration file (`where`, e.g. "FILE:LINE",
  // prefixes errors): one value, or several for a list flag. The command
  // line, parsed after, wins: its value replaces this one, and a list
  // flag given there drops the file's values. INVALID_ARGUMENT "WHERE:
  // unknown key 'NAME' (no flag --NAME)" or "WHERE: NAME: why".
  absl::Status SetFromConfig(absl::string_view name,
                             const std::vector<std::string>& values,
                             absl::string_view where);
  // Sets each flag with an environment variable (SetEnvironment) that
  // `getenv` returns a non-empty value for; the command line still wins.
  // A list flag's variable holds one value. INVALID_ARGUMENT "VARIABLE:
  // why".
  absl::Status ApplyEnvironment(
      const std::function<const char*(const char*)>& getenv);

  // Parses argv[1..]. Sets *help_requested on "--help"/"-h" (and returns OK).
  absl::Status Parse(int argc, char** argv, bool* help_requested);
  // The same for the arguments after the program (or subcommand) name.
  absl::Status Parse(const std::vector<std::string>& args,
                     bool* help_requested);
  // Whether the flag got a value (from a file, the environment or the
  // command line).
  bool Given(const std::string& name) const;
  // Whether its value came from the command line (not a file or the
  // environment).
  bool GivenOnCommandLine(const std::string& name) const;
  std::string Usage() const;

  // Everything known about a flag, for `pbrx config`, shell completions
  // and man pages.
  struct Info {
    std::string name;
    char short_name = 0;
    std::string value_name;  // "" for booleans
    std::string help;
    std::string default_text;
    bool is_list = false;
    std::string environment;  // the variable, or ""
    // "" (default), "FILE:LINE", "$VARIABLE" or "command line".
    std::string source;
    // The values given (as text), or the default's when none was.
    std::vector<std::string> values;
  };
  std::vector<Info> Describe() const;
  const std::string& program() const { return program_; }
  const std::string& synopsis() const { return synopsis_; }
  const std::string& description() const { return description_; }
  const std::vector<std::pair<std::string, std::string>>& examples() const {
    return examples_;
  }

 private:
  struct Flag {
    std::string name;
    std::string help;
    std::string default_text;
    bool is_bool = false;
    bool required = false;
    bool seen = false;
    std::function<absl::Status(absl::string_view)> set;
    std::function<void()> clear;  // list flags: drop the values
    bool from_config = false;     // the values came from a file or $VAR
    bool is_list = false;
    char short_name = 0;
    std::string value_name = "VALUE";
    std::string environment;
    std::string source;
    std::vector<std::string> values;  // as given
  };
  Flag* Find(absl::string_view name);
  Flag* FindShort(char letter);
  absl::Status Set(Flag& flag, absl::string_view value);
  // "unknown flag --X" with the closest flag's name when one is close.
  absl::Status Unknown(absl::string_view name) const;

  std::string program_;
  std::string synopsis_ = "[FLAGS]";
  std::string description_;
  std::vector<std::pair<std::string, std::string>> examples_;
  std::vector<Flag> flags_;
  std::vector<std::string>* positionals_ = nullptr;
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
