#include "harmony/encoding.h"

#include <algorithm>

#include "harmony/tool_schema.h"

namespace moert {
namespace harmony {
namespace {

constexpr std::string_view kConstrainMarker = "<|constrain|>";

// Namespaces in rendering order (sorted by name, as upstream's BTreeMap);
// two namespaces with one name are an error.
Result<std::vector<const ToolNamespace*>> SortedNamespaces(const std::vector<ToolNamespace>& tools,
                                                           const char* where) {
  std::vector<const ToolNamespace*> sorted;
  for (const ToolNamespace& ns : tools) sorted.push_back(&ns);
  std::sort(sorted.begin(), sorted.end(),
            [](const ToolNamespace* a, const ToolNamespace* b) { return a->name < b->name; });
  for (size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i]->name == sorted[i - 1]->name) {
      return InvalidArgument(where, " defines the tool namespace \"", sorted[i]->name, "\" twice");
    }
  }
  return sorted;
}

}  // namespace

bool ConversationHasFunctionTools(const std::vector<Message>& messages) {
  for (const Message& m : messages) {
    for (const Content& c : m.content) {
      if (c.kind != Content::Kind::kDeveloper || !c.developer.tools.has_value()) continue;
      for (const ToolNamespace& ns : *c.developer.tools) {
        if (ns.name == "functions" && !ns.tools.empty()) return true;
      }
    }
  }
  return false;
}

std::vector<TokenId> HarmonyEncoding::StopTokens() {
  return {kTokenReturn, kTokenCall, kTokenEnd};
}

std::vector<TokenId> HarmonyEncoding::StopTokensForAssistantActions() {
  return {kTokenReturn, kTokenCall};
}

Status HarmonyEncoding::RenderText(std::string_view text, std::vector<TokenId>* out) const {
  return tokenizer_->EncodeOrdinaryInto(text, out);
}

std::string HarmonyEncoding::SystemText(const SystemContent& sys,
                                        bool conversation_has_function_tools) const {
  std::vector<std::string> sections;
  std::vector<std::string> top;
  if (sys.model_identity.has_value()) top.push_back(*sys.model_identity);
  if (sys.knowledge_cutoff.has_value()) top.push_back("Knowledge cutoff: " + *sys.knowledge_cutoff);
  if (sys.conversation_start_date.has_value()) {
    top.push_back("Current date: " + *sys.conversation_start_date);
  }
  if (!top.empty()) {
    std::string joined;
    for (size_t i = 0; i < top.size(); ++i) joined += (i > 0 ? "\n" : "") + top[i];
    sections.push_back(joined);
  }
  if (sys.reasoning_effort.has_value()) {
    sections.push_back(std::string("Reasoning: ") + ReasoningEffortName(*sys.reasoning_effort));
  }
  if (sys.tools.has_value() && !sys.tools->empty()) {
    // Namespaces were checked for duplicates by the caller.
    Result<std::vector<const ToolNamespace*>> sorted = SortedNamespaces(*sys.tools, "");
    if (sorted.ok()) sections.push_back(RenderToolsSection(*sorted));
  }
  if (sys.channel_config.has_value() && !sys.channel_config->valid_channels.empty()) {
    std::string header = "# Valid channels: ";
    const std::vector<std::string>& channels = sys.channel_config->valid_channels;
    for (size_t i = 0; i < channels.size(); ++i) header += (i > 0 ? ", " : "") + channels[i];
    header += ".";
    if (sys.channel_config->channel_required) header += " Channel must be included for every message.";
    if (conversation_has_function_tools) {
      header += "\nCalls to these tools must go to the commentary channel: 'functions'.";
    }
    sections.push_back(header);
  }
  std::string text;
  for (size_t i = 0; i < sections.size(); ++i) text += (i > 0 ? "\n\n" : "") + sections[i];
  return text;
}

std::string HarmonyEncoding::DeveloperText(const DeveloperContent& dev) const {
  std::vector<std::string> sections;
  if (dev.instructions.has_value()) {
    sections.push_back("# Instructions");
    sections.push_back(*dev.instructions);
  }
  if (dev.tools.has_value() && !dev.tools->empty()) {
    Result<std::vector<const ToolNamespace*>> sorted = SortedNamespaces(*dev.tools, "");
    if (sorted.ok()) sections.push_back(RenderToolsSection(*sorted));
  }
  std::string text;
  for (size_t i = 0; i < sections.size(); ++i) text += (i > 0 ? "\n\n" : "") + sections[i];
  return text;
}

