#include "common/flag_parser.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/beneath.h"
#include "common/status_macros.h"

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

namespace {

// `text` wrapped at `width` columns, each line indented by `indent`.
std::string Wrap(absl::string_view text, size_t indent, size_t width) {
  std::string out, line;
  const std::string pad(indent, ' ');
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!line.empty() && pad.size() + line.size() + 1 + word.size() > width) {
      absl::StrAppend(&out, pad, line, "\n");
      line.clear();
    }
    if (!line.empty()) line += ' ';
    absl::StrAppend(&line, word);
  }
  if (!line.empty()) absl::StrAppend(&out, pad, line, "\n");
  return out;
}

}  // namespace

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1,
                                     std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] =
          std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::string ClosestName(absl::string_view name,
                        const std::vector<std::string>& candidates,
                        bool prefixes) {
  std::string best;
  size_t best_distance = 3;  // suggest only close names
  for (const std::string& c : candidates) {
    size_t d = EditDistance(name, c);
    if (prefixes && absl::StartsWith(c, name) && name.size() >= 3) d = 1;
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

FlagParser::Flag* FlagParser::Find(absl::string_view name) {
  for (Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

FlagParser::Flag* FlagParser::FindShort(char letter) {
  for (Flag& f : flags_) {
    if (f.short_name == letter) return &f;
  }
  return nullptr;
}

void FlagParser::AddString(std::string name, std::string* target,
                           std::string help) {
  Flag f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.default_text = *target;
  f.set = [target](absl::string_view v) {
    *target = std::string(v);
    return absl::OkStatus();
  };
  flags_.push_back(std::move(f));
}

void FlagParser::AddByteSize(std::string name, int64_t* target,
                             std::string help) {
  Flag f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.default_text = absl::StrCat(*target);
  f.value_name = "SIZE";
  f.set = [target](absl::string_view v) -> absl::Status {
    absl::StatusOr<int64_t> n = ParseByteSize(v);
    if (!n.ok()) return n.status();
    *target = *n;
    return absl::OkStatus();
  };
  flags_.push_back(std::move(f));
}

void FlagParser::AddStringList(std::string name,
                               std::vector<std::string>* target,
                               std::string help) {
  Flag f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.is_list = true;
  f.set = [target](absl::string_view v) -> absl::Status {
    target->push_back(std::string(v));
    return absl::OkStatus();
  };
  f.clear = [target] { target->clear(); };
  flags_.push_back(std::move(f));
}

void FlagParser::AddInt(std::string name, int64_t* target, std::string help) {
  Flag f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.default_text = absl::StrCat(*target);
  f.value_name = "N";
  f.set = [target](absl::string_view v) -> absl::Status {
    int64_t n = 0;
    if (!absl::SimpleAtoi(v, &n)) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected an integer, got '", v, "'"));
    }
    *target = n;
    return absl::OkStatus();
  };
  flags_.push_back(std::move(f));
}

void FlagParser::AddDuration(std::string name, absl::Duration* target,
                             std::string help) {
  Flag f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.default_text = absl::FormatDuration(*target);
  f.value_name = "DURATION";
  f.set = [target](absl::string_view v) -> absl::Status {
    absl::Duration d;
    if (!absl::ParseDuration(v, &d) || d < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected a duration like 30s or 5m, got '", v, "'"));
    }
    *target = d;
    return absl::OkStatus();
  };
  flags_.push_back(std::move(f));
}

void FlagParser::AddBool(std::string name, bool* target, std::string help) {
  Flag f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.default_text = *target ? "true" : "false";
  f.is_bool = true;
  f.value_name = "";
  f.set = [target](absl::string_view v) -> absl::Status {
    if (v == "true" || v == "1") {
      *target = true;
    } else if (v == "false" || v == "0") {
      *target = false;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("expected true or false, got '", v, "'"));
    }
    return absl::OkStatus();
  };
  flags_.push_back(std::move(f));
}

void FlagParser::AddCustom(std::string name, std::string help,
                           std::function<absl::Status(absl::string_view)> set,
                           bool repeated) {
  Flag f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.set = std::move(set);
  f.is_list = repeated;
  flags_.push_back(std::move(f));
}

void FlagParser::Require(const std::string& name) {
  if (Flag* f = Find(name)) f->required = true;
}

void FlagParser::AddShort(char letter, const std::string& name) {
  if (Flag* f = Find(name)) f->short_name = letter;
}

void FlagParser::SetValueName(const std::string& name, std::string value_name) {
  if (Flag* f = Find(name)) f->value_name = std::move(value_name);
}

void FlagParser::SetEnvironment(const std::string& name, std::string variable) {
  if (Flag* f = Find(name)) f->environment = std::move(variable);
}

bool FlagParser::Given(const std::string& name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return f.seen;
  }
  return false;
}

bool FlagParser::GivenOnCommandLine(const std::string& name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return f.seen && f.source == "command line";
  }
  return false;
}

absl::Status FlagParser::Unknown(absl::string_view name) const {
  std::vector<std::string> names;
  for (const Flag& f : flags_) names.push_back(f.name);
  const std::string best = ClosestName(name, names, /*prefixes=*/true);
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown flag --", name,
      best.empty() ? "" : absl::StrCat(" (did you mean --", best, "?)")));
}

