#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "chat/chat.h"
#include "tokenizer/tokenizer.h"
#include "base/utf8.h"

namespace moert {
namespace chat {
namespace {

using harmony::Message;
using harmony::Role;

const Tokenizer& O200k() {
  static const Tokenizer* tokenizer = [] {
    Result<Tokenizer> t =
        Tokenizer::LoadTiktokenFile(std::string(MOEC_TESTDATA_DIR) + "/tokenizer/o200k_base.tiktoken");
    if (!t.ok()) {
      fprintf(stderr, "%s\n", t.status().ToString().c_str());
      abort();
    }
    return new Tokenizer(std::move(t).value());
  }();
  return *tokenizer;
}

// Text with special-token names, as token ids.
std::vector<TokenId> Tokens(const std::string& text) {
  Result<std::vector<TokenId>> ids = O200k().Encode(text, AllowedSpecialTokens::All());
  EXPECT_TRUE(ids.ok()) << ids.status().ToString();
  return ids.ok() ? *ids : std::vector<TokenId>{};
}

// The id of the single-byte token `byte`.
TokenId ByteToken(uint8_t byte) {
  for (TokenId id = 0; id < 256; ++id) {
    Result<std::string_view> bytes = O200k().TokenBytes(id);
    if (bytes.ok() && bytes->size() == 1 && static_cast<uint8_t>((*bytes)[0]) == byte) return id;
  }
  ADD_FAILURE() << "no token for byte " << int(byte);
  return 0;
}

// Records what a turn streams.
struct Recorder : TurnListener {
  void OnMessageBegin(TextKind kind, const std::optional<std::string>& channel) override {
    events.push_back(std::string(kind == TextKind::kFinal ? "begin final" : "begin other ") +
                     (kind == TextKind::kFinal ? "" : channel.value_or("-")));
  }
  void OnText(TextKind kind, std::string_view text) override {
    EXPECT_EQ(ScanUtf8(text).valid_up_to, text.size()) << "broken UTF-8 streamed";
    pieces.emplace_back(text);
    (kind == TextKind::kFinal ? final_text : other_text) += text;
  }
  void OnMessageEnd(TextKind kind) override {
    events.push_back(kind == TextKind::kFinal ? "end final" : "end other");
  }
  void OnToolCall(const ToolCall& call) override { calls.push_back(call); }

