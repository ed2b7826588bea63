// Rendering harmony conversations into o200k_harmony tokens, exactly as
// openai/harmony's HarmonyEncoding does (src/encoding.rs, v0.0.8):
//
//   <|start|>{role or tool name}[ to={recipient}][<|channel|>{channel}]
//     [ {content type} | " " <|constrain|>{rest}]<|message|>{content}<|end|>
//
// with <|call|> instead of <|end|> for an assistant message that has a
// recipient. Every text piece is encoded on its own with the ordinary encoding,
// so special-token names typed in message text stay plain text.
#ifndef MOERT_HARMONY_ENCODING_H_
#define MOERT_HARMONY_ENCODING_H_

#include <string>
#include <vector>

#include "base/status.h"
#include "harmony/chat.h"
#include "tokenizer/tokenizer.h"

namespace moert {
namespace harmony {

struct RenderConfig {
  // Drop "analysis" messages that come before the first "final" message when
  // the conversation's last assistant message is on the "final" channel (the
  // chain of thought of finished turns is not shown to the model again).
  // Upstream's Python default is true; its Rust API without a config is false.
  bool auto_drop_analysis = true;
};

class HarmonyEncoding {
 public:
  // `tokenizer` must outlive the encoding.
  explicit HarmonyEncoding(const Tokenizer& tokenizer) : tokenizer_(&tokenizer) {}

  const Tokenizer& tokenizer() const { return *tokenizer_; }

  // The conversation's messages, rendered back to back.
  Result<std::vector<TokenId>> RenderConversation(const std::vector<Message>& messages,
                                                  const RenderConfig& config) const;
  // The conversation, then <|start|>{next_role}: the prompt to sample from.
  Result<std::vector<TokenId>> RenderConversationForCompletion(const std::vector<Message>& messages,
                                                               Role next_role,
                                                               const RenderConfig& config) const;
  // The conversation with a final <|return|> instead of <|end|> when the last
  // message is an assistant message on the "final" channel.
  Result<std::vector<TokenId>> RenderConversationForTraining(const std::vector<Message>& messages,
                                                             const RenderConfig& config) const;
  // One message. `conversation_has_function_tools` adds the system message's
  // note that function calls go to the commentary channel.
  Status RenderMessage(const Message& message, bool conversation_has_function_tools,
                       std::vector<TokenId>* out) const;

  // Tokens that end a message ({<|return|>, <|call|>, <|end|>}) and those that
  // end sampling of an assistant turn ({<|return|>, <|call|>}).
  static std::vector<TokenId> StopTokens();
  static std::vector<TokenId> StopTokensForAssistantActions();

 private:
  Status RenderText(std::string_view text, std::vector<TokenId>* out) const;
  std::string SystemText(const SystemContent& system, bool conversation_has_function_tools) const;
  std::string DeveloperText(const DeveloperContent& developer) const;

  const Tokenizer* tokenizer_;
};

// True when a developer message defines a non-empty "functions" namespace.
bool ConversationHasFunctionTools(const std::vector<Message>& messages);

}  // namespace harmony
}  // namespace moert

#endif  // MOERT_HARMONY_ENCODING_H_
