#include "base/json.h"

#include "base/utf8.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <unordered_set>

namespace moert {

JsonValue JsonValue::Bool(bool b) {
  JsonValue v;
  v.kind_ = Kind::kBool;
  v.bool_ = b;
  return v;
}

JsonValue JsonValue::NumberFromText(std::string text) {
  JsonValue v;
  v.kind_ = Kind::kNumber;
  v.text_ = std::move(text);
  return v;
}

JsonValue JsonValue::Number(double d) {
  char buffer[40];
  if (!std::isfinite(d)) d = 0;  // JSON has no inf/nan
  // %.17g round-trips every double.
  std::snprintf(buffer, sizeof(buffer), "%.17g", d);
  return NumberFromText(buffer);
}

JsonValue JsonValue::Integer(int64_t i) {
  return NumberFromText(std::to_string(i));
}

JsonValue JsonValue::String(std::string s) {
  JsonValue v;
  v.kind_ = Kind::kString;
  v.text_ = std::move(s);
  return v;
}

JsonValue JsonValue::Array(std::vector<JsonValue> items) {
  JsonValue v;
  v.kind_ = Kind::kArray;
  v.items_ = std::move(items);
  return v;
}

JsonValue JsonValue::Object(std::vector<Member> members) {
  JsonValue v;
  v.kind_ = Kind::kObject;
  v.members_ = std::move(members);
  return v;
}

double JsonValue::number_value() const {
  return std::strtod(text_.c_str(), nullptr);
}

namespace {
bool IsPlainInteger(const std::string& text) {
  if (text.empty()) return false;
  size_t i = text[0] == '-' ? 1 : 0;
  if (i == text.size()) return false;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return true;
}
}  // namespace

Result<int64_t> JsonValue::AsInt64() const {
  if (!is_number() || !IsPlainInteger(text_)) {
    return InvalidArgument("expected an integer, got ",
                           is_number() ? text_ : JsonKindName(kind_));
  }
  errno = 0;
  long long v = std::strtoll(text_.c_str(), nullptr, 10);
  if (errno == ERANGE) return OutOfRange("integer ", text_, " does not fit in 64 bits");
  return static_cast<int64_t>(v);
}

Result<uint64_t> JsonValue::AsUint64() const {
  if (!is_number() || !IsPlainInteger(text_) || text_[0] == '-') {
    return InvalidArgument("expected a non-negative integer, got ",
                           is_number() ? text_ : JsonKindName(kind_));
  }
  errno = 0;
  unsigned long long v = std::strtoull(text_.c_str(), nullptr, 10);
  if (errno == ERANGE) return OutOfRange("integer ", text_, " does not fit in 64 bits");
  return static_cast<uint64_t>(v);
}

const JsonValue* JsonValue::Find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const Member& m : members_) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

void JsonValue::Set(std::string key, JsonValue value) {
  for (Member& m : members_) {
    if (m.first == key) {
      m.second = std::move(value);
      return;
    }
  }
  members_.emplace_back(std::move(key), std::move(value));
}

const char* JsonKindName(JsonValue::Kind kind) {
  switch (kind) {
    case JsonValue::Kind::kNull:
      return "null";
    case JsonValue::Kind::kBool:
      return "a boolean";
    case JsonValue::Kind::kNumber:
      return "a number";
    case JsonValue::Kind::kString:
      return "a string";
    case JsonValue::Kind::kArray:
      return "an array";
    case JsonValue::Kind::kObject:
      return "an object";
  }
  return "?";
}

