#include "base/json.h"

#include "base/utf8.h"

#include <gtest/gtest.h>

namespace moert {
namespace {

TEST(JsonTest, ParsesNestedValuesKeepingKeyOrder) {
  Result<JsonValue> v = ParseJson(R"({"z": 1, "a": [true, null, -2.5e3], "m": {"k": "v"}})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->members().size(), 3u);
  EXPECT_EQ(v->members()[0].first, "z");
  EXPECT_EQ(v->members()[1].first, "a");
  EXPECT_EQ(v->Find("a")->items()[2].number_value(), -2500.0);
  EXPECT_TRUE(v->Find("a")->items()[1].is_null());
  EXPECT_EQ(v->Find("m")->Find("k")->string_value(), "v");
  EXPECT_EQ(v->Serialize(), R"({"z":1,"a":[true,null,-2.5e3],"m":{"k":"v"}})");
}

TEST(JsonTest, KeepsLargeIntegersExact) {
  Result<JsonValue> v = ParseJson("[65248815744, 18446744073709551615, 1.5, -3]");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v->items()[0].AsUint64(), 65248815744ull);
  EXPECT_EQ(*v->items()[1].AsUint64(), 18446744073709551615ull);
  EXPECT_FALSE(v->items()[2].AsInt64().ok());
  EXPECT_FALSE(v->items()[3].AsUint64().ok());
  EXPECT_EQ(*v->items()[3].AsInt64(), -3);
}

TEST(JsonTest, DecodesEscapesAndSurrogatePairs) {
  Result<JsonValue> v = ParseJson(R"("a\n\u00e9\ud83d\ude00\"")");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->string_value(), "a\n\xC3\xA9\xF0\x9F\x98\x80\"");
}

TEST(JsonTest, RejectsMalformedDocumentsWithPosition) {
  const char* bad[] = {
      "{\"a\":1,}",          // trailing comma
      "[1 2]",               // missing comma
      "{\"a\":1,\"a\":2}",   // duplicate key
      "01",                  // leading zero
      "\"\\ud800\"",         // lone surrogate
      "\"\xC0\xAF\"",        // overlong UTF-8
      "\"a\nb\"",            // raw control character
      "{} x",                // trailing text
      "",                    // empty
      "[1, // comment\n 2]", // comments are not JSON
  };
  for (const char* text : bad) {
    Result<JsonValue> v = ParseJson(text);
    EXPECT_FALSE(v.ok()) << text;
    if (!v.ok()) EXPECT_NE(v.status().message().find("line"), std::string::npos);
  }
}

TEST(JsonTest, RejectsExcessiveNesting) {
  std::string deep(600, '[');
  deep += std::string(600, ']');
  Result<JsonValue> v = ParseJson(deep);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("nesting"), std::string::npos);
}

TEST(JsonTest, SerializeRoundTripsStringsWithControlCharacters) {
  JsonValue s = JsonValue::String(std::string("tab\tnul\x01", 8));
  Result<JsonValue> back = ParseJson(s.Serialize());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->string_value(), s.string_value());
}

TEST(Utf8Test, ValidatesSequences) {
  EXPECT_TRUE(IsValidUtf8("h\xC3\xA9llo \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));  // truncated
}

}  // namespace
}  // namespace moert

namespace moert {
namespace {

TEST(JsonTest, FindsDuplicateKeysInLargeObjects) {
  std::string text = "{";
  for (int i = 0; i < 50000; ++i) text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  std::string ok = text + "\"last\":0}";
  Result<JsonValue> v = ParseJson(ok);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->members().size(), 50001u);
  Result<JsonValue> dup = ParseJson(text + "\"k49999\":1}");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("duplicate key \"k49999\""), std::string::npos);
}

}  // namespace
}  // namespace moert
