#include "chat/chat.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "base/json.h"
#include "base/utf8.h"

namespace moert {
namespace chat {
namespace {

using harmony::Message;
using harmony::Role;

bool IsGenerationStop(TokenId token) { return token == kTokenReturn || token == kTokenCall; }
bool IsMessageStop(TokenId token) { return IsGenerationStop(token) || token == kTokenEnd; }

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Result<Tokenizer> TokenizerFromArtifact(const Artifact& artifact) {
  const moex::Tokenizer* table = artifact.manifest().tokenizer();
  if (table == nullptr) {
    return FailedPrecondition(artifact.source(),
                              ": the artifact has no tokenizer; compile it from a checkpoint "
                              "with one or give moec compile --tokenizer FILE");
  }
  const std::string encoding = table->encoding() == nullptr ? "" : table->encoding()->str();
  if (encoding != "o200k_harmony") {
    return Unimplemented(artifact.source(), ": tokenizer encoding \"", encoding,
                         "\" is not supported (only o200k_harmony)");
  }
  if (table->ranks_segment() >= artifact.num_segments()) {
    return DataLoss(artifact.source(), ": tokenizer.ranks_segment ", table->ranks_segment(),
                    " is past the ", artifact.num_segments(), " segments");
  }
  const uint32_t model_vocab = artifact.manifest().model()->vocab_size();
  if (model_vocab != kVocabSize) {
    return FailedPrecondition(artifact.source(), ": the model's vocabulary of ", model_vocab,
                              " tokens is not o200k_harmony's ", kVocabSize);
  }
  ByteSpan bytes = artifact.segment(table->ranks_segment());
  std::string_view text(reinterpret_cast<const char*>(bytes.data), bytes.size);
  const std::string name = StrCat(artifact.source(), " (tokenizer segment ", table->ranks_segment(), ")");
  return Tokenizer::FromContents(text, name);
}

Status CheckUtf8(std::string_view text, const std::string& what) {
  Utf8Scan scan = ScanUtf8(text);
  if (scan.valid_up_to == text.size()) return Status::Ok();
  return InvalidArgument(what, " is not valid UTF-8 (byte ", scan.valid_up_to, " of ", text.size(),
                         " is 0x", "0123456789abcdef"[static_cast<uint8_t>(text[scan.valid_up_to]) >> 4],
                         "0123456789abcdef"[static_cast<uint8_t>(text[scan.valid_up_to]) & 15], ")");
}

// --- Conversation ----------------------------------------------------------

Result<Conversation> Conversation::Create(ChatConfig config) {
  std::vector<Message> messages;
  harmony::SystemContent system;
  system.reasoning_effort = config.reasoning_effort;
  Message system_message;
  system_message.role = Role::kSystem;
  system_message.content.push_back(harmony::Content::System(std::move(system)));
  messages.push_back(std::move(system_message));
  if (config.instructions.has_value() || config.functions.has_value()) {
    harmony::DeveloperContent developer;
    if (config.instructions.has_value()) {
      MOERT_RETURN_IF_ERROR(CheckUtf8(*config.instructions, "the developer instructions"));
      developer.instructions = std::move(config.instructions);
    }
    if (config.functions.has_value()) {
      developer.tools = std::vector<harmony::ToolNamespace>{std::move(*config.functions)};
    }
    Message developer_message;
    developer_message.role = Role::kDeveloper;
    developer_message.content.push_back(harmony::Content::Developer(std::move(developer)));
    messages.push_back(std::move(developer_message));
  }
  return Conversation(std::move(messages));
}

Status Conversation::AddUserMessage(std::string text) {
  MOERT_RETURN_IF_ERROR(CheckUtf8(text, "the user message"));
  messages_.push_back(Message::FromText(Role::kUser, std::move(text)));
  return Status::Ok();
}

void Conversation::AddAssistantMessages(std::vector<Message> messages) {
  const bool answered = std::any_of(messages.begin(), messages.end(), [](const Message& m) {
    return m.role == Role::kAssistant && m.channel == std::optional<std::string>("final");
  });
  for (Message& m : messages) messages_.push_back(std::move(m));
  if (!answered) return;
  messages_.erase(std::remove_if(messages_.begin(), messages_.end(),
                                 [](const Message& m) {
                                   return m.role == Role::kAssistant &&
                                          m.channel == std::optional<std::string>("analysis");
                                 }),
                  messages_.end());
}

Result<std::vector<TokenId>> Conversation::RenderForCompletion(const harmony::HarmonyEncoding& encoding) const {
  harmony::RenderConfig config;
  config.auto_drop_analysis = true;
  return encoding.RenderConversationForCompletion(messages_, Role::kAssistant, config);
}

// --- Tool calls ------------------------------------------------------------

std::string ToolCallJsonLine(const ToolCall& call) {
  Result<JsonValue> parsed = ParseJson(call.arguments);
  JsonValue arguments = parsed.ok() ? std::move(parsed).value() : JsonValue::String(call.arguments);
  JsonValue line = JsonValue::Object({
      {"recipient", JsonValue::String(call.recipient)},
      {"content_type", call.content_type ? JsonValue::String(*call.content_type) : JsonValue::Null()},
      {"arguments", std::move(arguments)},
  });
  return line.Serialize();
}

// --- TurnStream ------------------------------------------------------------

TurnStream::TurnStream(const Tokenizer& tokenizer, TurnListener* listener)
    : listener_(listener), parser_(tokenizer, Role::kAssistant), decoder_(tokenizer) {}

Result<bool> TurnStream::Push(TokenId token) {
  if (failed_ || finished_) return FailedPrecondition("TurnStream: no tokens after the turn ended or failed");
  Status status = parser_.Process(token);
  if (!status.ok()) {
    failed_ = true;
    return status.Annotate(StrCat("the model's output is not harmony at generated token ",
                                  parser_.tokens().size() - 1, " (", token, ")"));
  }
  if (!in_content_) {
    // The strict parser leaves a header only at <|message|>.
    if (token == kTokenMessage) {
      in_content_ = true;
      tool_call_ = parser_.current_recipient().has_value();
      kind_ = parser_.current_channel() == std::optional<std::string>("final") ? TextKind::kFinal
                                                                               : TextKind::kOther;
      if (!tool_call_ && listener_ != nullptr) listener_->OnMessageBegin(kind_, parser_.current_channel());
    }
    finished_ = IsGenerationStop(token);
    return finished_;
  }
  if (IsMessageStop(token)) {
    EndContent(/*stopped=*/true);
    finished_ = IsGenerationStop(token);
    return finished_;
  }
  if (!tool_call_) {
    std::string text;
    MOERT_RETURN_IF_ERROR(decoder_.Push(token, &text));
    if (!text.empty() && listener_ != nullptr) listener_->OnText(kind_, text);
  }
  return false;
}

void TurnStream::EndContent(bool stopped) {
  in_content_ = false;
  if (tool_call_) {
    // Only a call ended by a stop token is complete enough to act on.
    if (stopped) {
      const Message& m = parser_.messages().back();
      messages_.push_back(m);
      if (listener_ != nullptr) {
        listener_->OnToolCall(ToolCall{m.recipient.value_or(""), m.channel, m.content_type, m.Text()});
      }
    }
    return;
  }
  std::string text;
  decoder_.Finish(&text);
  if (!text.empty() && listener_ != nullptr) listener_->OnText(kind_, text);
  if (listener_ != nullptr) listener_->OnMessageEnd(kind_);
  if (stopped) {
    messages_.push_back(parser_.messages().back());
  } else {
    // Ended by a limit: the message holds the text streamed so far (the
    // parser is not asked; it may have failed).
    Message m;
    m.role = Role::kAssistant;
    m.channel = parser_.current_channel();
    m.content_type = parser_.current_content_type();
    m.content.push_back(harmony::Content::Text(parser_.current_content()));
    messages_.push_back(std::move(m));
  }
}

void TurnStream::Finish() {
  if (finished_) return;
  finished_ = true;
  if (in_content_) EndContent(/*stopped=*/false);
}

// --- ExecModel -------------------------------------------------------------

Result<std::unique_ptr<ExecModel>> ExecModel::Create(std::unique_ptr<exec::Runner> runner,
                                                     const exec::SamplingParams& params) {
  MOERT_RETURN_IF_ERROR(exec::ValidateSamplingParams(params));
  MOERT_ASSIGN_OR_RETURN(exec::Sampler sampler, exec::Sampler::Create(runner->vocab_size(), params));
  return std::unique_ptr<ExecModel>(new ExecModel(std::move(runner), std::move(sampler)));
}

uint32_t ExecModel::max_context() const { return runner_->max_context(); }
uint32_t ExecModel::position() const { return runner_->position(0); }
Status ExecModel::Reset() { return runner_->ResetSlot(0); }

Status ExecModel::Prefill(const std::vector<TokenId>& tokens) {
  scratch_.assign(tokens.begin(), tokens.end());
  return runner_->Prefill(0, scratch_.data(), scratch_.size());
}

Status ExecModel::Decode(TokenId token) {
  const uint32_t slot = 0;
  const int32_t id = static_cast<int32_t>(token);
  return runner_->Decode(&slot, &id, 1);
}

Result<TokenId> ExecModel::Sample() {
  MOERT_ASSIGN_OR_RETURN(int32_t id, runner_->Sample(0, sampler_));
  return static_cast<TokenId>(id);
}

// --- ChatSession -----------------------------------------------------------

const char* StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kReturn: return "return";
    case StopReason::kCall: return "call";
    case StopReason::kMaxTokens: return "max-tokens";
    case StopReason::kContext: return "context";
    case StopReason::kMalformed: return "malformed";
  }
  return "?";
}

ChatSession::ChatSession(const Tokenizer& tokenizer, LanguageModel* model, Conversation conversation)
    : tokenizer_(&tokenizer), model_(model), encoding_(tokenizer), conversation_(std::move(conversation)) {}

Result<std::vector<TokenId>> ChatSession::PromptFor(const std::string& user_text) const {
  Conversation next = conversation_;
  MOERT_RETURN_IF_ERROR(next.AddUserMessage(user_text));
  return next.RenderForCompletion(encoding_);
}

Result<TurnStats> ChatSession::Turn(const std::string& user_text, uint32_t max_tokens, TurnListener* listener) {
  if (max_tokens == 0) return InvalidArgument("a turn needs max_tokens > 0");
  Conversation next = conversation_;
  MOERT_RETURN_IF_ERROR(next.AddUserMessage(user_text));
  MOERT_ASSIGN_OR_RETURN(std::vector<TokenId> prompt, next.RenderForCompletion(encoding_));
  const uint32_t context = model_->max_context();
  if (prompt.size() >= context) {
    return OutOfRange("the conversation renders to ", prompt.size(), " tokens, which leaves no room to generate in ",
                      "the artifact's context of ", context, " tokens");
  }
  TurnStats stats;
  stats.prompt_tokens = static_cast<uint32_t>(prompt.size());

  // Prefill what the cache does not hold yet.
  const bool reuse = cached_.size() < prompt.size() && model_->position() == cached_.size() &&
                     std::equal(cached_.begin(), cached_.end(), prompt.begin());
  auto start = std::chrono::steady_clock::now();
  if (!reuse) {
    cached_.clear();
    MOERT_RETURN_IF_ERROR(model_->Reset());
  }
  stats.reused_tokens = static_cast<uint32_t>(cached_.size());
  std::vector<TokenId> rest(prompt.begin() + cached_.size(), prompt.end());
  // From here on the cache's contents are unknown until the turn succeeds.
  cached_.clear();
  MOERT_RETURN_IF_ERROR(model_->Prefill(rest));
  cached_ = prompt;
  stats.prefill_seconds = SecondsSince(start);
  conversation_ = std::move(next);  // the user message is in the history now

  // Sample until a generation stop token or a limit. A sampled token is
  // decoded into the cache only when another one is to follow.
  TurnStream stream(*tokenizer_, listener);
  start = std::chrono::steady_clock::now();
  for (;;) {
    if (stats.generated_tokens == max_tokens) {
      stats.stop = StopReason::kMaxTokens;
      break;
    }
    Result<TokenId> token = model_->Sample();
    if (!token.ok()) {
      cached_.clear();
      return token.status();
    }
    ++stats.generated_tokens;
    Result<bool> stop = stream.Push(*token);
    if (!stop.ok()) {
      stats.stop = StopReason::kMalformed;
      stats.error = stop.status().message();
      break;
    }
    if (*stop) {
      stats.stop = *token == kTokenCall ? StopReason::kCall : StopReason::kReturn;
      break;
    }
    if (model_->position() >= context) {
      stats.stop = StopReason::kContext;
      break;
    }
    if (stats.generated_tokens == max_tokens) {
      stats.stop = StopReason::kMaxTokens;
      break;
    }
    Status decoded = model_->Decode(*token);
    if (!decoded.ok()) {
      cached_.clear();
      return decoded;
    }
    cached_.push_back(*token);
  }
  stats.decode_seconds = SecondsSince(start);
  stream.Finish();
  conversation_.AddAssistantMessages(stream.TakeMessages());
  return stats;
}

}  // namespace chat
}  // namespace moert
