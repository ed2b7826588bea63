// Chatting with a gpt-oss artifact in the harmony format: the conversation
// (system message with the reasoning effort, developer message with
// instructions and function tools, the turns), the stream of one assistant
// turn (final text streamed, other channels kept apart, tool calls
// extracted), and the turn loop over a model (render, prefill, sample and
// decode until a generation stop token or a limit).
//
// The model is an interface (LanguageModel) so the loop can be tested with a
// scripted token sequence; ExecModel runs it on an exec::Session.
#ifndef MOERT_CHAT_CHAT_H_
#define MOERT_CHAT_CHAT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "artifact/artifact.h"
#include "base/status.h"
#include "exec/sampler.h"
#include "exec/runner.h"
#include "exec/session.h"
#include "harmony/chat.h"
#include "harmony/encoding.h"
#include "harmony/parser.h"
#include "tokenizer/streaming_decoder.h"
#include "tokenizer/tokenizer.h"

namespace moert {
namespace chat {

// The artifact's embedded tokenizer (an o200k `.tiktoken` ranks file, or a
// Hugging Face tokenizer.json when the segment starts with '{'). Fails when
// the artifact has none, names another encoding, or its model's vocabulary is
// not the tokenizer's.
Result<Tokenizer> TokenizerFromArtifact(const Artifact& artifact);

// OK when `text` is well-formed UTF-8; otherwise an error naming `what` and
// the byte offset.
Status CheckUtf8(std::string_view text, const std::string& what);

struct ChatConfig {
  harmony::ReasoningEffort reasoning_effort = harmony::ReasoningEffort::kMedium;
  // The developer message's "# Instructions"; with `functions`, the developer
  // message's tools. Without both there is no developer message.
  std::optional<std::string> instructions;
  std::optional<harmony::ToolNamespace> functions;
};

// The messages of a chat, rendered the harmony way.
class Conversation {
 public:
  // Checks the instructions are valid UTF-8.
  static Result<Conversation> Create(ChatConfig config);

  const std::vector<harmony::Message>& messages() const { return messages_; }

  // Fails, adding nothing, when `text` is not valid UTF-8.
  Status AddUserMessage(std::string text);
  // The assistant messages of one turn, as parsed from the model's output.
  // A stored final answer renders with <|end|> (the renderer never writes
  // <|return|> into a prompt). When the turn gave a final answer, the chain of
  // thought of the finished turns is dropped: every "analysis" message leaves
  // the history (harmony's docs; analysis is kept across tool calls).
  void AddAssistantMessages(std::vector<harmony::Message> messages);

  // The history, then <|start|>assistant: the prompt to sample the next turn
  // from.
  Result<std::vector<TokenId>> RenderForCompletion(const harmony::HarmonyEncoding& encoding) const;

 private:
  explicit Conversation(std::vector<harmony::Message> messages) : messages_(std::move(messages)) {}
  std::vector<harmony::Message> messages_;
};

// A message the model addressed to a tool (it has a recipient).
struct ToolCall {
  std::string recipient;                    // "functions.get_weather"
  std::optional<std::string> channel;       // usually "commentary"
  std::optional<std::string> content_type;  // "<|constrain|>json", ...
  std::string arguments;                    // the message text
};

// One line of JSON, no newline:
//   {"recipient":"functions.get_weather","content_type":"<|constrain|>json","arguments":{...}}
// "arguments" is the parsed JSON when the text is a JSON document, else the
// text as a string; "content_type" is null when the header has none.
std::string ToolCallJsonLine(const ToolCall& call);

// Where the text of an assistant message goes.
enum class TextKind {
  kFinal,  // the "final" channel: the answer shown to the user
  kOther,  // "analysis" (chain of thought), commentary preambles, no channel
};

// Receives one turn as it is generated. Text pieces are valid UTF-8 (a token
// ending inside a character waits for the next one).
class TurnListener {
 public:
  virtual ~TurnListener() = default;
  // A message without a recipient begins; `channel` as its header says.
  virtual void OnMessageBegin(TextKind kind, const std::optional<std::string>& channel) {}
  virtual void OnText(TextKind kind, std::string_view text) {}
  // The message ended (at <|end|>, <|return|>, <|call|> or the turn's end).
  virtual void OnMessageEnd(TextKind kind) {}
  // A message with a recipient ended with a stop token. Its text is not
  // streamed through OnText.
  virtual void OnToolCall(const ToolCall& call) {}
};

// The stream of one assistant turn: the tokens generated after the prompt's
// <|start|>assistant, fed one at a time. Parses them with harmony's
// StreamableParser (messages may follow each other: <|end|> is no generation
// stop; the model may go on with <|start|>assistant...), decodes message text
// with a StreamingDecoder and tells the listener.
class TurnStream {
 public:
  // `tokenizer` and `listener` (may be null) must outlive the stream.
  TurnStream(const Tokenizer& tokenizer, TurnListener* listener);

