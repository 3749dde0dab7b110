#include "common/flag_parser.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/beneath.h"

namespace pbrx::common {

absl::StatusOr<int64_t> ParseByteSize(absl::string_view text) {
  absl::string_view t = text;
  int shift = 0;
  absl::ConsumeSuffix(&t, "B");
  absl::ConsumeSuffix(&t, "i");
  if (!t.empty()) {
    switch (absl::ascii_toupper(t.back())) {
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      case 'T':
        shift = 40;
        break;
      default:
        break;
    }
    if (shift != 0) t.remove_suffix(1);
  }
  double value = 0;
  if (t.empty() || !(absl::ascii_isdigit(t.front())) ||
      !absl::SimpleAtod(t, &value) || value < 0 || !std::isfinite(value) ||
      value * std::ldexp(1.0, shift) > 9.0e18) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected a byte size like 1048576, 512M or 10G, got '", text, "'"));
  }
  return static_cast<int64_t>(value * std::ldexp(1.0, shift));
}

FlagParser::Flag* FlagParser::Find(absl::string_view name) {
  for (Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

void FlagParser::AddString(std::string name, std::string* target,
                           std::string help) {
  flags_.push_back(Flag{std::move(name), std::move(help), *target, false, false,
                        false, [target](absl::string_view v) {
                          *target = std::string(v);
                          return absl::OkStatus();
                        }});
}

void FlagParser::AddByteSize(std::string name, int64_t* target,
                             std::string help) {
  flags_.push_back(Flag{std::move(name), std::move(help), absl::StrCat(*target),
                        false, false, false,
                        [target](absl::string_view v) -> absl::Status {
                          absl::StatusOr<int64_t> n = ParseByteSize(v);
                          if (!n.ok()) return n.status();
                          *target = *n;
                          return absl::OkStatus();
                        }});
}

void FlagParser::AddStringList(std::string name,
                               std::vector<std::string>* target,
                               std::string help) {
  flags_.push_back(Flag{std::move(name), std::move(help), "", false, false,
                        false, [target](absl::string_view v) -> absl::Status {
                          target->push_back(std::string(v));
                          return absl::OkStatus();
                        }});
}

void FlagParser::AddInt(std::string name, int64_t* target, std::string help) {
  flags_.push_back(Flag{std::move(name), std::move(help), absl::StrCat(*target),
                        false, false, false,
                        [target](absl::string_view v) -> absl::Status {
                          int64_t n = 0;
                          if (!absl::SimpleAtoi(v, &n)) {
                            return absl::InvalidArgumentError(absl::StrCat(
                                "expected an integer, got '", v, "'"));
                          }
                          *target = n;
                          return absl::OkStatus();
                        }});
}

void FlagParser::AddDuration(std::string name, absl::Duration* target,
                             std::string help) {
  flags_.push_back(
      Flag{std::move(name), std::move(help), absl::FormatDuration(*target),
           false, false, false, [target](absl::string_view v) -> absl::Status {
             absl::Duration d;
             if (!absl::ParseDuration(v, &d) || d < absl::ZeroDuration()) {
               return absl::InvalidArgumentError(absl::StrCat(
                   "expected a duration like 30s or 5m, got '", v, "'"));
             }
             *target = d;
             return absl::OkStatus();
           }});
}

void FlagParser::AddBool(std::string name, bool* target, std::string help) {
  Flag f{std::move(name),
         std::move(help),
         *target ? "true" : "false",
         true,
         false,
         false,
         [target](absl::string_view v) -> absl::Status {
           if (v == "true" || v == "1") {
             *target = true;
           } else if (v == "false" || v == "0") {
             *target = false;
           } else {
             return absl::InvalidArgumentError(
                 absl::StrCat("expected true or false, got '", v, "'"));
           }
           return absl::OkStatus();
         }};
  flags_.push_back(std::move(f));
}

void FlagParser::Require(const std::string& name) {
  if (Flag* f = Find(name)) f->required = true;
}

absl::Status FlagParser::Parse(int argc, char** argv, bool* help_requested) {
  *help_requested = false;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      *help_requested = true;
      return absl::OkStatus();
    }
    if (!absl::ConsumePrefix(&arg, "--") || arg.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unexpected argument '", argv[i], "' (flags start with --)"));
    }
    absl::string_view name = arg;
    absl::string_view value;
    bool has_value = false;
    size_t eq = arg.find('=');
    if (eq != absl::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    Flag* flag = Find(name);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    if (!has_value) {
      if (flag->is_bool) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " needs a value"));
      }
    }
    absl::Status s = flag->set(value);
    if (!s.ok())
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, ": ", s.message()));
    flag->seen = true;
  }
  for (const Flag& f : flags_) {
    if (f.required && !f.seen) {
      return absl::InvalidArgumentError(
          absl::StrCat("missing required flag --", f.name));
    }
  }
  return absl::OkStatus();
}

std::string FlagParser::Usage() const {
  std::string out = absl::StrCat("usage: ", program_, " [FLAGS]\n\nflags:\n");
  for (const Flag& f : flags_) {
    absl::StrAppend(
        &out, "  --", f.name, f.is_bool ? "" : "=VALUE", "\n      ", f.help,
        f.required ? " (required)"
                   : (f.default_text.empty()
                          ? ""
                          : absl::StrCat(" (default: ", f.default_text, ")")),
        "\n");
  }
  return out;
}

absl::StatusOr<std::string> ReadFlagFile(const std::string& flag,
                                         const std::string& file,
                                         int64_t max_bytes) {
  absl::StatusOr<std::string> text = ReadRegularFile(file, max_bytes);
  if (text.ok()) return text;
  if (text.status().code() == absl::StatusCode::kNotFound) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", file, ": cannot be read"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(flag, " ", text.status().message()));
}

}  // namespace pbrx::common
