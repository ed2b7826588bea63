// A strict JSON reader (RFC 8259) and a small writer. Objects keep their keys
// in file order, because harmony renders tool schemas in the order they were
// written and config files are easier to diagnose that way. Numbers keep their
// source text so that 64-bit integers (safetensors offsets) stay exact.
#ifndef MOERT_BASE_JSON_H_
#define MOERT_BASE_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace moert {

class JsonValue {
 public:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  using Member = std::pair<std::string, JsonValue>;

  JsonValue() = default;
  static JsonValue Null() { return JsonValue(); }
  static JsonValue Bool(bool b);
  // `text` must be a valid JSON number.
  static JsonValue NumberFromText(std::string text);
  static JsonValue Number(double d);
  static JsonValue Integer(int64_t i);
  static JsonValue String(std::string s);
  static JsonValue Array(std::vector<JsonValue> items = {});
  static JsonValue Object(std::vector<Member> members = {});

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }

  bool bool_value() const { return bool_; }
  // The number as the nearest double.
  double number_value() const;
  // The number as written in the source ("1e-05", "150000").
  const std::string& number_text() const { return text_; }
  // The number when it is an integer written without fraction or exponent and
  // fits; fails otherwise.
  Result<int64_t> AsInt64() const;
  Result<uint64_t> AsUint64() const;
  const std::string& string_value() const { return text_; }
  const std::vector<JsonValue>& items() const { return items_; }
  std::vector<JsonValue>& mutable_items() { return items_; }
  const std::vector<Member>& members() const { return members_; }
  std::vector<Member>& mutable_members() { return members_; }

  // Object lookup by key (first match); nullptr when absent or not an object.
  const JsonValue* Find(std::string_view key) const;
  void Set(std::string key, JsonValue value);

  // Compact text ({"a":1,"b":[true,null]}) or, with indent > 0, one member
  // per line. Strings are escaped as RFC 8259 requires; non-ASCII stays UTF-8.
  std::string Serialize(int indent = 0) const;

 private:
  void SerializeTo(std::string& out, int indent, int depth) const;

  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  std::string text_;  // number text or string value
  std::vector<JsonValue> items_;
  std::vector<Member> members_;
};

const char* JsonKindName(JsonValue::Kind kind);

// Parses one JSON document. Errors name the line and column. Rejects trailing
// commas, comments, invalid UTF-8, lone surrogates, control characters in
// strings, leading zeros, duplicate object keys, trailing bytes and nesting
// deeper than 512.
Result<JsonValue> ParseJson(std::string_view text);

// Appends `s` as a quoted JSON string.
void AppendJsonString(std::string& out, std::string_view s);


}  // namespace moert

#endif  // MOERT_BASE_JSON_H_
