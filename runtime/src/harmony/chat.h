// The harmony conversation model (openai/harmony src/chat.rs): messages with
// an author role, optional recipient, channel and content type, and content
// that is text, system settings or developer instructions with tools.
#ifndef MOERT_HARMONY_CHAT_H_
#define MOERT_HARMONY_CHAT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace moert {
namespace harmony {

enum class Role { kSystem, kDeveloper, kUser, kAssistant, kTool };
// "system", "developer", "user", "assistant", "tool".
const char* RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

enum class ReasoningEffort { kLow, kMedium, kHigh };
const char* ReasoningEffortName(ReasoningEffort effort);  // "low", "medium", "high"
std::optional<ReasoningEffort> ParseReasoningEffort(std::string_view name);

// One callable tool. `parameters` is a JSON Schema (rendered as a TypeScript
// type); without it the tool takes no arguments.
struct ToolDescription {
  std::string name;
  std::string description;
  std::optional<JsonValue> parameters;
};

// A group of tools rendered as `namespace NAME { ... }`. Namespaces render
// sorted by name (upstream keeps them in a BTreeMap).
struct ToolNamespace {
  std::string name;
  std::optional<std::string> description;
  std::vector<ToolDescription> tools;
};

// The built-in tool namespaces (upstream ToolNamespaceConfig::browser() and
// ::python()), text identical to upstream.
ToolNamespace BrowserToolNamespace();
ToolNamespace PythonToolNamespace();

struct ChannelConfig {
  std::vector<std::string> valid_channels;
  bool channel_required = true;
};

// System message settings. The member defaults are upstream's
// SystemContent::new(); an empty optional is not rendered.
struct SystemContent {
  std::optional<std::string> model_identity =
      std::string("You are ChatGPT, a large language model trained by OpenAI.");
  std::optional<ReasoningEffort> reasoning_effort = ReasoningEffort::kMedium;
  std::optional<std::string> knowledge_cutoff = std::string("2024-06");
  std::optional<std::string> conversation_start_date;  // "YYYY-MM-DD"
  std::optional<ChannelConfig> channel_config =
      ChannelConfig{{"analysis", "commentary", "final"}, true};
  std::optional<std::vector<ToolNamespace>> tools;
};

struct DeveloperContent {
  std::optional<std::string> instructions;
  std::optional<std::vector<ToolNamespace>> tools;
};

struct Content {
  enum class Kind { kText, kSystem, kDeveloper };
  Kind kind = Kind::kText;
  std::string text;             // kText
  SystemContent system;         // kSystem
  DeveloperContent developer;   // kDeveloper

  static Content Text(std::string text);
  static Content System(SystemContent system);
  static Content Developer(DeveloperContent developer);
};

struct Message {
  Role role = Role::kUser;
  // Author name. Tool messages render it instead of the role
  // ("functions.get_weather"); other roles render "role:name".
  std::optional<std::string> name;
  std::optional<std::string> recipient;     // " to=..." (not rendered for "all")
  std::optional<std::string> channel;       // "analysis", "commentary", "final"
  std::optional<std::string> content_type;  // "json", "<|constrain|>json", ...
  std::vector<Content> content;

  static Message FromText(Role role, std::string text);
  // Builder-style setters for readable call sites.
  Message& WithName(std::string value);
  Message& WithRecipient(std::string value);
  Message& WithChannel(std::string value);
  Message& WithContentType(std::string value);

  // The concatenated text contents (what a parsed message carries).
  std::string Text() const;
};

// JSON form of messages, the one harmony's test vectors use:
//   {"role", "name", "recipient", "channel", "content_type",
//    "content": [{"type": "text", "text"} | {"type": "system_content", ...}
//                | {"type": "developer_content", ...}]}
// Errors name the JSON path ("messages[2].content[0].tools[1].name").
Result<Message> MessageFromJson(const JsonValue& json, const std::string& path);
Result<std::vector<Message>> MessagesFromJson(const JsonValue& json, const std::string& path);
Result<ToolNamespace> ToolNamespaceFromJson(const JsonValue& json, const std::string& path);
JsonValue MessageToJson(const Message& message);

}  // namespace harmony
}  // namespace moert

#endif  // MOERT_HARMONY_CHAT_H_
