// Tool definitions: reading them (with JSON Schema parameters), checking the
// schemas, and rendering the "# Tools" section the way openai/harmony does
// (JSON Schema -> TypeScript-like types, property order as written).
#ifndef MOERT_HARMONY_TOOL_SCHEMA_H_
#define MOERT_HARMONY_TOOL_SCHEMA_H_

#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "harmony/chat.h"

namespace moert {
namespace harmony {

// Checks that `schema` is a JSON Schema harmony can render: an object (or a
// boolean) whose known keywords have the right shapes: "type" a type name or
// a list of them, "properties" an object of schemas, "required" a list of
// property names, "items" a schema, "enum" a non-empty list, "oneOf"/"anyOf"/
// "allOf" non-empty lists of schemas, "description"/"title" strings,
// "nullable" a boolean, "examples" a list. Errors name the path of the bad
// keyword and its value ("tools.json: [1].parameters.properties.unit.type:
// \"strin\" is not a JSON Schema type ...").
Status ValidateJsonSchema(const JsonValue& schema, const std::string& path);

// One tool, as {"name", "description", "parameters"} or in the OpenAI form
// {"type": "function", "function": {...}}. The parameters schema is checked.
Result<ToolDescription> ToolDescriptionFromJson(const JsonValue& json, const std::string& path);

// A tools file: a JSON array of tools (or an object with a "tools" array),
// returned as the "functions" namespace that developer messages carry.
Result<ToolNamespace> FunctionToolsFromJson(std::string_view json_text,
                                            const std::string& source_name);
Result<ToolNamespace> LoadFunctionToolsFile(const std::string& path);

// harmony's json_schema_to_typescript: the TypeScript-like type of `schema`
// with nested lines prefixed by `indent`.
std::string JsonSchemaToTypeScript(const JsonValue& schema, const std::string& indent);

// The "# Tools" section for `namespaces`, in the order given.
std::string RenderToolsSection(const std::vector<const ToolNamespace*>& namespaces);

}  // namespace harmony
}  // namespace moert

#endif  // MOERT_HARMONY_TOOL_SCHEMA_H_
