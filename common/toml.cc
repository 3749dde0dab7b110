#include "common/toml.h"

#include "absl/strings/str_cat.h"

namespace pbrx::common {
namespace {

// toml++ nests one table per segment of a dotted key ("a.b.c = 1",
// "[a.b.c]") and both builds and frees them recursively, without a bound:
// 200,000 segments overflow an 8 MiB stack. Keys (and inline tables, which
// TOML 1.0 keeps on one line) never span lines, so the dots on one line
// outside strings and comments bound the nesting any key can create; more
// than kMaxTomlDotsPerLine is refused before toml++ sees the text.
constexpr int kMaxTomlDotsPerLine = 256;

absl::Status CheckTomlNesting(absl::string_view text, absl::string_view file) {
  enum {
    kCode,
    kComment,
    kBasic,
    kLiteral,
    kMultiBasic,
    kMultiLiteral
  } state = kCode;
  int line = 1, dots = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    auto starts = [&](absl::string_view s) {
      return text.substr(i, s.size()) == s;
    };
    if (c == '\n') {
      ++line;
      dots = 0;
      if (state != kMultiBasic && state != kMultiLiteral) state = kCode;
      continue;
    }
    switch (state) {
      case kCode:
        if (c == '#') {
          state = kComment;
        } else if (starts("\"\"\"")) {
          state = kMultiBasic;
          i += 2;
        } else if (starts("'''")) {
          state = kMultiLiteral;
          i += 2;
        } else if (c == '"') {
          state = kBasic;
        } else if (c == '\'') {
          state = kLiteral;
        } else if (c == '.' && ++dots > kMaxTomlDotsPerLine) {
          return absl::InvalidArgumentError(absl::StrCat(
              file, ":", line, ": more than ", kMaxTomlDotsPerLine,
              " '.' outside strings on one line: keys nested that deep are "
              "refused"));
        }
        break;
      case kComment:
        break;
      case kBasic:
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          state = kCode;
        }
        break;
      case kLiteral:
        if (c == '\'') state = kCode;
        break;
      case kMultiBasic:
        if (c == '\\') {
          ++i;
          if (i < text.size() && text[i] == '\n') ++line;
        } else if (starts("\"\"\"")) {
          state = kCode;
          i += 2;
        }
        break;
      case kMultiLiteral:
        if (starts("'''")) {
          state = kCode;
          i += 2;
        }
        break;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<toml::table> ParseToml(absl::string_view text,
                                      absl::string_view file) {
  if (absl::Status s = CheckTomlNesting(text, file); !s.ok()) return s;
  toml::parse_result doc =
      toml::parse(std::string_view(text.data(), text.size()),
                  std::string_view(file.data(), file.size()));
  if (!doc) {
    const toml::parse_error& e = doc.error();
    return absl::InvalidArgumentError(absl::StrCat(
        file, ":", e.source().begin.line, ":", e.source().begin.column, ": ",
        std::string(e.description())));
  }
  return std::move(doc).table();
}

}  // namespace pbrx::common
