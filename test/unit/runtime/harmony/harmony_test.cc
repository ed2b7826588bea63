#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/file_map.h"
#include "base/json.h"
#include "harmony/chat.h"
#include "harmony/encoding.h"
#include "harmony/parser.h"
#include "harmony/tool_schema.h"
#include "tokenizer/tokenizer.h"

namespace moert {
namespace harmony {
namespace {

std::string TestDataPath(const std::string& relative) {
  return std::string(MOEC_TESTDATA_DIR) + "/" + relative;
}

const Tokenizer& O200k() {
  static const Tokenizer* tokenizer = [] {
    Result<Tokenizer> t = Tokenizer::LoadTiktokenFile(TestDataPath("tokenizer/o200k_base.tiktoken"));
    if (!t.ok()) {
      fprintf(stderr, "%s\n", t.status().ToString().c_str());
      abort();
    }
    return new Tokenizer(std::move(t).value());
  }();
  return *tokenizer;
}

const JsonValue& VectorsFile() {
  static const JsonValue* vectors = [] {
    std::string path = TestDataPath("harmony/vectors.json");
    Result<std::string> text = ReadFileToString(path);
    Result<JsonValue> json = text.ok() ? ParseJson(*text) : Result<JsonValue>(text.status());
    if (!json.ok()) {
      fprintf(stderr, "%s: %s\n", path.c_str(), json.status().ToString().c_str());
      abort();
    }
    return new JsonValue(std::move(json).value());
  }();
  return *vectors;
}

std::vector<TokenId> Ids(const JsonValue& array) {
  std::vector<TokenId> ids;
  for (const JsonValue& v : array.items()) ids.push_back(static_cast<TokenId>(*v.AsUint64()));
  return ids;
}

std::string MessagesJson(const std::vector<Message>& messages) {
  std::vector<JsonValue> items;
  for (const Message& m : messages) items.push_back(MessageToJson(m));
  return JsonValue::Array(std::move(items)).Serialize(2);
}

TEST(HarmonyVectorsTest, SpecialTokenTableMatchesTheTokenizer) {
  const JsonValue* specials = VectorsFile().Find("special_tokens");
  ASSERT_NE(specials, nullptr);
  for (const JsonValue::Member& m : specials->members()) {
    TokenId id = static_cast<TokenId>(*m.second.AsUint64());
    EXPECT_EQ(*O200k().TokenBytes(id), m.first);
    EXPECT_EQ(*O200k().FindSpecialToken(m.first), id);
  }
}

void CheckRenderVector(const JsonValue& v, const std::string& name) {
  const JsonValue& input = *v.Find("input");
  Result<std::vector<Message>> messages = MessagesFromJson(*input.Find("messages"), "messages");
  ASSERT_TRUE(messages.ok()) << name << ": " << messages.status().ToString();
  RenderConfig config;
  config.auto_drop_analysis = v.Find("config")->Find("auto_drop_analysis")->bool_value();
  HarmonyEncoding encoding(O200k());
  Result<std::vector<TokenId>> ids =
      v.Find("kind")->string_value() == "render_for_completion"
          ? encoding.RenderConversationForCompletion(
                *messages, *ParseRole(input.Find("next_turn_role")->string_value()), config)
          : encoding.RenderConversation(*messages, config);
  ASSERT_TRUE(ids.ok()) << name << ": " << ids.status().ToString();
  Result<std::string> text = O200k().DecodeUtf8(*ids);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, v.Find("expected_text")->string_value()) << name;
  EXPECT_EQ(*ids, Ids(*v.Find("expected_ids"))) << name;
}

void CheckParseVector(const JsonValue& v, const std::string& name) {
  const JsonValue& input = *v.Find("input");
  std::optional<Role> role;
  if (!input.Find("role")->is_null()) role = ParseRole(input.Find("role")->string_value());
  ParseOptions options;
  options.strict = input.Find("strict")->bool_value();
  StreamableParser parser(O200k(), role, options);
  Status status;
  for (TokenId id : Ids(*input.Find("ids"))) {
    status = parser.Process(id);
    if (!status.ok()) break;
  }
  if (status.ok() && input.Find("process_eos")->bool_value()) status = parser.ProcessEos();

  const JsonValue* expected_error = v.Find("expected_error");
  if (expected_error != nullptr && expected_error->bool_value()) {
    ASSERT_FALSE(status.ok()) << name << ": expected an error, parsed "
                              << MessagesJson(parser.messages());
    if (const JsonValue* contains = v.Find("expected_error_contains")) {
      EXPECT_NE(status.message().find(contains->string_value()), std::string::npos)
          << name << ": " << status.message();
    }
    return;
  }
  ASSERT_TRUE(status.ok()) << name << ": " << status.ToString();
  Result<std::vector<Message>> expected =
      MessagesFromJson(*v.Find("expected_messages"), "expected_messages");
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  EXPECT_EQ(parser.messages().size(),
            static_cast<size_t>(*v.Find("expected_message_count")->AsInt64()))
      << name;
  EXPECT_EQ(MessagesJson(parser.messages()), MessagesJson(*expected)) << name;
}

TEST(HarmonyVectorsTest, EveryVectorPasses) {
  const JsonValue* vectors = VectorsFile().Find("vectors");
  ASSERT_NE(vectors, nullptr);
  int render_count = 0, parse_count = 0;
  for (const JsonValue& v : vectors->items()) {
    const std::string name = v.Find("name")->string_value();
    const std::string kind = v.Find("kind")->string_value();
    SCOPED_TRACE(name);
    if (kind == "parse") {
      CheckParseVector(v, name);
      ++parse_count;
    } else {
      CheckRenderVector(v, name);
      ++render_count;
    }
  }
  EXPECT_EQ(render_count, 20);
  EXPECT_EQ(parse_count, 23);
}

TEST(HarmonyVectorsTest, IdListFilesDecodeToTheirText) {
  for (const JsonValue& v : VectorsFile().Find("vectors")->items()) {
    const JsonValue* format = v.Find("txt_format");
    if (format == nullptr || format->is_null() || format->string_value() != "ids") continue;
    Result<std::string> text = O200k().DecodeUtf8(Ids(*v.Find("expected_ids")));
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(*text, v.Find("decoded_text")->string_value());
    // Re-encoding with specials allowed gives the ids back.
    EXPECT_EQ(*O200k().Encode(*text, AllowedSpecialTokens::All()), Ids(*v.Find("expected_ids")));
  }
}

TEST(HarmonyVectorsTest, BuiltinToolNamespacesMatchUpstream) {
  int found = 0;
  for (const JsonValue& v : VectorsFile().Find("vectors")->items()) {
    if (v.Find("kind")->string_value() == "parse") continue;
    for (const JsonValue& m : v.Find("input")->Find("messages")->items()) {
      for (const JsonValue& c : m.Find("content")->items()) {
        const JsonValue* tools = c.Find("tools");
        if (tools == nullptr || tools->is_null()) continue;
        for (const JsonValue& ns : tools->items()) {
          const JsonValue* builtin = ns.Find("builtin");
          if (builtin->is_null()) continue;
          ToolNamespace ours = builtin->string_value() == "browser" ? BrowserToolNamespace()
                                                                     : PythonToolNamespace();
          Result<ToolNamespace> theirs = ToolNamespaceFromJson(ns, "ns");
          ASSERT_TRUE(theirs.ok());
          EXPECT_EQ(ours.name, theirs->name);
          EXPECT_EQ(ours.description, theirs->description);
          ASSERT_EQ(ours.tools.size(), theirs->tools.size());
          for (size_t i = 0; i < ours.tools.size(); ++i) {
            EXPECT_EQ(ours.tools[i].name, theirs->tools[i].name);
            EXPECT_EQ(ours.tools[i].description, theirs->tools[i].description);
            EXPECT_EQ(ours.tools[i].parameters->Serialize(), theirs->tools[i].parameters->Serialize());
          }
          ++found;
        }
      }
    }
  }
  EXPECT_GE(found, 2);
}

TEST(HarmonyRenderTest, SimpleConversationMatchesSpec) {
  std::vector<Message> messages;
  Message system;
  system.role = Role::kSystem;
  system.content.push_back(Content::System(SystemContent()));
  messages.push_back(system);
  messages.push_back(Message::FromText(Role::kUser, "What is 2 + 2?"));
  HarmonyEncoding encoding(O200k());
  Result<std::vector<TokenId>> ids =
      encoding.RenderConversationForCompletion(messages, Role::kAssistant, RenderConfig());
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  // Spec section 6.2: 64 tokens.
  EXPECT_EQ(ids->size(), 64u);
  EXPECT_EQ(ids->front(), 200006u);
  EXPECT_EQ(ids->back(), 173781u);
}

TEST(HarmonyRenderTest, ToolCallAndTrainingRendering) {
  HarmonyEncoding encoding(O200k());
  std::vector<Message> messages;
  messages.push_back(Message::FromText(Role::kAssistant, "{\"location\":\"San Francisco\"}")
                         .WithChannel("commentary")
                         .WithRecipient("functions.get_weather")
                         .WithContentType("<|constrain|>json"));
  Result<std::vector<TokenId>> ids = encoding.RenderConversation(messages, RenderConfig());
  ASSERT_TRUE(ids.ok());
  // Spec section 6.2's tool call (renderer order).
  EXPECT_EQ(*ids, (std::vector<TokenId>{200006, 173781, 316, 28, 44580, 775, 170154, 200005,
                                        12606, 815, 220, 200003, 4108, 200008, 10848, 7693,
                                        7534, 28499, 18826, 18583, 200012}));
  messages.push_back(Message::FromText(Role::kTool, "{\"sunny\": true}")
                         .WithName("functions.get_weather")
                         .WithRecipient("assistant")
                         .WithChannel("commentary"));
  messages.push_back(Message::FromText(Role::kAssistant, "Sunny.").WithChannel("final"));
  Result<std::vector<TokenId>> training = encoding.RenderConversationForTraining(messages, RenderConfig());
  ASSERT_TRUE(training.ok());
  EXPECT_EQ(training->back(), kTokenReturn);
  EXPECT_EQ(*O200k().DecodeUtf8(*training),
            "<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json"
            "<|message|>{\"location\":\"San Francisco\"}<|call|>"
            "<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>"
            "{\"sunny\": true}<|end|><|start|>assistant<|channel|>final<|message|>Sunny.<|return|>");
}

TEST(HarmonyRenderTest, RejectsInvalidUtf8AndMisplacedContent) {
  HarmonyEncoding encoding(O200k());
  std::vector<Message> messages = {Message::FromText(Role::kUser, "fine"),
                                   Message::FromText(Role::kUser, "caf\xC3(")};
  Result<std::vector<TokenId>> ids = encoding.RenderConversation(messages, RenderConfig());
  ASSERT_FALSE(ids.ok());
  EXPECT_NE(ids.status().message().find("rendering message 1"), std::string::npos)
      << ids.status().message();
  EXPECT_NE(ids.status().message().find("not valid UTF-8"), std::string::npos);
  EXPECT_NE(ids.status().message().find("byte offset 3"), std::string::npos);

  Message tool_without_name = Message::FromText(Role::kTool, "{}");
  ids = encoding.RenderConversation({tool_without_name}, RenderConfig());
  ASSERT_FALSE(ids.ok());
  EXPECT_NE(ids.status().message().find("tool message needs"), std::string::npos);

  Message user_with_system;
  user_with_system.role = Role::kUser;
  user_with_system.content.push_back(Content::System(SystemContent()));
  ids = encoding.RenderConversation({user_with_system}, RenderConfig());
  ASSERT_FALSE(ids.ok());
  EXPECT_NE(ids.status().message().find("system content may only appear in system messages"),
            std::string::npos);
}

TEST(HarmonyToolsTest, LoadsToolsFileAndRendersFunctions) {
  const char* tools_json = R"([
    {"type": "function", "function": {"name": "get_weather", "description": "Weather now.",
      "parameters": {"type": "object", "properties": {
        "city": {"type": "string"},
        "unit": {"type": "string", "enum": ["c", "f"], "default": "c"},
        "days": {"type": ["integer", "null"], "default": 1.5e2}},
       "required": ["city"]}}},
    {"name": "ping", "description": "Checks.\nTwice."}
  ])";
  Result<ToolNamespace> ns = FunctionToolsFromJson(tools_json, "tools.json");
  ASSERT_TRUE(ns.ok()) << ns.status().ToString();
  EXPECT_EQ(ns->name, "functions");
  DeveloperContent dev;
  dev.instructions = "Be brief.";
  dev.tools = std::vector<ToolNamespace>{*ns};
  Message developer;
  developer.role = Role::kDeveloper;
  developer.content.push_back(Content::Developer(dev));
  Message system;
  system.role = Role::kSystem;
  SystemContent sys;
  sys.reasoning_effort = ReasoningEffort::kLow;
  system.content.push_back(Content::System(sys));
  HarmonyEncoding encoding(O200k());
  Result<std::vector<TokenId>> ids = encoding.RenderConversation({system, developer}, RenderConfig());
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(*O200k().DecodeUtf8(*ids),
            "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
            "Knowledge cutoff: 2024-06\n\nReasoning: low\n\n"
            "# Valid channels: analysis, commentary, final. Channel must be included for every "
            "message.\nCalls to these tools must go to the commentary channel: 'functions'.<|end|>"
            "<|start|>developer<|message|># Instructions\n\nBe brief.\n\n# Tools\n\n## functions\n\n"
            "namespace functions {\n\n// Weather now.\ntype get_weather = (_: {\ncity: string,\n"
            "unit?: \"c\" | \"f\", // default: c\ndays?: number | null, // default: 150.0\n"
            "}) => any;\n\n// Checks.\n// Twice.\ntype ping = () => any;\n\n"
            "} // namespace functions<|end|>");
}