Status HarmonyEncoding::RenderMessage(const Message& message, bool conversation_has_function_tools,
                                      std::vector<TokenId>* out) const {
  const char* role = RoleName(message.role);
  out->push_back(kTokenStart);
  if (message.role == Role::kTool) {
    // Tool messages carry the tool's name ("functions.get_weather") as author.
    if (!message.name.has_value()) {
      return InvalidArgument("a tool message needs the tool's name as its author name");
    }
    MOERT_RETURN_IF_ERROR(RenderText(*message.name, out));
  } else {
    MOERT_RETURN_IF_ERROR(RenderText(role, out));
    if (message.name.has_value()) MOERT_RETURN_IF_ERROR(RenderText(":" + *message.name, out));
  }
  if (message.recipient.has_value() && *message.recipient != "all") {
    MOERT_RETURN_IF_ERROR(RenderText(" to=" + *message.recipient, out));
  }
  if (message.channel.has_value()) {
    out->push_back(kTokenChannel);
    MOERT_RETURN_IF_ERROR(RenderText(*message.channel, out));
  }
  if (message.content_type.has_value()) {
    const std::string& type = *message.content_type;
    if (type.compare(0, kConstrainMarker.size(), kConstrainMarker) == 0) {
      // "<|constrain|>json" renders as " ", the special token, then "json".
      MOERT_RETURN_IF_ERROR(RenderText(" ", out));
      out->push_back(kTokenConstrain);
      MOERT_RETURN_IF_ERROR(RenderText(std::string_view(type).substr(kConstrainMarker.size()), out));
    } else {
      MOERT_RETURN_IF_ERROR(RenderText(" " + type, out));
    }
  }
  out->push_back(kTokenMessage);
  for (size_t i = 0; i < message.content.size(); ++i) {
    const Content& content = message.content[i];
    switch (content.kind) {
      case Content::Kind::kText:
        MOERT_RETURN_IF_ERROR(RenderText(content.text, out));
        break;
      case Content::Kind::kSystem:
        if (message.role != Role::kSystem) {
          return InvalidArgument("content[", i, "]: system content may only appear in system "
                                 "messages, found in a ", role, " message");
        }
        if (content.system.tools.has_value()) {
          MOERT_RETURN_IF_ERROR(SortedNamespaces(*content.system.tools, "the system message").status());
        }
        MOERT_RETURN_IF_ERROR(
            RenderText(SystemText(content.system, conversation_has_function_tools), out));
        break;
      case Content::Kind::kDeveloper:
        if (message.role != Role::kDeveloper) {
          return InvalidArgument("content[", i, "]: developer content may only appear in "
                                 "developer messages, found in a ", role, " message");
        }
        if (content.developer.tools.has_value()) {
          MOERT_RETURN_IF_ERROR(
              SortedNamespaces(*content.developer.tools, "the developer message").status());
        }
        MOERT_RETURN_IF_ERROR(RenderText(DeveloperText(content.developer), out));
        break;
    }
  }
  const bool is_tool_call = message.role == Role::kAssistant && message.recipient.has_value();
  out->push_back(is_tool_call ? kTokenCall : kTokenEnd);
  return Status::Ok();
}

Result<std::vector<TokenId>> HarmonyEncoding::RenderConversation(
    const std::vector<Message>& messages, const RenderConfig& config) const {
  const bool has_function_tools = ConversationHasFunctionTools(messages);
  // Upstream's rule, literally: when the last assistant message is on the
  // final channel, drop analysis messages before the first final message.
  bool last_assistant_is_final = false;
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->role == Role::kAssistant) {
      last_assistant_is_final = it->channel.has_value() && *it->channel == "final";
      break;
    }
  }
  size_t first_final = messages.size();
  for (size_t i = 0; i < messages.size(); ++i) {
    if (messages[i].channel.has_value() && *messages[i].channel == "final") {
      first_final = i;
      break;
    }
  }
  const bool drop_analysis = config.auto_drop_analysis && last_assistant_is_final;
  std::vector<TokenId> out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const Message& m = messages[i];
    if (drop_analysis && i < first_final && m.channel.has_value() && *m.channel == "analysis") {
      continue;
    }
    Status status = RenderMessage(m, has_function_tools, &out);
    if (!status.ok()) return status.Annotate(StrCat("rendering message ", i));
  }
  return out;
}

Result<std::vector<TokenId>> HarmonyEncoding::RenderConversationForCompletion(
    const std::vector<Message>& messages, Role next_role, const RenderConfig& config) const {
  MOERT_ASSIGN_OR_RETURN(std::vector<TokenId> out, RenderConversation(messages, config));
  out.push_back(kTokenStart);
  MOERT_RETURN_IF_ERROR(RenderText(RoleName(next_role), &out));
  return out;
}

Result<std::vector<TokenId>> HarmonyEncoding::RenderConversationForTraining(
    const std::vector<Message>& messages, const RenderConfig& config) const {
  MOERT_ASSIGN_OR_RETURN(std::vector<TokenId> out, RenderConversation(messages, config));
  if (!messages.empty() && !out.empty()) {
    const Message& last = messages.back();
    if (last.role == Role::kAssistant && last.channel.has_value() && *last.channel == "final") {
      out.back() = kTokenReturn;
    }
  }
  return out;
}

}  // namespace harmony
}  // namespace moert
