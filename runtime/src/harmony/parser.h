// A streaming parser from generated token ids back to harmony messages
// (openai/harmony StreamableParser, v0.0.8 semantics).
//
// Feed tokens one at a time with Process(); each completed message (ended by
// <|end|>, <|call|> or <|return|>, or by ProcessEos) is appended to
// messages(). Headers are parsed when <|message|> arrives: the channel follows
// <|channel|> up to whitespace or '<'; the remaining whitespace-separated
// parts after the role are `to=recipient` and the content type (a
// <|constrain|> marker starts a content type even without a space before it).
//
// Content text is decoded incrementally: a token that ends inside a UTF-8
// character is held back until later tokens complete it. As upstream does,
// each token that makes the held bytes invalid appends one U+FFFD for the
// first ill-formed subsequence (the bytes after it wait for the next token),
// an id outside the vocabulary holds every later token of the message back,
// and at the end of a message what is still held is appended (U+FFFD for
// invalid bytes, a single U+FFFD if unknown ids are among the held tokens).
#ifndef MOERT_HARMONY_PARSER_H_
#define MOERT_HARMONY_PARSER_H_

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "harmony/chat.h"
#include "tokenizer/tokenizer.h"

namespace moert {
namespace harmony {

struct ParseOptions {
  // Strict: a header must end with <|message|>; a stop token inside a header
  // is kept as header text (and usually fails the header later). Non-strict:
  // a stop token before <|message|> ends the message, and when the parser was
  // started inside a header (with a role), the header text after the channel
  // becomes the message content.
  bool strict = true;
};

class StreamableParser {
 public:
  // `role` set: the stream starts inside a header, right after
  // <|start|>{role} (as the model's output does after a completion prompt).
  // Unset: the stream must begin with <|start|>. `tokenizer` must outlive
  // the parser.
  StreamableParser(const Tokenizer& tokenizer, std::optional<Role> role,
                   ParseOptions options = ParseOptions());

  // Consumes one token. After an error the parser should be discarded.
  Status Process(TokenId token);
  // Signals the end of the token stream: a message in progress is completed;
  // ending inside a header is an error.
  Status ProcessEos();

  const std::vector<Message>& messages() const { return messages_; }
  std::vector<Message> TakeMessages() { return std::move(messages_); }
  const std::vector<TokenId>& tokens() const { return tokens_; }

  // State of the message being parsed (empty when not in its content).
  std::optional<Role> current_role() const;
  std::optional<std::string> current_channel() const;
  std::optional<std::string> current_recipient() const;
  std::optional<std::string> current_content_type() const;
  // The content text decoded so far of the message in progress.
  const std::string& current_content() const { return content_; }
  // The text the last Process() added to the content, if any.
  const std::optional<std::string>& last_content_delta() const { return last_content_delta_; }

 private:
  enum class State { kExpectStart, kHeader, kContent };

  struct Header {
    Role role = Role::kAssistant;
    std::optional<std::string> name;
    std::optional<std::string> recipient;
    std::optional<std::string> channel;
    std::optional<std::string> content_type;
  };

  Status ProcessNext(std::optional<TokenId> token);
  void AppendContentToken(TokenId token);
  void FinishMessage();
  // Splits decoded header text into its fields. With `parse_recipient_and_type`
  // false (non-strict recovery), everything left after the role and channel is
  // returned as `*rest` instead.
  Status ParseHeaderText(std::string text, std::optional<Role> role,
                         bool parse_recipient_and_type, Header* header,
                         std::optional<std::string>* rest) const;

  const Tokenizer* tokenizer_;
  ParseOptions options_;
  State state_;
  std::optional<Role> next_role_;
  std::vector<TokenId> tokens_;
  std::vector<Message> messages_;
  std::vector<TokenId> header_tokens_;
  Header header_;
  std::string content_;
  std::vector<TokenId> undecoded_tokens_;
  std::string undecoded_bytes_;
  std::optional<std::string> last_content_delta_;
};

// Parses a whole completion: every token, then the end of the stream.
Result<std::vector<Message>> ParseMessagesFromCompletionTokens(const Tokenizer& tokenizer,
                                                               const std::vector<TokenId>& tokens,
                                                               std::optional<Role> role,
                                                               ParseOptions options = ParseOptions());

}  // namespace harmony
}  // namespace moert

#endif  // MOERT_HARMONY_PARSER_H_