std::string ToolsError(const std::string& json) {
  Result<ToolNamespace> ns = FunctionToolsFromJson(json, "tools.json");
  return ns.ok() ? "(loaded)" : ns.status().message();
}

TEST(HarmonyToolsTest, InvalidSchemasAreClearErrors) {
  EXPECT_EQ(ToolsError(R"([{"name": "f", "parameters": {"type": "object", "properties":
                          {"unit": {"type": "strin"}}}}])"),
            "tools.json: [0].parameters.properties.unit.type: \"strin\" is not a JSON Schema type "
            "(expected one of object, array, string, number, integer, boolean, null)");
  EXPECT_NE(ToolsError(R"([{"name": "f", "parameters": "object"}])")
                .find("tools.json: [0].parameters: a JSON Schema must be an object, found a string \"object\""),
            std::string::npos);
  EXPECT_NE(ToolsError(R"([{"name": "f", "parameters": {"type": "object", "properties": [1]}}])")
                .find("[0].parameters.properties: expected an object"),
            std::string::npos);
  EXPECT_NE(ToolsError(R"([{"name": "f", "parameters": {"properties": {"a": {}},
                          "required": ["b"]}}])")
                .find("[0].parameters.required[0]: \"b\" is not one of the schema's properties"),
            std::string::npos);
  EXPECT_NE(ToolsError(R"([{"name": "f", "parameters": {"oneOf": []}}])")
                .find("[0].parameters.oneOf: expected a non-empty array of schemas"),
            std::string::npos);
  EXPECT_NE(ToolsError(R"([{"name": "f", "parameters": {"type": "array", "items": 3}}])")
                .find("[0].parameters.items: a JSON Schema must be an object"),
            std::string::npos);
  EXPECT_NE(ToolsError(R"([{"description": "no name"}])").find("[0].name: a tool needs"),
            std::string::npos);
  EXPECT_NE(ToolsError(R"([{"name": "f"}, {"name": "f"}])").find("tool \"f\" is defined twice"),
            std::string::npos);
  EXPECT_NE(ToolsError(R"({"functions": []})").find("expected an array of tools"), std::string::npos);
  EXPECT_NE(ToolsError("[{\"name\": \"f\",}]").find("tools.json"), std::string::npos);

  Result<ToolNamespace> missing = LoadFunctionToolsFile("/nonexistent/tools.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/tools.json"), std::string::npos);
}

