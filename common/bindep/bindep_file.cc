#include "common/bindep/bindep_file.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace pbrx::common::bindep {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameChar(char c) {
  return IsAlnum(c) || c == '.' || c == '+' || c == '-' || c == '_' || c == '/';
}
bool IsProfileChar(char c) {
  return (c >= 'a' && c <= 'z') || IsDigit(c) || c == ':' || c == '-' ||
         c == '.';
}
bool IsUpstreamSegment(char c) {
  return IsAlnum(c) || c == '.' || c == '+' || c == '~' || c == ':';
}
bool IsDebverChar(char c) {
  return IsAlnum(c) || c == '.' || c == '+' || c == '~';
}

// A packrat-free PEG parser: every method either succeeds (consuming input)
// or fails; callers restore the position on failure. Failures at the
// furthest position reached are collected for the error message.
class Parser {
 public:
  explicit Parser(absl::string_view text) : s_(text) {}

  bool ParseRules(std::vector<Rule>* rules) {
    while (pos_ < s_.size()) {
      size_t save = pos_;
      Rule rule;
      if (ParseRule(&rule)) {
        rules->push_back(std::move(rule));
        continue;
      }
      pos_ = save;
      if (ParseComment()) continue;
      pos_ = save;
      if (ParseBlank()) continue;
      pos_ = save;
      return false;
    }
    return true;
  }

