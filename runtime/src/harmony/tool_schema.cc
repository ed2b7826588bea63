#include "harmony/tool_schema.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "base/file_map.h"

namespace moert {
namespace harmony {
namespace {

constexpr const char* kSchemaTypes[] = {"object", "array",   "string", "number",
                                        "integer", "boolean", "null"};

bool IsSchemaTypeName(const std::string& name) {
  for (const char* t : kSchemaTypes) {
    if (name == t) return true;
  }
  return false;
}

// Rust's str::lines(): split on '\n', drop one trailing '\r' per line, and no
// empty last line after a final '\n'.
std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

std::string Join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

// A non-integer number the way serde_json prints an f64 (ryu's shortest
// round-trip digits, "1.5", "100000.0", "1e-7", "1.5e300").
std::string FormatDouble(double v) {
  if (!std::isfinite(v)) return "null";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  std::string sign = v < 0 ? "-" : "";
  double magnitude = std::fabs(v);
  char buffer[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*e", precision - 1, magnitude);
    if (std::strtod(buffer, nullptr) == magnitude) break;
  }
  // buffer is "d.ddde[+-]XX": collect the digits and the decimal exponent.
  std::string text(buffer);
  size_t e = text.find('e');
  std::string digits;
  for (size_t i = 0; i < e; ++i) {
    if (text[i] != '.') digits += text[i];
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int exponent = std::atoi(text.c_str() + e + 1);
  const int length = static_cast<int>(digits.size());
  const int point = exponent + 1;  // digits before the decimal point
  const int k = point - length;    // exponent of the last digit
  std::string out = sign;
  if (k >= 0 && point <= 16) {
    out += digits + std::string(k, '0') + ".0";
  } else if (point > 0 && point <= 16) {
    out += digits.substr(0, point) + "." + digits.substr(point);
  } else if (point > -5 && point <= 0) {
    out += "0." + std::string(-point, '0') + digits;
  } else if (length == 1) {
    out += digits + "e" + std::to_string(point - 1);
  } else {
    out += digits.substr(0, 1) + "." + digits.substr(1) + "e" + std::to_string(point - 1);
  }
  return out;
}

bool IsIntegerLiteral(const std::string& text) {
  size_t i = text[0] == '-' ? 1 : 0;
  if (i >= text.size()) return false;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return true;
}

// A JSON value as serde_json's Display writes it (compact; numbers as
// integers or as shortest round-trip floats).
void AppendSerdeDisplay(std::string& out, const JsonValue& value) {
  switch (value.kind()) {
    case JsonValue::Kind::kNull: out += "null"; break;
    case JsonValue::Kind::kBool: out += value.bool_value() ? "true" : "false"; break;
    case JsonValue::Kind::kNumber:
      if (IsIntegerLiteral(value.number_text()) &&
          (value.AsInt64().ok() || value.AsUint64().ok())) {
        out += value.number_text();
      } else {
        out += FormatDouble(value.number_value());
      }
      break;
    case JsonValue::Kind::kString: AppendJsonString(out, value.string_value()); break;
    case JsonValue::Kind::kArray:
      out += '[';
      for (size_t i = 0; i < value.items().size(); ++i) {
        if (i > 0) out += ',';
        AppendSerdeDisplay(out, value.items()[i]);
      }
      out += ']';
      break;
    case JsonValue::Kind::kObject:
      out += '{';
      for (size_t i = 0; i < value.members().size(); ++i) {
        if (i > 0) out += ',';
        AppendJsonString(out, value.members()[i].first);
        out += ':';
        AppendSerdeDisplay(out, value.members()[i].second);
      }
      out += '}';
      break;
  }
}

std::string SerdeDisplay(const JsonValue& value) {
  std::string out;
  AppendSerdeDisplay(out, value);
  return out;
}

const std::string* StringMember(const JsonValue& schema, const char* key) {
  const JsonValue* v = schema.Find(key);
  return v != nullptr && v->is_string() ? &v->string_value() : nullptr;
}

const std::vector<JsonValue>* ArrayMember(const JsonValue& schema, const char* key) {
  const JsonValue* v = schema.Find(key);
  return v != nullptr && v->is_array() ? &v->items() : nullptr;
}

bool IsEnum(const JsonValue& schema) {
  const std::vector<JsonValue>* values = ArrayMember(schema, "enum");
  return values != nullptr && !values->empty();
}

bool IsNullable(const JsonValue& schema) {
  const JsonValue* v = schema.Find("nullable");
  return v != nullptr && v->is_bool() && v->bool_value();
}

// "default: ..." as upstream writes it: a string default is quoted unless
// the schema is an enum (then it is written bare); other values as JSON.
std::string DefaultComment(const JsonValue& schema, const JsonValue& value) {
  if (value.is_string()) {
    return IsEnum(schema) ? "default: " + value.string_value()
                          : "default: \"" + value.string_value() + "\"";
  }
  return "default: " + SerdeDisplay(value);
}

// One variant of a oneOf: its type, "| null" when nullable, and its
// description and default as a trailing comment.
// `bare_enum_default`: upstream writes an enum's string default bare inside
// a property's oneOf but as JSON (quoted, escaped) in a top-level oneOf.
std::string OneOfVariant(const JsonValue& variant, const std::string& indent,
                         bool with_description, const std::string* skip_description,
                         bool bare_enum_default) {
  std::string type = JsonSchemaToTypeScript(variant, indent + "   ");
  if (IsNullable(variant) && type.find("null") == std::string::npos) type += " | null";
  std::vector<std::string> comments;
  if (with_description) {
    const std::string* description = StringMember(variant, "description");
    if (description != nullptr && (skip_description == nullptr || *description != *skip_description)) {
      comments.push_back(*description);
    }
  }
  if (const JsonValue* def = variant.Find("default")) {
    comments.push_back(bare_enum_default || !def->is_string() || !IsEnum(variant)
                           ? DefaultComment(variant, *def)
                           : "default: " + SerdeDisplay(*def));
  }
  if (!comments.empty()) type += " // " + Join(comments, " ");
  return type;
}

std::string ObjectToTypeScript(const JsonValue& schema, const std::string& indent) {
  std::string out;
  if (const std::string* description = StringMember(schema, "description")) {
    out += indent + "// " + *description + "\n";
  }
  out += "{\n";
  const JsonValue* properties = schema.Find("properties");
  if (properties != nullptr && properties->is_object()) {
    std::vector<std::string> required;
    if (const std::vector<JsonValue>* req = ArrayMember(schema, "required")) {
      for (const JsonValue& r : *req) {
        if (r.is_string()) required.push_back(r.string_value());
      }
    }
    auto optional_marker = [&](const std::string& key) {
      for (const std::string& r : required) {
        if (r == key) return "";
      }
      return "?";
    };
    for (const JsonValue::Member& member : properties->members()) {
      const std::string& key = member.first;
      const JsonValue& value = member.second;
      const std::vector<JsonValue>* one_of = ArrayMember(value, "oneOf");
      if (const std::string* title = StringMember(value, "title")) {
        out += indent + "// " + *title + "\n" + indent + "//\n";
      }
      if (value.Find("oneOf") == nullptr) {
        if (const std::string* description = StringMember(value, "description")) {
          out += indent + "// " + *description + "\n";
        }
      }
      if (const std::vector<JsonValue>* examples = ArrayMember(value, "examples");
          examples != nullptr && !examples->empty()) {
        out += indent + "// Examples:\n";
        for (const JsonValue& example : *examples) {
          if (example.is_string()) out += indent + "// - \"" + example.string_value() + "\"\n";
        }
      }
      if (one_of != nullptr) {
        // The property's description goes above it, unless the first variant
        // repeats it; then the variant carries it as a trailing comment.
        const std::string* property_description = StringMember(value, "description");
        bool description_above = false;
        if (property_description != nullptr) {
          const std::string* first_description =
              one_of->empty() ? nullptr : StringMember(one_of->front(), "description");
          if (first_description == nullptr || *first_description != *property_description) {
            out += indent + "// " + *property_description + "\n";
            description_above = true;
          }
        }
        if (const JsonValue* def = value.Find("default")) {
          out += indent + "// " + DefaultComment(value, *def) + "\n";
        }
        out += indent + key + optional_marker(key) + ":\n";
        for (size_t i = 0; i < one_of->size(); ++i) {
          out += indent + " | ";
          out += OneOfVariant((*one_of)[i], indent, !(i == 0 && description_above),
                              property_description, /*bare_enum_default=*/true);
          out += "\n";
        }
        out += indent + ",\n";
        continue;
      }
      out += indent + key + optional_marker(key) + ": ";
      std::string type = JsonSchemaToTypeScript(value, indent + "    ");
      if (IsNullable(value) && type.find("null") == std::string::npos) type += " | null";
      out += type + ",";
      if (const JsonValue* def = value.Find("default"); def != nullptr && value.Find("oneOf") == nullptr) {
        out += " // " + DefaultComment(value, *def);
      }
      out += "\n";
    }
  }
  out += indent + "}";
  return out;
}

Status ValidateSchemaList(const JsonValue& list, const std::string& path) {
  if (!list.is_array() || list.items().empty()) {
    return InvalidArgument(path, ": expected a non-empty array of schemas, found ",
                           SerdeDisplay(list).substr(0, 80));
  }
  for (size_t i = 0; i < list.items().size(); ++i) {
    MOERT_RETURN_IF_ERROR(ValidateJsonSchema(list.items()[i], StrCat(path, "[", i, "]")));
  }
  return Status::Ok();
}

Status TypeNameError(const std::string& path, const JsonValue& value) {
  return InvalidArgument(path, ": ", SerdeDisplay(value).substr(0, 80),
                         " is not a JSON Schema type (expected one of object, array, string, "
                         "number, integer, boolean, null)");
}

}  // namespace

Status ValidateJsonSchema(const JsonValue& schema, const std::string& path) {
  if (schema.is_bool()) return Status::Ok();  // true/false are schemas too
  if (!schema.is_object()) {
    return InvalidArgument(path, ": a JSON Schema must be an object, found ",
                           JsonKindName(schema.kind()), " ", SerdeDisplay(schema).substr(0, 80));
  }
  for (const JsonValue::Member& member : schema.members()) {
    const std::string& key = member.first;
    const JsonValue& value = member.second;
    const std::string here = path + "." + key;
    if (key == "type") {
      if (value.is_string()) {
        if (!IsSchemaTypeName(value.string_value())) return TypeNameError(here, value);
      } else if (value.is_array() && !value.items().empty()) {
        for (size_t i = 0; i < value.items().size(); ++i) {
          const JsonValue& t = value.items()[i];
          if (!t.is_string() || !IsSchemaTypeName(t.string_value())) {
            return TypeNameError(StrCat(here, "[", i, "]"), t);
          }
        }
      } else {
        return TypeNameError(here, value);
      }
    } else if (key == "properties" || key == "patternProperties" || key == "$defs" ||
               key == "definitions") {
      if (!value.is_object()) {
        return InvalidArgument(here, ": expected an object mapping names to schemas, found ",
                               JsonKindName(value.kind()));
      }
      for (const JsonValue::Member& property : value.members()) {
        MOERT_RETURN_IF_ERROR(ValidateJsonSchema(property.second, here + "." + property.first));
      }
    } else if (key == "required") {
      if (!value.is_array()) {
        return InvalidArgument(here, ": expected an array of property names, found ",
                               JsonKindName(value.kind()));
      }
      const JsonValue* properties = schema.Find("properties");
      for (size_t i = 0; i < value.items().size(); ++i) {
        const JsonValue& name = value.items()[i];
        if (!name.is_string()) {
          return InvalidArgument(here, "[", i, "]: expected a property name, found ",
                                 SerdeDisplay(name).substr(0, 80));
        }
        if (properties != nullptr && properties->is_object() &&
            properties->Find(name.string_value()) == nullptr) {
          return InvalidArgument(here, "[", i, "]: \"", name.string_value(),
                                 "\" is not one of the schema's properties");
        }
      }
    } else if (key == "items" || key == "additionalProperties" || key == "not" ||
               key == "contains" || key == "additionalItems") {
      if (value.is_array() && key == "items") {
        MOERT_RETURN_IF_ERROR(ValidateSchemaList(value, here));  // tuple form
      } else {
        MOERT_RETURN_IF_ERROR(ValidateJsonSchema(value, here));
      }
    } else if (key == "oneOf" || key == "anyOf" || key == "allOf") {
      MOERT_RETURN_IF_ERROR(ValidateSchemaList(value, here));
    } else if (key == "enum") {
      if (!value.is_array() || value.items().empty()) {
        return InvalidArgument(here, ": expected a non-empty array of values, found ",
                               SerdeDisplay(value).substr(0, 80));
      }
    } else if (key == "description" || key == "title" || key == "pattern" || key == "format") {
      if (!value.is_string()) {
        return InvalidArgument(here, ": expected a string, found ", JsonKindName(value.kind()));
      }
    } else if (key == "nullable") {
      if (!value.is_bool()) {
        return InvalidArgument(here, ": expected true or false, found ", JsonKindName(value.kind()));
      }
    } else if (key == "examples") {
      if (!value.is_array()) {
        return InvalidArgument(here, ": expected an array, found ", JsonKindName(value.kind()));
      }
    } else if (key == "minimum" || key == "maximum" || key == "exclusiveMinimum" ||
               key == "exclusiveMaximum" || key == "multipleOf") {
      if (!value.is_number() && !value.is_bool()) {
        return InvalidArgument(here, ": expected a number, found ", JsonKindName(value.kind()));
      }
    } else if (key == "minLength" || key == "maxLength" || key == "minItems" ||
               key == "maxItems" || key == "minProperties" || key == "maxProperties") {
      Result<uint64_t> n = value.is_number() ? value.AsUint64() : Result<uint64_t>(InvalidArgument(""));
      if (!n.ok()) {
        return InvalidArgument(here, ": expected a non-negative integer, found ",
                               SerdeDisplay(value).substr(0, 80));
      }
    }
    // Other keywords ("default", "const", "$schema", vendor extensions) take
    // any value.
  }
  return Status::Ok();
}

Result<ToolDescription> ToolDescriptionFromJson(const JsonValue& json, const std::string& path) {
  if (!json.is_object()) {
    return InvalidArgument(path, ": expected a tool object, found ", JsonKindName(json.kind()));
  }
  const JsonValue* body = &json;
  std::string body_path = path;
  if (const JsonValue* type = json.Find("type"); type != nullptr && json.Find("function") != nullptr) {
    if (!type->is_string() || type->string_value() != "function") {
      return InvalidArgument(path, ".type: expected \"function\"");
    }
    body = json.Find("function");
    body_path = path + ".function";
    if (!body->is_object()) return InvalidArgument(body_path, ": expected an object");
  }
  ToolDescription tool;
  const JsonValue* name = body->Find("name");
  if (name == nullptr || !name->is_string() || name->string_value().empty()) {
    return InvalidArgument(body_path, ".name: a tool needs a non-empty string name");
  }
  tool.name = name->string_value();
  for (char c : tool.name) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      return InvalidArgument(body_path, ".name: \"", tool.name, "\" contains whitespace");
    }
  }
  const JsonValue* description = body->Find("description");
  if (description != nullptr && !description->is_null()) {
    if (!description->is_string()) return InvalidArgument(body_path, ".description: expected a string");
    tool.description = description->string_value();
  }
  const JsonValue* parameters = body->Find("parameters");
  if (parameters != nullptr && !parameters->is_null()) {
    MOERT_RETURN_IF_ERROR(ValidateJsonSchema(*parameters, body_path + ".parameters"));
    tool.parameters = *parameters;
  }
  return tool;
}

Result<ToolNamespace> FunctionToolsFromJson(std::string_view json_text,
                                            const std::string& source_name) {
  Result<JsonValue> parsed = ParseJson(json_text);
  if (!parsed.ok()) return parsed.status().Annotate(source_name);
  const JsonValue* list = &parsed.value();
  std::string prefix = "";
  if (list->is_object()) {
    list = list->Find("tools");
    prefix = ".tools";
    if (list == nullptr) return InvalidArgument(source_name, ": expected an array of tools or an object with a \"tools\" array");
  }
  if (!list->is_array()) {
    return InvalidArgument(source_name, ": expected an array of tools, found ",
                           JsonKindName(list->kind()));
  }
  ToolNamespace ns;
  ns.name = "functions";
  for (size_t i = 0; i < list->items().size(); ++i) {
    Result<ToolDescription> tool =
        ToolDescriptionFromJson(list->items()[i], StrCat(source_name, ": ", prefix, "[", i, "]"));
    if (!tool.ok()) return tool.status();
    for (const ToolDescription& existing : ns.tools) {
      if (existing.name == tool->name) {
        return InvalidArgument(source_name, ": ", prefix, "[", i, "]: tool \"", tool->name,
                               "\" is defined twice");
      }
    }
    ns.tools.push_back(std::move(tool).value());
  }
  return ns;
}

Result<ToolNamespace> LoadFunctionToolsFile(const std::string& path) {
  MOERT_ASSIGN_OR_RETURN(std::string contents, ReadFileToString(path));
  return FunctionToolsFromJson(contents, path);
}

std::string JsonSchemaToTypeScript(const JsonValue& schema, const std::string& indent) {
  if (const std::vector<JsonValue>* one_of = ArrayMember(schema, "oneOf")) {
    std::string out;
    for (const JsonValue& variant : *one_of) {
      out += "\n" + indent + " | ";
      out += OneOfVariant(variant, indent, /*with_description=*/true, nullptr,
                          /*bare_enum_default=*/false);
    }
    return out;
  }
  if (const std::vector<JsonValue>* types = ArrayMember(schema, "type")) {
    std::vector<std::string> names;
    for (const JsonValue& t : *types) {
      if (t.is_string()) names.push_back(t.string_value() == "integer" ? "number" : t.string_value());
    }
    if (!names.empty()) return Join(names, " | ");
  }
  const std::string* type = StringMember(schema, "type");
  if (type == nullptr) return "any";
  if (*type == "object") return ObjectToTypeScript(schema, indent);
  if (*type == "string") {
    if (const std::vector<JsonValue>* values = ArrayMember(schema, "enum")) {
      std::vector<std::string> quoted;
      for (const JsonValue& v : *values) {
        if (v.is_string()) quoted.push_back("\"" + v.string_value() + "\"");
      }
      if (!quoted.empty()) return Join(quoted, " | ");
    }
    return "string";
  }
  if (*type == "number" || *type == "integer") return "number";
  if (*type == "boolean") return "boolean";
  if (*type == "array") {
    const JsonValue* items = schema.Find("items");
    return items != nullptr ? JsonSchemaToTypeScript(*items, indent) + "[]" : "Array<any>";
  }
  return "any";
}

std::string RenderToolsSection(const std::vector<const ToolNamespace*>& namespaces) {
  std::vector<std::string> sections = {"# Tools"};
  for (const ToolNamespace* ns : namespaces) {
    std::vector<std::string> lines = {"## " + ns->name + "\n"};
    if (ns->description.has_value()) {
      for (const std::string& line : SplitLines(*ns->description)) {
        lines.push_back(ns->tools.empty() ? line : "// " + line);
      }
    }
    if (!ns->tools.empty()) {
      lines.push_back("namespace " + ns->name + " {\n");
      for (const ToolDescription& tool : ns->tools) {
        for (const std::string& line : SplitLines(tool.description)) lines.push_back("// " + line);
        if (tool.parameters.has_value()) {
          lines.push_back("type " + tool.name + " = (_: " +
                          JsonSchemaToTypeScript(*tool.parameters, "") + ") => any;\n");
        } else {
          lines.push_back("type " + tool.name + " = () => any;\n");
        }
      }
      lines.push_back("} // namespace " + ns->name);
    }
    sections.push_back(Join(lines, "\n"));
  }
  return Join(sections, "\n\n");
}

}  // namespace harmony
}  // namespace moert
