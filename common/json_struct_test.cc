#include "common/json_struct.h"

#include <string>

#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace pbrx::common {
namespace {

// Valid documents read as protobuf's own JSON reader reads them.
TEST(ParseJsonStructTest, ReadsWhatProtobufReads) {
  const std::string docs[] = {
      "{}",
      R"({"install": [{"download_info": {"url": "https://files.example/a-1.whl",
          "archive_info": {"hashes": {"sha256": "ab"}}}, "is_direct": false,
          "requested": true, "metadata": {"requires_dist": null}}],
          "pip_version": "23.0.1", "version": "1"})",
      R"({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
          "config": {"digest": "sha256:00", "size": 1234},
          "layers": [{"size": 0}, {"size": -0}, {"size": 1.5e3}, {"size": 0.25},
                     {"size": 9007199254740993}, {"size": 1E-2}]})",
      "\t\r\n {\"a\" : [ [ ] , { } , \"\" , true , false , null ] } \n",
      R"({"esc": "\"\\\/\b\f\n\r\t", "u": "\u00e9\u20ac\ud83d\ude00\u0000",
          "raw": "é€😀"})",
  };
  for (const std::string& doc : docs) {
    absl::StatusOr<google::protobuf::Struct> ours = ParseJsonStruct(doc, "d");
    ASSERT_TRUE(ours.ok()) << doc << ": " << ours.status();
    google::protobuf::Struct theirs;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(doc, &theirs).ok())
        << doc;
    EXPECT_TRUE(
        google::protobuf::util::MessageDifferencer::Equals(*ours, theirs))
        << doc << "\nours: " << ours->DebugString()
        << "\ntheirs: " << theirs.DebugString();
  }
  auto emoji = ParseJsonStruct(R"({"u": "\ud83d\ude00"})", "d");
  ASSERT_TRUE(emoji.ok());
  EXPECT_EQ(Str(*emoji, "u"), "\xF0\x9F\x98\x80");
}

TEST(ParseJsonStructTest, RefusesBadDocumentsSayingWhereAndWhy) {
  struct Case {
    std::string text, message;
  } cases[] = {
      {"",
       "d is not valid JSON: line 1, column 1: expected a value, found "
       "the end"},
      {"schemaVersion: 2",
       "d is not valid JSON: line 1, column 1: expected a value"},
      {"[1]", "d is not a JSON object"},
      {"\"s\"", "d is not a JSON object"},
      {"{", "d is not valid JSON: line 1, column 2: expected a key string"},
      {"{\"a\":1,}",
       "d is not valid JSON: line 1, column 8: expected a key string"},
      {"{\"a\" 1}", "d is not valid JSON: line 1, column 6: expected ':'"},
      {"{\n  \"a\": 1\n  \"b\": 2\n}",
       "d is not valid JSON: line 3, column 3: expected ',' or '}'"},
      {"{\"a\": [1 2]}",
       "d is not valid JSON: line 1, column 10: expected ',' or ']'"},
      {"{\"a\": 01}",
       "d is not valid JSON: line 1, column 8: expected ',' or '}'"},
      {"{\"a\": 1.}",
       "d is not valid JSON: line 1, column 9: expected a digit"},
      {"{\"a\": -}", "d is not valid JSON: line 1, column 8: expected a digit"},
      {"{\"a\": 1e}",
       "d is not valid JSON: line 1, column 9: expected a digit"},
      {"{\"a\": 1e400}",
       "d is not valid JSON: line 1, column 7: number out of range"},
      {"{\"a\": tru}",
       "d is not valid JSON: line 1, column 7: expected a value"},
      {"{\"a\": NaN}",
       "d is not valid JSON: line 1, column 7: expected a value"},
      {"{\"a\": \"\\x\"}",
       "d is not valid JSON: line 1, column 9: unknown escape"},
      {"{\"a\": \"\\u12\"}",
       "d is not valid JSON: line 1, column 10: expected 4 hex digits after "
       "\\u"},
      {"{\"a\": \"\\ud800\"}",
       "d is not valid JSON: line 1, column 14: a high surrogate without a "
       "low one"},
      {"{\"a\": \"\\udc00\"}",
       "d is not valid JSON: line 1, column 14: a low surrogate without a "
       "high one"},
      {"{\"a\": \"x\ny\"}",
       "d is not valid JSON: line 1, column 9: control character in a string "
       "(escape it)"},
      {"{\"a\": \"\xff\"}", "d is not valid JSON: line 1, column 8: not UTF-8"},
      {"{\"a\": \"\xc0\xaf\"}",
       "d is not valid JSON: line 1, column 8: not UTF-8"},  // overlong '/'
      {"{\"a\": \"\xed\xa0\x80\"}",
       "d is not valid JSON: line 1, column 8: not UTF-8"},  // a surrogate
      {"{\"a\": \"\xf4\x90\x80\x80\"}",
       "d is not valid JSON: line 1, column 8: not UTF-8"},  // past U+10FFFF
      {"{\"a\": \"open",
       "d is not valid JSON: line 1, column 12: "
       "unterminated string"},
      {"{\"a\": 1} x",
       "d is not valid JSON: line 1, column 10: text after the document"},
      {"{\"digest\": \"sha256:aa\",\n \"digest\": \"sha256:bb\"}",
       "d is not valid JSON: line 2, column 2: duplicate key \"digest\""},
  };
  for (const Case& c : cases) {
    absl::StatusOr<google::protobuf::Struct> got = ParseJsonStruct(c.text, "d");
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument)
        << c.text;
    EXPECT_EQ(got.status().message(), c.message) << c.text;
  }
}

TEST(ParseJsonStructTest, NestingIsCapped) {
  auto nested = [](int levels) {
    std::string s = "{\"a\":";
    for (int i = 1; i < levels; ++i) s += "[";
    s += "1";
    for (int i = 1; i < levels; ++i) s += "]";
    return s + "}";
  };
  EXPECT_TRUE(ParseJsonStruct(nested(kMaxJsonDepth), "d").ok());
  absl::StatusOr<google::protobuf::Struct> deep =
      ParseJsonStruct(nested(kMaxJsonDepth + 1), "d");
  EXPECT_EQ(deep.status().message(),
            "d is not valid JSON: line 1, column 105: nested deeper than 100 "
            "levels");
  // Far deeper than any stack would take: refused, not a crash.
  std::string hostile(200000, '[');
  EXPECT_EQ(ParseJsonStruct(hostile, "d").status().message(),
            "d is not valid JSON: line 1, column 101: nested deeper than 100 "
            "levels");
}

}  // namespace
}  // namespace pbrx::common