  std::vector<std::string> events;
  std::vector<std::string> pieces;
  std::string final_text, other_text;
  std::vector<ToolCall> calls;
};

// Pushes `tokens`; returns the index of the token that stopped the turn, or -1.
int PushAll(TurnStream& stream, const std::vector<TokenId>& tokens) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    Result<bool> stop = stream.Push(tokens[i]);
    EXPECT_TRUE(stop.ok()) << stop.status().ToString();
    if (!stop.ok()) return -1;
    if (*stop) return static_cast<int>(i);
  }
  return -1;
}

TEST(TurnStreamTest, StreamsFinalTextAndKeepsAnalysisApart) {
  Recorder recorder;
  TurnStream stream(O200k(), &recorder);
  std::vector<TokenId> tokens = Tokens(
      "<|channel|>analysis<|message|>User asks 2+2. Answer 4.<|end|>"
      "<|start|>assistant<|channel|>final<|message|>2 + 2 = 4.<|return|>");
  EXPECT_EQ(PushAll(stream, tokens), static_cast<int>(tokens.size()) - 1);
  EXPECT_EQ(tokens.back(), kTokenReturn);
  EXPECT_EQ(recorder.final_text, "2 + 2 = 4.");
  EXPECT_EQ(recorder.other_text, "User asks 2+2. Answer 4.");
  EXPECT_EQ(recorder.events,
            (std::vector<std::string>{"begin other analysis", "end other", "begin final", "end final"}));
  EXPECT_GT(recorder.pieces.size(), 2u);  // streamed token by token, not at the end
  EXPECT_TRUE(recorder.calls.empty());
  ASSERT_EQ(stream.messages().size(), 2u);
  EXPECT_EQ(stream.messages()[0].channel, std::optional<std::string>("analysis"));
  EXPECT_EQ(stream.messages()[1].channel, std::optional<std::string>("final"));
  EXPECT_EQ(stream.messages()[1].Text(), "2 + 2 = 4.");
  // After the stop token the turn is over.
  EXPECT_FALSE(stream.Push(kTokenStart).ok());
}

TEST(TurnStreamTest, EndIsNoGenerationStop) {
  TurnStream stream(O200k(), nullptr);
  for (TokenId t : Tokens("<|channel|>analysis<|message|>x<|end|>")) {
    Result<bool> stop = stream.Push(t);
    ASSERT_TRUE(stop.ok());
    EXPECT_FALSE(*stop);
  }
  EXPECT_EQ(stream.messages().size(), 1u);
}

TEST(TurnStreamTest, ExtractsToolCall) {
  Recorder recorder;
  TurnStream stream(O200k(), &recorder);
  std::vector<TokenId> tokens = Tokens(
      "<|channel|>analysis<|message|>Need weather.<|end|><|start|>assistant<|channel|>commentary "
      "to=functions.get_weather <|constrain|>json<|message|>{\"location\":\"San Francisco\"}<|call|>");
  EXPECT_EQ(PushAll(stream, tokens), static_cast<int>(tokens.size()) - 1);
  ASSERT_EQ(recorder.calls.size(), 1u);
  const ToolCall& call = recorder.calls[0];
  EXPECT_EQ(call.recipient, "functions.get_weather");
  EXPECT_EQ(call.channel, std::optional<std::string>("commentary"));
  EXPECT_EQ(call.content_type, std::optional<std::string>("<|constrain|>json"));
  EXPECT_EQ(call.arguments, "{\"location\":\"San Francisco\"}");
  EXPECT_EQ(ToolCallJsonLine(call),
            "{\"recipient\":\"functions.get_weather\",\"content_type\":\"<|constrain|>json\","
            "\"arguments\":{\"location\":\"San Francisco\"}}");
  // The call's text is not streamed as text.
  EXPECT_EQ(recorder.final_text, "");
  EXPECT_EQ(recorder.other_text, "Need weather.");
  EXPECT_EQ(stream.messages().size(), 2u);
}

TEST(TurnStreamTest, ToolCallJsonKeepsNonJsonArgumentsAsText) {
  EXPECT_EQ(ToolCallJsonLine(ToolCall{"python", std::string("analysis"), std::nullopt, "print(1)"}),
            "{\"recipient\":\"python\",\"content_type\":null,\"arguments\":\"print(1)\"}");
}

TEST(TurnStreamTest, NeverStreamsBrokenUtf8) {
  Recorder recorder;
  TurnStream stream(O200k(), &recorder);
  std::vector<TokenId> tokens = Tokens("<|channel|>final<|message|>");
  // "é😀" one byte per token: the pieces wait for whole characters.
  for (uint8_t b : std::string("\xC3\xA9\xF0\x9F\x98\x80")) tokens.push_back(ByteToken(b));
  tokens.push_back(kTokenReturn);
  PushAll(stream, tokens);
  EXPECT_EQ(recorder.final_text, "\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(recorder.pieces, (std::vector<std::string>{"\xC3\xA9", "\xF0\x9F\x98\x80"}));
}

TEST(TurnStreamTest, FinishAtLimitKeepsPartialMessage) {
  Recorder recorder;
  TurnStream stream(O200k(), &recorder);
  std::vector<TokenId> tokens = Tokens("<|channel|>final<|message|>The answer is");
  tokens.push_back(ByteToken(0xF0));  // half a character at the limit
  EXPECT_EQ(PushAll(stream, tokens), -1);
  stream.Finish();
  EXPECT_EQ(recorder.final_text, "The answer is\xEF\xBF\xBD");
  EXPECT_EQ(recorder.events.back(), "end final");
  ASSERT_EQ(stream.messages().size(), 1u);
  EXPECT_EQ(stream.messages()[0].Text(), "The answer is");
}

TEST(TurnStreamTest, UnfinishedToolCallIsDropped) {
  Recorder recorder;
  TurnStream stream(O200k(), &recorder);
  PushAll(stream, Tokens("<|channel|>commentary to=functions.f <|constrain|>json<|message|>{\"a\":"));
  stream.Finish();
  EXPECT_TRUE(recorder.calls.empty());
  EXPECT_TRUE(stream.messages().empty());
}

TEST(TurnStreamTest, MalformedOutputFails) {
  Recorder recorder;
  TurnStream stream(O200k(), &recorder);
  PushAll(stream, Tokens("<|channel|>analysis<|message|>x<|end|>"));
  // After <|end|> a message must begin with <|start|>.
  Result<bool> r = stream.Push(Tokens("hello")[0]);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not harmony"), std::string::npos) << r.status().message();
  EXPECT_TRUE(stream.failed());
  stream.Finish();
  EXPECT_EQ(stream.messages().size(), 1u);
}

// Spec section 6.2: the default system message and "What is 2 + 2?".
const std::vector<TokenId> kSimpleConvo = {
    200006, 17360, 200008, 3575,  553,    17554, 162016, 11,    261,   4410,  6439,   2359,   22203,
    656,    7788,  17527,  558,   87447,  100594, 25,    220,   1323,  19,    12,     3218,   279,
    30377,  289,   25,     14093, 279,    2,      13888, 18403, 25,    8450,  11,     49159,  11,
    1721,   13,    21030,  2804,  413,    7360,   395,   1753,  3176,  13,    200007, 200006, 1428,
    200008, 4827,  382,    220,   17,     659,    220,   17,    30,    200007, 200006, 173781};

TEST(ConversationTest, RendersTheHarmonyReferencePrompt) {
  Result<Conversation> c = Conversation::Create(ChatConfig());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->AddUserMessage("What is 2 + 2?").ok());
  harmony::HarmonyEncoding encoding(O200k());
  Result<std::vector<TokenId>> ids = c->RenderForCompletion(encoding);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(*ids, kSimpleConvo);
}

TEST(ConversationTest, ReasoningInstructionsAndTools) {
  ChatConfig config;
  config.reasoning_effort = harmony::ReasoningEffort::kHigh;
  config.instructions = "Answer in French.";
  harmony::ToolNamespace functions;
  functions.name = "functions";
  functions.tools.push_back(harmony::ToolDescription{"get_time", "Current time.", std::nullopt});
  config.functions = functions;
  Result<Conversation> c = Conversation::Create(config);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->messages().size(), 2u);
  EXPECT_EQ(c->messages()[1].role, Role::kDeveloper);
  ASSERT_TRUE(c->AddUserMessage("Quelle heure est-il ?").ok());
  harmony::HarmonyEncoding encoding(O200k());
  Result<std::vector<TokenId>> ids = c->RenderForCompletion(encoding);
  ASSERT_TRUE(ids.ok());
  Result<std::string> text = O200k().DecodeUtf8(*ids);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("Reasoning: high"), std::string::npos);
  EXPECT_NE(text->find("<|start|>developer<|message|># Instructions\n\nAnswer in French.\n\n# Tools"),
            std::string::npos)
      << *text;
  EXPECT_NE(text->find("type get_time = () => any;"), std::string::npos);
  EXPECT_NE(text->find("Calls to these tools must go to the commentary channel: 'functions'."), std::string::npos);
}