TEST(HarmonyToolsTest, SchemaToTypeScriptEdgeCases) {
  auto ts = [](const char* schema) {
    return JsonSchemaToTypeScript(*ParseJson(schema), "");
  };
  EXPECT_EQ(ts(R"({"type": "array", "items": {"type": "integer"}})"), "number[]");
  EXPECT_EQ(ts(R"({"type": "array"})"), "Array<any>");
  EXPECT_EQ(ts(R"({"type": "weird"})"), "any");
  EXPECT_EQ(ts(R"({})"), "any");
  EXPECT_EQ(ts(R"({"oneOf": [{"type": "string", "enum": ["a"], "default": "a"},
                             {"type": "number", "nullable": true, "default": 0.5}]})"),
            "\n | \"a\" // default: \"a\"\n | number | null // default: 0.5");
  EXPECT_EQ(ts(R"({"type": "object", "properties": {"x": {"type": "object",
                  "properties": {"y": {"type": "boolean", "default": {"k": [1, 2e-7]}}}}}})"),
            "{\nx?: {\n    y?: boolean, // default: {\"k\":[1,2e-7]}\n    },\n}");
}

TEST(HarmonyParserTest, StreamsStateAndDeltas) {
  // "<|channel|>analysis<|message|>Hi<|end|>" after "<|start|>assistant".
  StreamableParser parser(O200k(), Role::kAssistant);
  Result<std::vector<TokenId>> header = O200k().Encode("<|channel|>final<|message|>",
                                                       AllowedSpecialTokens::All());
  for (TokenId id : *header) ASSERT_TRUE(parser.Process(id).ok());
  EXPECT_EQ(parser.current_channel(), std::optional<std::string>("final"));
  EXPECT_EQ(parser.current_role(), std::optional<Role>(Role::kAssistant));
  // U+1F496 (F0 9F 92 96) split over tokens 31446 and 244: nothing until whole.
  ASSERT_TRUE(parser.Process(31446).ok());
  EXPECT_FALSE(parser.last_content_delta().has_value());
  ASSERT_TRUE(parser.Process(244).ok());
  EXPECT_EQ(parser.last_content_delta(), std::optional<std::string>("\xF0\x9F\x92\x96"));
  EXPECT_EQ(parser.current_content(), "\xF0\x9F\x92\x96");
  ASSERT_TRUE(parser.Process(kTokenReturn).ok());
  ASSERT_EQ(parser.messages().size(), 1u);
  EXPECT_EQ(parser.messages()[0].Text(), "\xF0\x9F\x92\x96");
  // A stream that is not at a message start must begin with <|start|>.
  Status bad = parser.Process(1428);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("expecting the start token 200006"), std::string::npos);
}

