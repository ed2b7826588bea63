#include "harmony/chat.h"

#include <cassert>

#include "harmony/tool_schema.h"

namespace moert {
namespace harmony {
namespace {

JsonValue ParseBuiltinSchema(std::string_view text) {
  Result<JsonValue> schema = ParseJson(text);
  assert(schema.ok() && "built-in tool schemas are valid JSON");
  return schema.ok() ? std::move(schema).value() : JsonValue();
}

// Reads an optional string member: absent or null gives nullopt.
Status OptionalString(const JsonValue& object, const char* key, const std::string& path,
                      std::optional<std::string>* out) {
  const JsonValue* value = object.Find(key);
  if (value == nullptr || value->is_null()) {
    out->reset();
    return Status::Ok();
  }
  if (!value->is_string()) {
    return InvalidArgument(path, ".", key, ": expected a string or null, found ",
                           JsonKindName(value->kind()));
  }
  *out = value->string_value();
  return Status::Ok();
}

Status RequiredString(const JsonValue& object, const char* key, const std::string& path,
                      std::string* out) {
  std::optional<std::string> value;
  MOERT_RETURN_IF_ERROR(OptionalString(object, key, path, &value));
  if (!value.has_value()) return InvalidArgument(path, ".", key, ": missing (a string is required)");
  *out = std::move(*value);
  return Status::Ok();
}

Status RequireObject(const JsonValue& json, const std::string& path) {
  if (!json.is_object()) {
    return InvalidArgument(path, ": expected an object, found ", JsonKindName(json.kind()));
  }
  return Status::Ok();
}

Result<std::optional<std::vector<ToolNamespace>>> ToolNamespacesFromJson(
    const JsonValue& object, const std::string& path) {
  const JsonValue* tools = object.Find("tools");
  if (tools == nullptr || tools->is_null()) return std::optional<std::vector<ToolNamespace>>();
  if (!tools->is_array()) return InvalidArgument(path, ".tools: expected an array or null");
  std::vector<ToolNamespace> namespaces;
  for (size_t i = 0; i < tools->items().size(); ++i) {
    MOERT_ASSIGN_OR_RETURN(ToolNamespace ns, ToolNamespaceFromJson(tools->items()[i],
                                                                   StrCat(path, ".tools[", i, "]")));
    namespaces.push_back(std::move(ns));
  }
  return std::optional<std::vector<ToolNamespace>>(std::move(namespaces));
}

Result<Content> ContentFromJson(const JsonValue& json, const std::string& path) {
  MOERT_RETURN_IF_ERROR(RequireObject(json, path));
  std::string type;
  MOERT_RETURN_IF_ERROR(RequiredString(json, "type", path, &type));
  if (type == "text") {
    std::string text;
    MOERT_RETURN_IF_ERROR(RequiredString(json, "text", path, &text));
    return Content::Text(std::move(text));
  }
  if (type == "system_content") {
    // Every field is explicit in this form: absent or null means "not set".
    SystemContent sys;
    MOERT_RETURN_IF_ERROR(OptionalString(json, "model_identity", path, &sys.model_identity));
    MOERT_RETURN_IF_ERROR(OptionalString(json, "knowledge_cutoff", path, &sys.knowledge_cutoff));
    MOERT_RETURN_IF_ERROR(
        OptionalString(json, "conversation_start_date", path, &sys.conversation_start_date));
    std::optional<std::string> effort;
    MOERT_RETURN_IF_ERROR(OptionalString(json, "reasoning_effort", path, &effort));
    sys.reasoning_effort.reset();
    if (effort.has_value()) {
      sys.reasoning_effort = ParseReasoningEffort(*effort);
      if (!sys.reasoning_effort.has_value()) {
        return InvalidArgument(path, ".reasoning_effort: \"", *effort,
                               "\" is not low, medium or high");
      }
    }
    sys.channel_config.reset();
    if (const JsonValue* cc = json.Find("channel_config"); cc != nullptr && !cc->is_null()) {
      std::string cc_path = path + ".channel_config";
      MOERT_RETURN_IF_ERROR(RequireObject(*cc, cc_path));
      ChannelConfig config;
      const JsonValue* channels = cc->Find("valid_channels");
      if (channels == nullptr || !channels->is_array()) {
        return InvalidArgument(cc_path, ".valid_channels: expected an array of strings");
      }
      for (const JsonValue& c : channels->items()) {
        if (!c.is_string()) {
          return InvalidArgument(cc_path, ".valid_channels: expected an array of strings");
        }
        config.valid_channels.push_back(c.string_value());
      }
      const JsonValue* required = cc->Find("channel_required");
      if (required != nullptr && !required->is_bool()) {
        return InvalidArgument(cc_path, ".channel_required: expected true or false");
      }
      config.channel_required = required == nullptr || required->bool_value();
      sys.channel_config = std::move(config);
    }
    MOERT_ASSIGN_OR_RETURN(sys.tools, ToolNamespacesFromJson(json, path));
    return Content::System(std::move(sys));
  }
  if (type == "developer_content") {
    DeveloperContent dev;
    MOERT_RETURN_IF_ERROR(OptionalString(json, "instructions", path, &dev.instructions));
    MOERT_ASSIGN_OR_RETURN(dev.tools, ToolNamespacesFromJson(json, path));
    return Content::Developer(std::move(dev));
  }
  return InvalidArgument(path, ".type: \"", type,
                         "\" is not text, system_content or developer_content");
}

JsonValue OptionalToJson(const std::optional<std::string>& value) {
  return value.has_value() ? JsonValue::String(*value) : JsonValue::Null();
}

JsonValue ToolNamespacesToJson(const std::optional<std::vector<ToolNamespace>>& namespaces) {
  if (!namespaces.has_value()) return JsonValue::Null();
  std::vector<JsonValue> out;
  for (const ToolNamespace& ns : *namespaces) {
    std::vector<JsonValue> tools;
    for (const ToolDescription& tool : ns.tools) {
      tools.push_back(JsonValue::Object({
          {"name", JsonValue::String(tool.name)},
          {"description", JsonValue::String(tool.description)},
          {"parameters", tool.parameters.value_or(JsonValue::Null())},
      }));
    }
    out.push_back(JsonValue::Object({
        {"name", JsonValue::String(ns.name)},
        {"description", OptionalToJson(ns.description)},
        {"tools", JsonValue::Array(std::move(tools))},
    }));
  }
  return JsonValue::Array(std::move(out));
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kSystem: return "system";
    case Role::kDeveloper: return "developer";
    case Role::kUser: return "user";
    case Role::kAssistant: return "assistant";
    case Role::kTool: return "tool";
  }
  return "?";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role role : {Role::kSystem, Role::kDeveloper, Role::kUser, Role::kAssistant, Role::kTool}) {
    if (name == RoleName(role)) return role;
  }
  return std::nullopt;
}

const char* ReasoningEffortName(ReasoningEffort effort) {
  switch (effort) {
    case ReasoningEffort::kLow: return "low";
    case ReasoningEffort::kMedium: return "medium";
    case ReasoningEffort::kHigh: return "high";
  }
  return "?";
}

std::optional<ReasoningEffort> ParseReasoningEffort(std::string_view name) {
  for (ReasoningEffort e : {ReasoningEffort::kLow, ReasoningEffort::kMedium, ReasoningEffort::kHigh}) {
    if (name == ReasoningEffortName(e)) return e;
  }
  return std::nullopt;
}

ToolNamespace BrowserToolNamespace() {
  ToolNamespace ns;
  ns.name = "browser";
  ns.description =
      "Tool for browsing.\n"
      "The `cursor` appears in brackets before each browsing display: `[{cursor}]`.\n"
      "Cite information from the tool using the following format:\n"
      "`\u3010{cursor}\u2020L{line_start}(-L{line_end})?\u3011`, for example: "
      "`\u30106\u2020L9-L11\u3011` or `\u30108\u2020L3\u3011`.\n"
      "Do not quote more than 10 words directly from the tool output.\n"
      "sources=web (default: web)";
  ns.tools.push_back(
      {"search", "Searches for information related to `query` and displays `topn` results.",
       ParseBuiltinSchema(R"({"type":"object","properties":{"query":{"type":"string"},)"
                          R"("topn":{"type":"number","default":10},"source":{"type":"string"}},)"
                          R"("required":["query"]})")});
  ns.tools.push_back(
      {"open",
       "Opens the link `id` from the page indicated by `cursor` starting at line number `loc`, "
       "showing `num_lines` lines.\n"
       "Valid link ids are displayed with the formatting: `\u3010{id}\u2020.*\u3011`.\n"
       "If `cursor` is not provided, the most recent page is implied.\n"
       "If `id` is a string, it is treated as a fully qualified URL associated with `source`.\n"
       "If `loc` is not provided, the viewport will be positioned at the beginning of the "
       "document or centered on the most relevant passage, if available.\n"
       "Use this function without `id` to scroll to a new location of an opened page.",
       ParseBuiltinSchema(R"({"type":"object","properties":{)"
                          R"("id":{"type":["number","string"],"default":-1},)"
                          R"("cursor":{"type":"number","default":-1},)"
                          R"("loc":{"type":"number","default":-1},)"
                          R"("num_lines":{"type":"number","default":-1},)"
                          R"("view_source":{"type":"boolean","default":false},)"
                          R"("source":{"type":"string"}}})")});
  ns.tools.push_back(
      {"find",
       "Finds exact matches of `pattern` in the current page, or the page given by `cursor`.",
       ParseBuiltinSchema(R"({"type":"object","properties":{"pattern":{"type":"string"},)"
                          R"("cursor":{"type":"number","default":-1}},"required":["pattern"]})")});
  return ns;
}

ToolNamespace PythonToolNamespace() {
  ToolNamespace ns;
  ns.name = "python";
  ns.description =
      "Use this tool to execute Python code in your chain of thought. The code will not be "
      "shown to the user. This tool should be used for internal reasoning, but not for code "
      "that is intended to be visible to the user (e.g. when creating plots, tables, or "
      "files).\n\n"
      "When you send a message containing Python code to python, it will be executed in a "
      "stateful Jupyter notebook environment. python will respond with the output of the "
      "execution or time out after 120.0 seconds. The drive at '/mnt/data' can be used to "
      "save and persist user files. Internet access for this session is UNKNOWN. Depends on "
      "the cluster.";
  return ns;
}

Content Content::Text(std::string text) {
  Content c;
  c.kind = Kind::kText;
  c.text = std::move(text);
  return c;
}

Content Content::System(SystemContent system) {
  Content c;
  c.kind = Kind::kSystem;
  c.system = std::move(system);
  return c;
}

Content Content::Developer(DeveloperContent developer) {
  Content c;
  c.kind = Kind::kDeveloper;
  c.developer = std::move(developer);
  return c;
}

Message Message::FromText(Role role, std::string text) {
  Message m;
  m.role = role;
  m.content.push_back(Content::Text(std::move(text)));
  return m;
}

Message& Message::WithName(std::string value) {
  name = std::move(value);
  return *this;
}
Message& Message::WithRecipient(std::string value) {
  recipient = std::move(value);
  return *this;
}
Message& Message::WithChannel(std::string value) {
  channel = std::move(value);
  return *this;
}
Message& Message::WithContentType(std::string value) {
  content_type = std::move(value);
  return *this;
}

std::string Message::Text() const {
  std::string out;
  for (const Content& c : content) {
    if (c.kind == Content::Kind::kText) out += c.text;
  }
  return out;
}

Result<ToolNamespace> ToolNamespaceFromJson(const JsonValue& json, const std::string& path) {
  MOERT_RETURN_IF_ERROR(RequireObject(json, path));
  ToolNamespace ns;
  MOERT_RETURN_IF_ERROR(RequiredString(json, "name", path, &ns.name));
  MOERT_RETURN_IF_ERROR(OptionalString(json, "description", path, &ns.description));
  const JsonValue* tools = json.Find("tools");
  if (tools != nullptr && !tools->is_null()) {
    if (!tools->is_array()) return InvalidArgument(path, ".tools: expected an array");
    for (size_t i = 0; i < tools->items().size(); ++i) {
      std::string tool_path = StrCat(path, ".tools[", i, "]");
      MOERT_ASSIGN_OR_RETURN(ToolDescription tool,
                             ToolDescriptionFromJson(tools->items()[i], tool_path));
      ns.tools.push_back(std::move(tool));
    }
  }
  return ns;
}

Result<Message> MessageFromJson(const JsonValue& json, const std::string& path) {
  MOERT_RETURN_IF_ERROR(RequireObject(json, path));
  Message m;
  std::string role;
  MOERT_RETURN_IF_ERROR(RequiredString(json, "role", path, &role));
  std::optional<Role> parsed_role = ParseRole(role);
  if (!parsed_role.has_value()) {
    return InvalidArgument(path, ".role: \"", role,
                           "\" is not system, developer, user, assistant or tool");
  }
  m.role = *parsed_role;
  MOERT_RETURN_IF_ERROR(OptionalString(json, "name", path, &m.name));
  MOERT_RETURN_IF_ERROR(OptionalString(json, "recipient", path, &m.recipient));
  MOERT_RETURN_IF_ERROR(OptionalString(json, "channel", path, &m.channel));
  MOERT_RETURN_IF_ERROR(OptionalString(json, "content_type", path, &m.content_type));
  const JsonValue* content = json.Find("content");
  if (content == nullptr) return InvalidArgument(path, ".content: missing");
  if (content->is_string()) {  // shorthand: "content": "text"
    m.content.push_back(Content::Text(content->string_value()));
    return m;
  }
  if (!content->is_array()) return InvalidArgument(path, ".content: expected an array or a string");
  for (size_t i = 0; i < content->items().size(); ++i) {
    MOERT_ASSIGN_OR_RETURN(Content c,
                           ContentFromJson(content->items()[i], StrCat(path, ".content[", i, "]")));
    m.content.push_back(std::move(c));
  }
  return m;
}

Result<std::vector<Message>> MessagesFromJson(const JsonValue& json, const std::string& path) {
  if (!json.is_array()) return InvalidArgument(path, ": expected an array of messages");
  std::vector<Message> messages;
  for (size_t i = 0; i < json.items().size(); ++i) {
    MOERT_ASSIGN_OR_RETURN(Message m, MessageFromJson(json.items()[i], StrCat(path, "[", i, "]")));
    messages.push_back(std::move(m));
  }
  return messages;
}

JsonValue MessageToJson(const Message& message) {
  std::vector<JsonValue> content;
  for (const Content& c : message.content) {
    switch (c.kind) {
      case Content::Kind::kText:
        content.push_back(JsonValue::Object(
            {{"type", JsonValue::String("text")}, {"text", JsonValue::String(c.text)}}));
        break;
      case Content::Kind::kSystem: {
        const SystemContent& s = c.system;
        JsonValue channel_config;
        if (s.channel_config.has_value()) {
          std::vector<JsonValue> channels;
          for (const std::string& ch : s.channel_config->valid_channels) {
            channels.push_back(JsonValue::String(ch));
          }
          channel_config = JsonValue::Object(
              {{"valid_channels", JsonValue::Array(std::move(channels))},
               {"channel_required", JsonValue::Bool(s.channel_config->channel_required)}});
        }
        content.push_back(JsonValue::Object({
            {"type", JsonValue::String("system_content")},
            {"model_identity", OptionalToJson(s.model_identity)},
            {"reasoning_effort", s.reasoning_effort.has_value()
                                     ? JsonValue::String(ReasoningEffortName(*s.reasoning_effort))
                                     : JsonValue::Null()},
            {"knowledge_cutoff", OptionalToJson(s.knowledge_cutoff)},
            {"conversation_start_date", OptionalToJson(s.conversation_start_date)},
            {"channel_config", channel_config},
            {"tools", ToolNamespacesToJson(s.tools)},
        }));
        break;
      }
      case Content::Kind::kDeveloper:
        content.push_back(JsonValue::Object({
            {"type", JsonValue::String("developer_content")},
            {"instructions", OptionalToJson(c.developer.instructions)},
            {"tools", ToolNamespacesToJson(c.developer.tools)},
        }));
        break;
    }
  }
  return JsonValue::Object({
      {"role", JsonValue::String(RoleName(message.role))},
      {"name", OptionalToJson(message.name)},
      {"recipient", OptionalToJson(message.recipient)},
      {"channel", OptionalToJson(message.channel)},
      {"content_type", OptionalToJson(message.content_type)},
      {"content", JsonValue::Array(std::move(content))},
  });
}

}  // namespace harmony
}  // namespace moert