absl::Status FlagParser::Set(Flag& flag, absl::string_view value) {
  absl::Status s = flag.set(value);
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag.name, ": ", s.message()));
  }
  if (!flag.is_list) flag.values.clear();
  flag.values.push_back(std::string(value));
  flag.seen = true;
  return absl::OkStatus();
}

absl::Status FlagParser::SetFromConfig(absl::string_view name,
                                       const std::vector<std::string>& values,
                                       absl::string_view where) {
  Flag* flag = Find(name);
  if (flag == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": unknown key '", name, "' (no flag --", name, ")"));
  }
  if (values.size() != 1 && !flag->is_list) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", name, ": expected one value, not a list"));
  }
  if (flag->clear) flag->clear();
  for (const std::string& v : values) {
    absl::Status s = flag->set(v);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", name, ": ", s.message()));
    }
  }
  flag->values = values;
  flag->seen = true;
  flag->from_config = true;
  flag->source = std::string(where);
  return absl::OkStatus();
}

absl::Status FlagParser::ApplyEnvironment(
    const std::function<const char*(const char*)>& getenv) {
  for (Flag& f : flags_) {
    if (f.environment.empty()) continue;
    const char* v = getenv(f.environment.c_str());
    if (v == nullptr || *v == '\0') continue;
    if (f.clear) f.clear();
    absl::Status s = f.set(v);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(f.environment, ": ", s.message()));
    }
    f.values = {v};
    f.seen = true;
    f.from_config = true;
    f.source = "$" + f.environment;
  }
  return absl::OkStatus();
}

absl::Status FlagParser::Parse(int argc, char** argv, bool* help_requested) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  return Parse(args, help_requested);
}

absl::Status FlagParser::Parse(const std::vector<std::string>& args,
                               bool* help_requested) {
  *help_requested = false;
  bool only_positionals = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& raw = args[i];
    absl::string_view arg = raw;
    if (only_positionals || arg.empty() || arg[0] != '-' || arg == "-") {
      if (positionals_ == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            "unexpected argument '", raw, "' (flags start with --)"));
      }
      positionals_->push_back(raw);
      continue;
    }
    if (arg == "--") {
      only_positionals = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      *help_requested = true;
      return absl::OkStatus();
    }
    Flag* flag = nullptr;
    absl::string_view value;
    bool has_value = false;
    if (absl::ConsumePrefix(&arg, "--")) {
      absl::string_view name = arg;
      size_t eq = arg.find('=');
      if (eq != absl::string_view::npos) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        has_value = true;
      }
      flag = Find(name);
      if (flag == nullptr) return Unknown(name);
    } else {
      // -X, -XVALUE, -X=VALUE
      flag = FindShort(arg[1]);
      if (flag == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown flag ", raw.substr(0, 2)));
      }
      if (arg.size() > 2) {
        value = arg.substr(arg[2] == '=' ? 3 : 2);
        has_value = true;
      }
    }
    if (!has_value) {
      if (flag->is_bool) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", flag->name, " needs a value"));
      }
    }
    if (flag->from_config) {  // the command line replaces the file's
      if (flag->clear) flag->clear();
      flag->values.clear();
      flag->from_config = false;
    }
    RETURN_IF_ERROR(Set(*flag, value));
    flag->source = "command line";
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
  std::string out = absl::StrCat("usage: ", program_, " ", synopsis_, "\n");
  if (!description_.empty()) {
    out += "\n";
    for (absl::string_view para : absl::StrSplit(description_, '\n'))
      out += para.empty() ? "\n" : Wrap(para, 0, 79);
  }
  out += "\nflags:\n";
  for (const Flag& f : flags_) {
    std::string head = "  ";
    if (f.short_name != 0)
      absl::StrAppend(&head, "-", std::string(1, f.short_name), ", ");
    absl::StrAppend(&head, "--", f.name,
                    f.is_bool ? "" : absl::StrCat("=", f.value_name));
    std::string text = f.help;
    if (f.is_list) text += " (repeatable)";
    if (f.required) {
      text += " (required)";
    } else if (!f.default_text.empty()) {
      absl::StrAppend(&text, " (default: ", f.default_text, ")");
    }
    if (!f.environment.empty())
      absl::StrAppend(&text, " [$", f.environment, "]");
    absl::StrAppend(&out, head, "\n", Wrap(text, 6, 79));
  }
  if (!examples_.empty()) {
    out += "\nexamples:\n";
    for (const auto& [command, what] : examples_)
      absl::StrAppend(&out, "  ", command, "\n", Wrap(what, 6, 79));
  }
  return out;
}

std::vector<FlagParser::Info> FlagParser::Describe() const {
  std::vector<Info> out;
  for (const Flag& f : flags_) {
    Info i;
    i.name = f.name;
    i.short_name = f.short_name;
    i.value_name = f.is_bool ? "" : f.value_name;
    i.help = f.help;
    i.default_text = f.default_text;
    i.is_list = f.is_list;
    i.environment = f.environment;
    i.source = f.source;
    i.values = f.values;
    if (!f.seen && !f.default_text.empty()) i.values = {f.default_text};
    out.push_back(std::move(i));
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