TEST(ConversationTest, RefusesInvalidUtf8) {
  ChatConfig config;
  config.instructions = std::string("bad \xC3");
  Result<Conversation> bad = Conversation::Create(config);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "the developer instructions is not valid UTF-8 (byte 4 of 5 is 0xc3)");
  Result<Conversation> c = Conversation::Create(ChatConfig());
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->AddUserMessage("\xFF").ok());
  EXPECT_EQ(c->messages().size(), 1u);
}

Message Assistant(const std::string& channel, const std::string& text) {
  return Message::FromText(Role::kAssistant, text).WithChannel(channel);
}

TEST(ConversationTest, DropsAnalysisAfterAFinalAnswerOnly) {
  Result<Conversation> c = Conversation::Create(ChatConfig());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->AddUserMessage("weather?").ok());
  Message call = Assistant("commentary", "{}");
  call.WithRecipient("functions.get_weather");
  // A tool call: the chain of thought stays.
  c->AddAssistantMessages({Assistant("analysis", "think 1"), call});
  EXPECT_EQ(c->messages().size(), 4u);
  c->AddAssistantMessages({Assistant("analysis", "think 2"), Assistant("final", "Sunny.")});
  ASSERT_EQ(c->messages().size(), 4u);  // system, user, call, final
  EXPECT_EQ(c->messages()[2].recipient, std::optional<std::string>("functions.get_weather"));
  EXPECT_EQ(c->messages()[3].Text(), "Sunny.");
  // The stored answer renders with <|end|>, not <|return|>.
  harmony::HarmonyEncoding encoding(O200k());
  Result<std::vector<TokenId>> ids = c->RenderForCompletion(encoding);
  ASSERT_TRUE(ids.ok());
  std::vector<TokenId> tail = Tokens("<|start|>assistant<|channel|>final<|message|>Sunny.<|end|><|start|>assistant");
  ASSERT_GE(ids->size(), tail.size());
  EXPECT_EQ(std::vector<TokenId>(ids->end() - tail.size(), ids->end()), tail);
  EXPECT_EQ(std::count(ids->begin(), ids->end(), kTokenReturn), 0);
}

