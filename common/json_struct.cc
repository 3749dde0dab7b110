#include "common/json_struct.h"

#include <cmath>
#include <cstdint>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace pbrx::common {

namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The length of the well-formed UTF-8 sequence at the start of `s` (RFC
// 3629: no overlong forms, no surrogates, nothing past U+10FFFF); 0 if
// there is none.
size_t Utf8SequenceLength(absl::string_view s) {
  const auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const auto cont = [&](size_t i) {
    return i < s.size() && (b(i) & 0xC0) == 0x80;
  };
  const uint8_t lead = b(0);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return cont(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (lead == 0xE0 && b(1) < 0xA0) return 0;  // overlong
    if (lead == 0xED && b(1) > 0x9F) return 0;  // a surrogate
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (lead == 0xF0 && b(1) < 0x90) return 0;  // overlong
    if (lead == 0xF4 && b(1) > 0x8F) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

// RFC 8259 JSON into google.protobuf.Value, strictly: UTF-8 only, no
// duplicate keys (two readers of a hostile document must not see different
// values), at most kMaxJsonDepth nested objects and arrays. The first error
// is kept with its line and column.
class JsonParser {
 public:
  explicit JsonParser(absl::string_view text) : text_(text) {}

  bool ParseDocument(Value* out) {
    SkipSpace();
    if (!ParseValue(out, 0)) return false;
    SkipSpace();
    if (pos_ != text_.size()) return Fail("text after the document");
    return true;
  }
  const std::string& error() const { return error_; }

 private:
  bool Fail(absl::string_view problem) { return FailAt(pos_, problem); }
  bool FailAt(size_t at, absl::string_view problem) {
    int line = 1, column = 1;
    for (size_t i = 0; i < at && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    error_ = absl::StrCat("line ", line, ", column ", column, ": ", problem);
    return false;
  }
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return text_[pos_]; }
  void SkipSpace() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' ||
                        Peek() == '\r'))
      ++pos_;
  }
  bool Consume(char c) {
    if (AtEnd() || Peek() != c) return false;
    ++pos_;
    return true;
  }

  bool ParseValue(Value* out, int depth) {
    if (AtEnd()) return Fail("expected a value, found the end");
    switch (Peek()) {
      case '{':
        if (depth >= kMaxJsonDepth) return TooDeep();
        return ParseObject(out->mutable_struct_value(), depth + 1);
      case '[':
        if (depth >= kMaxJsonDepth) return TooDeep();
        return ParseArray(out, depth + 1);
      case '"': {
        std::string s;
        if (!ParseString(&s)) return false;
        out->set_string_value(std::move(s));
        return true;
      }
      case 't':
        if (!ParseWord("true")) return false;
        out->set_bool_value(true);
        return true;
      case 'f':
        if (!ParseWord("false")) return false;
        out->set_bool_value(false);
        return true;
      case 'n':
        if (!ParseWord("null")) return false;
        out->set_null_value(google::protobuf::NULL_VALUE);
        return true;
      default:
        if (Peek() == '-' || IsDigit(Peek())) return ParseNumber(out);
        return Fail("expected a value");
    }
  }

  bool TooDeep() {
    return Fail(absl::StrCat("nested deeper than ", kMaxJsonDepth, " levels"));
  }

  bool ParseWord(absl::string_view word) {
    if (text_.substr(pos_, word.size()) != word)
      return Fail("expected a value");
    pos_ += word.size();
    return true;
  }

  bool ParseObject(Struct* out, int depth) {
    ++pos_;  // '{'
    SkipSpace();
    if (Consume('}')) return true;
    auto* fields = out->mutable_fields();
    while (true) {
      SkipSpace();
      if (AtEnd() || Peek() != '"') return Fail("expected a key string");
      const size_t key_at = pos_;
      std::string key;
      if (!ParseString(&key)) return false;
      if (fields->count(key) != 0)
        return FailAt(key_at, absl::StrCat("duplicate key \"", key, "\""));
      Value& value = (*fields)[key];
      SkipSpace();
      if (!Consume(':')) return Fail("expected ':'");
      SkipSpace();
      if (!ParseValue(&value, depth)) return false;
      SkipSpace();
      if (Consume(',')) continue;
      if (Consume('}')) return true;
      return Fail("expected ',' or '}'");
    }
  }

  bool ParseArray(Value* out, int depth) {
    ++pos_;  // '['
    auto* list = out->mutable_list_value();
    SkipSpace();
    if (Consume(']')) return true;
    while (true) {
      SkipSpace();
      if (!ParseValue(list->add_values(), depth)) return false;
      SkipSpace();
      if (Consume(',')) continue;
      if (Consume(']')) return true;
      return Fail("expected ',' or ']'");
    }
  }

  // Four hex digits after "\u".
  bool ParseHex4(uint32_t* out) {
    if (text_.size() - pos_ < 4) return Fail("expected 4 hex digits after \\u");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = HexValue(text_[pos_ + i]);
      if (h < 0) return Fail("expected 4 hex digits after \\u");
      v = v * 16 + static_cast<uint32_t>(h);
    }
    pos_ += 4;
    *out = v;
    return true;
  }

  bool ParseString(std::string* out) {
    ++pos_;  // '"'
    while (true) {
      if (AtEnd()) return Fail("unterminated string");
      const char c = Peek();
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (static_cast<uint8_t>(c) < 0x20)
        return Fail("control character in a string (escape it)");
      if (c != '\\') {
        size_t n = Utf8SequenceLength(text_.substr(pos_));
        if (n == 0) return Fail("not UTF-8");
        out->append(text_.data() + pos_, n);
        pos_ += n;
        continue;
      }
      ++pos_;  // '\\'
      if (AtEnd()) return Fail("unterminated string");
      const char e = Peek();
      ++pos_;
      switch (e) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp;
          if (!ParseHex4(&cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF)
            return Fail("a low surrogate without a high one");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low;
            if (!Consume('\\') || !Consume('u'))
              return Fail("a high surrogate without a low one");
            if (!ParseHex4(&low)) return false;
            if (low < 0xDC00 || low > 0xDFFF)
              return Fail("a high surrogate without a low one");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          --pos_;
          return Fail("unknown escape");
      }
    }
  }

  bool ParseNumber(Value* out) {
    const size_t start = pos_;
    Consume('-');
    if (Consume('0')) {
      // no leading zeros
    } else if (!AtEnd() && IsDigit(Peek())) {
      while (!AtEnd() && IsDigit(Peek())) ++pos_;
    } else {
      return Fail("expected a digit");
    }
    if (Consume('.')) {
      if (AtEnd() || !IsDigit(Peek())) return Fail("expected a digit");
      while (!AtEnd() && IsDigit(Peek())) ++pos_;
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      ++pos_;
      if (!Consume('+')) Consume('-');
      if (AtEnd() || !IsDigit(Peek())) return Fail("expected a digit");
      while (!AtEnd() && IsDigit(Peek())) ++pos_;
    }
    double v;
    if (!absl::SimpleAtod(text_.substr(start, pos_ - start), &v) ||
        !std::isfinite(v))
      return FailAt(start, "number out of range");
    out->set_number_value(v);
    return true;
  }

  absl::string_view text_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

absl::StatusOr<google::protobuf::Struct> ParseJsonStruct(
    const std::string& text, absl::string_view what) {
  JsonParser parser(text);
  Value doc;
  if (!parser.ParseDocument(&doc)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is not valid JSON: ", parser.error()));
  }
  if (!doc.has_struct_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is not a JSON object"));
  }
  return std::move(*doc.mutable_struct_value());
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