TEST(HarmonyParserTest, ParsesWhatTheRendererWrites) {
  HarmonyEncoding encoding(O200k());
  std::vector<Message> messages = {
      Message::FromText(Role::kAssistant, "Think \xE2\x80\x9C" "carefully\xE2\x80\x9D.").WithChannel("analysis"),
      Message::FromText(Role::kAssistant, "{\"q\": 1}")
          .WithChannel("commentary")
          .WithRecipient("functions.search")
          .WithContentType("<|constrain|>json"),
      Message::FromText(Role::kTool, "[]").WithName("functions.search").WithRecipient("assistant").WithChannel("commentary"),
      Message::FromText(Role::kAssistant, "Done \xF0\x9F\x98\x80").WithChannel("final"),
  };
  RenderConfig keep_analysis;
  keep_analysis.auto_drop_analysis = false;
  Result<std::vector<TokenId>> ids = encoding.RenderConversation(messages, keep_analysis);
  ASSERT_TRUE(ids.ok());
  // The default config drops the analysis message: the turn ends in a final.
  EXPECT_EQ(encoding.RenderConversation(messages, RenderConfig())->size() +
                encoding.RenderConversation({messages[0]}, keep_analysis)->size(),
            ids->size());
  Result<std::vector<Message>> parsed =
      ParseMessagesFromCompletionTokens(O200k(), *ids, std::nullopt);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(MessagesJson(*parsed), MessagesJson(messages));
}

}  // namespace
}  // namespace harmony
}  // namespace moert