// A model that replays a script of sampled tokens and records its sequence.
class ScriptedModel : public LanguageModel {
 public:
  ScriptedModel(uint32_t max_context, std::vector<TokenId> script)
      : max_context_(max_context), script_(std::move(script)) {}
  uint32_t max_context() const override { return max_context_; }
  uint32_t position() const override { return static_cast<uint32_t>(sequence.size()); }
  Status Reset() override {
    ++resets;
    sequence.clear();
    return Status::Ok();
  }
  Status Prefill(const std::vector<TokenId>& tokens) override {
    if (tokens.empty()) return InvalidArgument("empty prefill");
    if (sequence.size() + tokens.size() > max_context_) return OutOfRange("prefill past the context");
    prefilled.push_back(tokens);
    sequence.insert(sequence.end(), tokens.begin(), tokens.end());
    return Status::Ok();
  }
  Status Decode(TokenId token) override {
    if (sequence.size() >= max_context_) return OutOfRange("decode past the context");
    sequence.push_back(token);
    return Status::Ok();
  }
  Result<TokenId> Sample() override {
    if (next_ == script_.size()) return OutOfRange("script exhausted");
    return script_[next_++];
  }
  void Append(const std::vector<TokenId>& more) { script_.insert(script_.end(), more.begin(), more.end()); }

  std::vector<TokenId> sequence;
  std::vector<std::vector<TokenId>> prefilled;
  int resets = 0;

 private:
  uint32_t max_context_;
  std::vector<TokenId> script_;
  size_t next_ = 0;
};

ChatSession NewChat(ScriptedModel* model) {
  Result<Conversation> c = Conversation::Create(ChatConfig());
  EXPECT_TRUE(c.ok());
  return ChatSession(O200k(), model, std::move(c).value());
}

TEST(ChatSessionTest, StopsAtReturnWithoutDecodingIt) {
  std::vector<TokenId> answer = Tokens("<|channel|>final<|message|>4<|return|>");
  ScriptedModel model(512, answer);
  ChatSession chat = NewChat(&model);
  Recorder recorder;
  Result<TurnStats> stats = chat.Turn("What is 2 + 2?", 100, &recorder);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->stop, StopReason::kReturn);
  EXPECT_EQ(stats->prompt_tokens, kSimpleConvo.size());
  EXPECT_EQ(stats->reused_tokens, 0u);
  EXPECT_EQ(stats->generated_tokens, answer.size());
  EXPECT_EQ(recorder.final_text, "4");
  // The prompt, then every generated token but the stop token.
  std::vector<TokenId> want = kSimpleConvo;
  want.insert(want.end(), answer.begin(), answer.end() - 1);
  EXPECT_EQ(model.sequence, want);
  EXPECT_EQ(chat.conversation().messages().back().Text(), "4");
}

TEST(ChatSessionTest, SecondTurnReusesTheCachedPrefix) {
  std::vector<TokenId> answer = Tokens("<|channel|>final<|message|>4<|return|>");
  ScriptedModel model(512, answer);
  ChatSession chat = NewChat(&model);
  ASSERT_TRUE(chat.Turn("What is 2 + 2?", 100, nullptr).ok());
  model.Append(Tokens("<|channel|>final<|message|>5<|return|>"));
  Result<TurnStats> stats = chat.Turn("And 2 + 3?", 100, nullptr);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  // The cache held the first prompt and the answer up to <|return|>, which
  // re-renders as <|end|>: only the rest is prefilled.
  EXPECT_EQ(stats->reused_tokens, kSimpleConvo.size() + answer.size() - 1);
  EXPECT_EQ(model.resets, 0);  // an empty cache is a prefix too
  EXPECT_EQ(model.prefilled.back(),
            Tokens("<|end|><|start|>user<|message|>And 2 + 3?<|end|><|start|>assistant"));
  EXPECT_EQ(chat.conversation().messages().size(), 5u);
}