void AppendJsonString(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

std::string JsonValue::Serialize(int indent) const {
  std::string out;
  SerializeTo(out, indent, 0);
  return out;
}

void JsonValue::SerializeTo(std::string& out, int indent, int depth) const {
  auto newline = [&](int d) {
    if (indent <= 0) return;
    out.push_back('\n');
    out.append(static_cast<size_t>(indent * d), ' ');
  };
  switch (kind_) {
    case Kind::kNull:
      out += "null";
      return;
    case Kind::kBool:
      out += bool_ ? "true" : "false";
      return;
    case Kind::kNumber:
      out += text_;
      return;
    case Kind::kString:
      AppendJsonString(out, text_);
      return;
    case Kind::kArray:
      out.push_back('[');
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i) out.push_back(',');
        newline(depth + 1);
        items_[i].SerializeTo(out, indent, depth + 1);
      }
      if (!items_.empty()) newline(depth);
      out.push_back(']');
      return;
    case Kind::kObject:
      out.push_back('{');
      for (size_t i = 0; i < members_.size(); ++i) {
        if (i) out.push_back(',');
        newline(depth + 1);
        AppendJsonString(out, members_[i].first);
        out += indent > 0 ? ": " : ":";
        members_[i].second.SerializeTo(out, indent, depth + 1);
      }
      if (!members_.empty()) newline(depth);
      out.push_back('}');
      return;
  }
}

