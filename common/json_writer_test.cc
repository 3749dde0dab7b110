#include "common/json_writer.h"

#include "gtest/gtest.h"

namespace pbrx::common {
namespace {

TEST(JsonWriterTest, NestedPrettyOutput) {
  JsonWriter w;
  w.BeginObject()
      .Key("name")
      .String("a\"b\\c\n\x01")
      .Key("n")
      .Int(-3)
      .Key("ok")
      .Bool(true)
      .Key("none")
      .Null()
      .Key("list")
      .StringArray({"x", "y"})
      .Key("empty")
      .BeginArray()
      .EndArray()
      .Key("obj")
      .BeginObject()
      .EndObject()
      .EndObject();
  EXPECT_EQ(w.str(),
            "{\n"
            "  \"name\": \"a\\\"b\\\\c\\n\\u0001\",\n"
            "  \"n\": -3,\n"
            "  \"ok\": true,\n"
            "  \"none\": null,\n"
            "  \"list\": [\n"
            "    \"x\",\n"
            "    \"y\"\n"
            "  ],\n"
            "  \"empty\": [],\n"
            "  \"obj\": {}\n"
            "}\n");
}

TEST(JsonWriterTest, Compact) {
  JsonWriter w(/*pretty=*/false);
  w.BeginObject()
      .Key("a")
      .StringArray({"x"})
      .Key("b")
      .BeginObject()
      .Key("c")
      .Int(1)
      .EndObject()
      .EndObject();
  EXPECT_EQ(w.str(), R"({"a":["x"],"b":{"c":1}})");
}

}  // namespace
}  // namespace pbrx::common

namespace pbrx::common {
namespace {

TEST(JsonWriterTest, DoublesAreNumbers) {
  JsonWriter w(/*pretty=*/false);
  w.BeginArray().Double(3.41).Double(1234.567).Double(0).Double(1.0 / 0.0);
  w.EndArray();
  EXPECT_EQ(w.str(), "[3.41,1234.567,0,null]");
}

}  // namespace
}  // namespace pbrx::common