TEST(ChatSessionTest, DroppedAnalysisForcesAFullPrefill) {
  ScriptedModel model(512, Tokens("<|channel|>analysis<|message|>hmm<|end|><|start|>assistant<|channel|>final"
                                  "<|message|>4<|return|>"));
  ChatSession chat = NewChat(&model);
  ASSERT_TRUE(chat.Turn("What is 2 + 2?", 100, nullptr).ok());
  model.Append(Tokens("<|channel|>final<|message|>5<|return|>"));
  Result<TurnStats> stats = chat.Turn("And 2 + 3?", 100, nullptr);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->reused_tokens, 0u);
  EXPECT_EQ(model.resets, 1);
  Result<std::string> text = O200k().DecodeUtf8(model.prefilled.back());
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->find("hmm"), std::string::npos);
  EXPECT_NE(text->find("<|channel|>final<|message|>4<|end|><|start|>user"), std::string::npos) << *text;
}

TEST(ChatSessionTest, ToolCallEndsTheTurn) {
  ScriptedModel model(512, Tokens("<|channel|>commentary to=functions.f <|constrain|>json<|message|>{}<|call|>"
                                  "<|start|>"));
  ChatSession chat = NewChat(&model);
  Recorder recorder;
  Result<TurnStats> stats = chat.Turn("call f", 100, &recorder);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->stop, StopReason::kCall);
  ASSERT_EQ(recorder.calls.size(), 1u);
  EXPECT_EQ(recorder.calls[0].recipient, "functions.f");
}

TEST(ChatSessionTest, MaxTokens) {
  ScriptedModel model(512, Tokens("<|channel|>final<|message|>one two three four five six<|return|>"));
  ChatSession chat = NewChat(&model);
  Recorder recorder;
  Result<TurnStats> stats = chat.Turn("count", 5, &recorder);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->stop, StopReason::kMaxTokens);
  EXPECT_EQ(stats->generated_tokens, 5u);
  EXPECT_EQ(recorder.final_text, "one two");
  EXPECT_EQ(recorder.events.back(), "end final");
  // Four decoded; the fifth was sampled only.
  EXPECT_EQ(model.sequence.size(), stats->prompt_tokens + 4u);
}

TEST(ChatSessionTest, ContextFull) {
  const uint32_t prompt = static_cast<uint32_t>(kSimpleConvo.size());
  ScriptedModel model(prompt + 3, Tokens("<|channel|>final<|message|>one two three four five six<|return|>"));
  ChatSession chat = NewChat(&model);
  Result<TurnStats> stats = chat.Turn("What is 2 + 2?", 100, nullptr);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->stop, StopReason::kContext);
  EXPECT_EQ(stats->generated_tokens, 4u);
  EXPECT_EQ(model.sequence.size(), prompt + 3u);
}

TEST(ChatSessionTest, MalformedOutputEndsTheTurn) {
  std::vector<TokenId> script = Tokens("<|channel|>final<|message|>4<|end|>");
  script.push_back(Tokens("oops")[0]);
  ScriptedModel model(512, script);
  ChatSession chat = NewChat(&model);
  Result<TurnStats> stats = chat.Turn("What is 2 + 2?", 100, nullptr);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->stop, StopReason::kMalformed);
  EXPECT_NE(stats->error.find("not harmony"), std::string::npos);
  EXPECT_EQ(chat.conversation().messages().back().Text(), "4");
}

TEST(ChatSessionTest, PromptPastTheContextLeavesTheHistory) {
  ScriptedModel model(static_cast<uint32_t>(kSimpleConvo.size()), {});
  ChatSession chat = NewChat(&model);
  Result<TurnStats> stats = chat.Turn("What is 2 + 2?", 100, nullptr);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.status().message(),
            "the conversation renders to 64 tokens, which leaves no room to generate in the artifact's context of "
            "64 tokens");
  EXPECT_EQ(chat.conversation().messages().size(), 1u);
  EXPECT_FALSE(chat.Turn("\xC0", 100, nullptr).ok());
  EXPECT_EQ(chat.conversation().messages().size(), 1u);
}

}  // namespace
}  // namespace chat
}  // namespace moert