  // Consumes one generated token. Returns true for a generation stop token
  // (<|return|> or <|call|>): the turn is over. An error means the output is
  // not harmony. After a stop token or an error the stream takes no more
  // tokens (call Finish).
  Result<bool> Push(TokenId token);
  // Ends the turn where it is (a limit was reached, or Push failed): the
  // message in progress ends with the text it has; an unfinished tool call or
  // header is dropped.
  void Finish();

  // The messages completed so far.
  const std::vector<harmony::Message>& messages() const { return messages_; }
  std::vector<harmony::Message> TakeMessages() { return std::move(messages_); }
  bool failed() const { return failed_; }

 private:
  void EndContent(bool stopped);

  TurnListener* listener_;
  harmony::StreamableParser parser_;
  StreamingDecoder decoder_;
  bool in_content_ = false;
  bool tool_call_ = false;
  TextKind kind_ = TextKind::kOther;
  bool failed_ = false;
  bool finished_ = false;
  std::vector<harmony::Message> messages_;
};

// The sequence a chat runs in: one KV-cache slot and a sampler.
class LanguageModel {
 public:
  virtual ~LanguageModel() = default;
  virtual uint32_t max_context() const = 0;
  // Tokens in the sequence.
  virtual uint32_t position() const = 0;
  // Empties the sequence.
  virtual Status Reset() = 0;
  // Appends tokens (at least one); the next Sample draws after the last.
  virtual Status Prefill(const std::vector<TokenId>& tokens) = 0;
  // Appends one token.
  virtual Status Decode(TokenId token) = 0;
  // Draws the next token from the latest logits.
  virtual Result<TokenId> Sample() = 0;
};

// A LanguageModel over slot 0 of an exec::Runner (the CPU Session or a
// GpuSession).
class ExecModel : public LanguageModel {
 public:
  static Result<std::unique_ptr<ExecModel>> Create(std::unique_ptr<exec::Runner> runner,
                                                   const exec::SamplingParams& params);
  uint32_t max_context() const override;
  uint32_t position() const override;
  Status Reset() override;
  Status Prefill(const std::vector<TokenId>& tokens) override;
  Status Decode(TokenId token) override;
  Result<TokenId> Sample() override;

 private:
  ExecModel(std::unique_ptr<exec::Runner> runner, exec::Sampler sampler)
      : runner_(std::move(runner)), sampler_(std::move(sampler)) {}
  std::unique_ptr<exec::Runner> runner_;
  exec::Sampler sampler_;
  std::vector<int32_t> scratch_;
};

enum class StopReason {
  kReturn,      // <|return|>: the final answer is complete
  kCall,        // <|call|>: the model called a tool
  kMaxTokens,   // the turn's token limit
  kContext,     // the artifact's context is full
  kMalformed,   // the output is not harmony (TurnStats::error says why)
};
// "return", "call", "max-tokens", "context", "malformed".
const char* StopReasonName(StopReason reason);

struct TurnStats {
  uint32_t prompt_tokens = 0;     // the rendered conversation
  uint32_t reused_tokens = 0;     // of them, already in the KV cache
  uint32_t generated_tokens = 0;  // sampled, the stop token included
  double prefill_seconds = 0;     // prefilling prompt_tokens - reused_tokens
  double decode_seconds = 0;      // sampling and decoding the generated tokens
  StopReason stop = StopReason::kMaxTokens;
  std::string error;  // kMalformed: the parser's message
};

// A chat over a model: each Turn adds the user's message, renders the
// conversation, prefills it, generates the assistant's turn and keeps its
// messages in the history.
//
// KV cache: the tokens in the model's sequence are remembered; when they are
// a prefix of the next prompt only the rest is prefilled. Otherwise (the
// history re-renders differently: dropped analysis, <|end|> for the generated
// <|return|>, text re-encoded by BPE differently from the sampled tokens) the
// sequence is reset and the whole prompt prefilled; the exec session can only
// be reset, not cut back to the common prefix.
class ChatSession {
 public:
  // `tokenizer` and `model` must outlive the session.
  ChatSession(const Tokenizer& tokenizer, LanguageModel* model, Conversation conversation);

  const Conversation& conversation() const { return conversation_; }
  const harmony::HarmonyEncoding& encoding() const { return encoding_; }

  // The prompt a turn with `user_text` would prefill.
  Result<std::vector<TokenId>> PromptFor(const std::string& user_text) const;
  // One turn: generates at most `max_tokens` tokens (> 0), streaming them to
  // `listener` (may be null). Fails, leaving the history as it was, when the
  // text is not valid UTF-8 or the prompt leaves no room in the context to
  // generate; fails on model errors.
  Result<TurnStats> Turn(const std::string& user_text, uint32_t max_tokens, TurnListener* listener);

 private:
  const Tokenizer* tokenizer_;
  LanguageModel* model_;
  harmony::HarmonyEncoding encoding_;
  Conversation conversation_;
  std::vector<TokenId> cached_;  // the tokens in the model's sequence
};

}  // namespace chat
}  // namespace moert

#endif  // MOERT_CHAT_CHAT_H_