namespace {

// Decodes one UTF-8 sequence at s[i]; returns its length or 0 when invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<JsonValue> ParseDocument() {
    SkipWhitespace();
    JsonValue value;
    MOERT_RETURN_IF_ERROR(ParseValue(value, 0));
    SkipWhitespace();
    if (pos_ != text_.size()) return Error("unexpected text after the JSON value");
    return value;
  }

 private:
  static constexpr int kMaxDepth = 512;

  Status Error(const std::string& what) const {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return DataLoss("invalid JSON at line ", line, " column ", column, ": ", what);
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }

  void SkipWhitespace() {
    while (!AtEnd()) {
      char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  bool ConsumeLiteral(std::string_view literal) {
    if (text_.substr(pos_, literal.size()) != literal) return false;
    pos_ += literal.size();
    return true;
  }

  Status ParseValue(JsonValue& out, int depth) {
    if (depth > kMaxDepth) return Error("nesting deeper than 512 levels");
    if (AtEnd()) return Error("unexpected end of input, expected a value");
    char c = Peek();
    if (c == '{') return ParseObject(out, depth);
    if (c == '[') return ParseArray(out, depth);
    if (c == '"') {
      std::string s;
      MOERT_RETURN_IF_ERROR(ParseString(s));
      out = JsonValue::String(std::move(s));
      return Status::Ok();
    }
    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(out);
    if (ConsumeLiteral("true")) {
      out = JsonValue::Bool(true);
      return Status::Ok();
    }
    if (ConsumeLiteral("false")) {
      out = JsonValue::Bool(false);
      return Status::Ok();
    }
    if (ConsumeLiteral("null")) {
      out = JsonValue::Null();
      return Status::Ok();
    }
    return Error(StrCat("unexpected character '", c, "'"));
  }

  Status ParseObject(JsonValue& out, int depth) {
    ++pos_;  // '{'
    std::vector<JsonValue::Member> members;
    std::unordered_set<std::string> seen;
    SkipWhitespace();
    if (Peek() == '}') {
      ++pos_;
      out = JsonValue::Object(std::move(members));
      return Status::Ok();
    }
    while (true) {
      SkipWhitespace();
      if (Peek() != '"') return Error("expected a string key");
      std::string key;
      MOERT_RETURN_IF_ERROR(ParseString(key));
      // Small objects scan; large ones (a tokenizer's 200k-entry vocab) hash.
      bool duplicate = false;
      if (members.size() < 16) {
        for (const auto& m : members) duplicate = duplicate || m.first == key;
      } else {
        if (seen.empty()) {
          for (const auto& m : members) seen.insert(m.first);
        }
        duplicate = !seen.insert(key).second;
      }
      if (duplicate) return Error(StrCat("duplicate key \"", key, "\""));
      SkipWhitespace();
      if (Peek() != ':') return Error("expected ':' after a key");
      ++pos_;
      SkipWhitespace();
      JsonValue value;
      MOERT_RETURN_IF_ERROR(ParseValue(value, depth + 1));
      members.emplace_back(std::move(key), std::move(value));
      SkipWhitespace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == '}') {
        ++pos_;
        break;
      }
      return Error("expected ',' or '}' in an object");
    }
    out = JsonValue::Object(std::move(members));
    return Status::Ok();
  }

  Status ParseArray(JsonValue& out, int depth) {
    ++pos_;  // '['
    std::vector<JsonValue> items;
    SkipWhitespace();
    if (Peek() == ']') {
      ++pos_;
      out = JsonValue::Array(std::move(items));
      return Status::Ok();
    }
    while (true) {
      SkipWhitespace();
      JsonValue value;
      MOERT_RETURN_IF_ERROR(ParseValue(value, depth + 1));
      items.push_back(std::move(value));
      SkipWhitespace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == ']') {
        ++pos_;
        break;
      }
      return Error("expected ',' or ']' in an array");
    }
    out = JsonValue::Array(std::move(items));
    return Status::Ok();
  }

  Status ParseHex4(uint32_t& out) {
    if (pos_ + 4 > text_.size()) return Error("truncated \\u escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_++];
      out <<= 4;
      if (c >= '0' && c <= '9') {
        out |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        out |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        out |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return Error("invalid hex digit in \\u escape");
      }
    }
    return Status::Ok();
  }

  Status ParseString(std::string& out) {
    ++pos_;  // opening quote
    while (true) {
      if (AtEnd()) return Error("unterminated string");
      unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return Status::Ok();
      }
      if (c < 0x20) return Error("control character in a string");
      if (c == '\\') {
        ++pos_;
        if (AtEnd()) return Error("unterminated escape");
        char e = text_[pos_++];
        switch (e) {
          case '"':
            out.push_back('"');
            break;
          case '\\':
            out.push_back('\\');
            break;
          case '/':
            out.push_back('/');
            break;
          case 'b':
            out.push_back('\b');
            break;
          case 'f':
            out.push_back('\f');
            break;
          case 'n':
            out.push_back('\n');
            break;
          case 'r':
            out.push_back('\r');
            break;
          case 't':
            out.push_back('\t');
            break;
          case 'u': {
            uint32_t cp;
            MOERT_RETURN_IF_ERROR(ParseHex4(cp));
            if (cp >= 0xDC00 && cp <= 0xDFFF) return Error("lone low surrogate");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              if (!ConsumeLiteral("\\u")) return Error("high surrogate without a low one");
              uint32_t low;
              MOERT_RETURN_IF_ERROR(ParseHex4(low));
              if (low < 0xDC00 || low > 0xDFFF) return Error("high surrogate without a low one");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            AppendUtf8(out, cp);
            break;
          }
          default:
            return Error(StrCat("invalid escape '\\", e, "'"));
        }
        continue;
      }
      size_t n = Utf8SequenceLength(text_, pos_);
      if (n == 0) return Error("invalid UTF-8 in a string");
      out.append(text_.substr(pos_, n));
      pos_ += n;
    }
  }

  Status ParseNumber(JsonValue& out) {
    size_t start = pos_;
    auto digits = [&]() {
      size_t n = 0;
      while (!AtEnd() && Peek() >= '0' && Peek() <= '9') {
        ++pos_;
        ++n;
      }
      return n;
    };
    if (Peek() == '-') ++pos_;
    if (Peek() == '0') {
      ++pos_;
      if (Peek() >= '0' && Peek() <= '9') return Error("leading zero in a number");
    } else if (digits() == 0) {
      return Error("expected digits in a number");
    }
    if (Peek() == '.') {
      ++pos_;
      if (digits() == 0) return Error("expected digits after '.'");
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (digits() == 0) return Error("expected digits in an exponent");
    }
    out = JsonValue::NumberFromText(std::string(text_.substr(start, pos_ - start)));
    return Status::Ok();
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Result<JsonValue> ParseJson(std::string_view text) {
  return Parser(text).ParseDocument();
}

}  // namespace moert