  std::string ErrorMessage(absl::string_view filename) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < fail_pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::vector<std::string> expected(expected_.begin(), expected_.end());
    std::string what;
    if (expected.size() == 1) {
      what = expected[0];
    } else if (!expected.empty()) {
      what = absl::StrCat(
          absl::StrJoin(expected.begin(), expected.end() - 1, ", "), " or ",
          expected.back());
    }
    return absl::StrCat(filename, ":", line, ":", col, ": expected ", what,
                        ", found ", Describe(fail_pos_));
  }

 private:
  char Cur() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool AtEnd() const { return pos_ >= s_.size(); }

  void Expect(const char* what) {
    if (pos_ > fail_pos_) {
      fail_pos_ = pos_;
      expected_.clear();
    }
    if (pos_ == fail_pos_) expected_.insert(what);
  }

  bool Char(char c, const char* what) {
    if (!AtEnd() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    Expect(what);
    return false;
  }

  std::string Describe(size_t p) const {
    if (p >= s_.size()) return "end of file";
    char c = s_[p];
    if (c == '\n') return "end of line";
    if (c == '\t') return "a tab (only spaces separate fields)";
    if (c >= 0x20 && c < 0x7f) return absl::StrCat("'", std::string(1, c), "'");
    return absl::StrFormat("byte 0x%02x", static_cast<unsigned char>(c));
  }

  bool Ws() {
    if (Cur() != ' ' || AtEnd()) {
      Expect("' '");
      return false;
    }
    while (!AtEnd() && Cur() == ' ') ++pos_;
    return true;
  }
  void OptionalWs() {
    size_t save = pos_;
    if (!Ws()) pos_ = save;
  }

  static constexpr size_t kMaxNameLength = 255;

  bool ParseName(std::string* name) {
    size_t start = pos_;
    // A name may start with '/': a file dependency such as /usr/bin/bash
    // (bindep's grammar); never with '-', so it is never an option.
    if (AtEnd() || !(IsAlnum(Cur()) || Cur() == '/')) {
      Expect("a package name");
      return false;
    }
    ++pos_;
    if (AtEnd() || !IsNameChar(Cur())) {
      Expect("a package name character (names have at least two)");
      return false;
    }
    while (!AtEnd() && IsNameChar(Cur())) ++pos_;
    if (pos_ - start > kMaxNameLength) {  // it becomes an argument
      pos_ = start + kMaxNameLength;
      Expect("the end of the package name (at most 255 characters)");
      return false;
    }
    *name = std::string(s_.substr(start, pos_ - start));
    return true;
  }

  bool ParseProfile(Profile* out) {
    out->positive = true;
    if (Cur() == '!' && !AtEnd()) {
      ++pos_;
      out->positive = false;
    }
    size_t start = pos_;
    if (AtEnd() || !IsProfileChar(Cur())) {
      Expect("a profile name (a-z 0-9 : - .)");
      return false;
    }
    while (!AtEnd() && IsProfileChar(Cur())) ++pos_;
    out->name = std::string(s_.substr(start, pos_ - start));
    return true;
  }

  bool ParseGroup(SelectorItem* out) {
    size_t save = pos_;
    if (Char('(', "'('")) {
      out->is_group = true;
      while (true) {
        size_t iter = pos_;
        OptionalWs();
        Profile p;
        if (!ParseProfile(&p)) {
          pos_ = iter;
          break;
        }
        out->group.push_back(std::move(p));
      }
      OptionalWs();
      if (Char(')', "')'")) return true;
    }
    pos_ = save;
    out->is_group = false;
    out->group.clear();
    return ParseProfile(&out->profile);
  }

  bool ParseSelector(std::vector<SelectorItem>* out) {
    if (!Ws()) return false;
    if (!Char('[', "'['")) return false;
    while (true) {
      size_t iter = pos_;
      OptionalWs();
      SelectorItem item;
      if (!ParseGroup(&item)) {
        pos_ = iter;
        break;
      }
      out->push_back(std::move(item));
    }
    OptionalWs();
    return Char(']', "']'");
  }

  bool Epoch() {
    if (!IsDigit(Cur()) || AtEnd()) return false;
    while (!AtEnd() && IsDigit(Cur())) ++pos_;
    return Char(':', "':'");
  }

  // trailingdeb = upstream_segment* '-' debver, checked without consuming.
  bool TrailingDebAt(size_t p) const {
    while (p < s_.size() && IsUpstreamSegment(s_[p])) ++p;
    if (p >= s_.size() || s_[p] != '-') return false;
    ++p;
    return p < s_.size() && IsDebverChar(s_[p]);
  }

  bool UpstreamHyphen() {
    size_t save = pos_;
    if (!Epoch()) pos_ = save;
    if (AtEnd() || !IsDigit(Cur())) {
      Expect("a version (starting with a digit)");
      return false;
    }
    ++pos_;
    while (!AtEnd()) {
      if (IsUpstreamSegment(Cur())) {
        ++pos_;
      } else if (Cur() == '-' && TrailingDebAt(pos_ + 1)) {
        ++pos_;
      } else {
        break;
      }
    }
    if (!Char('-', "'-'")) return false;
    if (AtEnd() || !IsDebverChar(Cur())) {
      Expect("a Debian revision");
      return false;
    }
    while (!AtEnd() && IsDebverChar(Cur())) ++pos_;
    return true;
  }

  bool UpstreamNoHyphen() {
    size_t save = pos_;
    if (!Epoch()) pos_ = save;
    if (AtEnd() || !IsDigit(Cur())) {
      Expect("a version (starting with a digit)");
      return false;
    }
    ++pos_;
    while (!AtEnd() && IsUpstreamSegment(Cur())) ++pos_;
    return true;
  }

  bool ParseDebVersion(std::string* out) {
    size_t start = pos_;
    if (UpstreamHyphen()) {
      *out = std::string(s_.substr(start, pos_ - start));
      return true;
    }
    pos_ = start;
    if (UpstreamNoHyphen()) {
      *out = std::string(s_.substr(start, pos_ - start));
      return true;
    }
    pos_ = start;
    return false;
  }

  bool ParseOneVersion(VersionConstraint* out) {
    static constexpr const char* kOps[] = {"<=", "<", "!=", "==", ">=", ">"};
    for (const char* op : kOps) {
      absl::string_view o(op);
      if (s_.substr(pos_, o.size()) == o) {
        pos_ += o.size();
        out->op = std::string(o);
        return ParseDebVersion(&out->version);
      }
    }
    Expect("a version operator (<, <=, ==, !=, >=, >)");
    return false;
  }

  bool ParseVersion(std::vector<VersionConstraint>* out) {
    if (!Ws()) return false;
    VersionConstraint first;
    if (!ParseOneVersion(&first)) return false;
    out->push_back(std::move(first));
    while (true) {
      size_t save = pos_;
      VersionConstraint next;
      if (!Char(',', "','") || !ParseOneVersion(&next)) {
        pos_ = save;
        break;
      }
      out->push_back(std::move(next));
    }
    return true;
  }

  bool ParseComment() {
    OptionalWs();
    if (!Char('#', "'#'")) return false;
    while (!AtEnd() && Cur() != '\n') ++pos_;
    return Char('\n', "end of line");
  }

  bool ParseBlank() {
    OptionalWs();
    return Char('\n', "end of line");
  }

  bool ParseRule(Rule* rule) {
    rule->line = LineAt(pos_);
    if (!ParseName(&rule->name)) return false;
    size_t save = pos_;
    if (!ParseSelector(&rule->selector)) {
      pos_ = save;
      rule->selector.clear();
    }
    save = pos_;
    if (!ParseVersion(&rule->versions)) {
      pos_ = save;
      rule->versions.clear();
    }
    if (Char('\n', "end of line")) return true;
    return ParseComment();
  }

  // 1-based line of `p`; amortised O(1) as rules are parsed in order.
  int LineAt(size_t p) {
    if (p < line_pos_) {
      line_pos_ = 0;
      line_ = 1;
    }
    for (; line_pos_ < p; ++line_pos_) line_ += s_[line_pos_] == '\n';
    return line_;
  }

  absl::string_view s_;
  size_t line_pos_ = 0;
  int line_ = 1;
  size_t pos_ = 0;
  size_t fail_pos_ = 0;
  std::set<std::string> expected_;
};

}  // namespace

absl::StatusOr<BindepFile> ParseBindepFile(absl::string_view content,
                                           absl::string_view filename) {
  // bindep opens the file in Python's text mode (universal newlines): CR LF
  // and a lone CR end a line as LF does.
  std::string text;
  text.reserve(content.size() + 1);
  for (size_t i = 0; i < content.size(); ++i) {
    if (content[i] != '\r') {
      text.push_back(content[i]);
    } else {
      text.push_back('\n');
      if (i + 1 < content.size() && content[i + 1] == '\n') ++i;
    }
  }
  // bindep reads a last line without '\n' as if it had one.
  if (text.empty() || text.back() != '\n') text.push_back('\n');
  Parser parser(text);
  BindepFile file;
  file.filename = std::string(filename);
  if (!parser.ParseRules(&file.rules)) {
    return absl::InvalidArgumentError(parser.ErrorMessage(filename));
  }
  return file;
}

}  // namespace pbrx::common::bindep
