#include "gpt-oss/config.h"

#include <gtest/gtest.h>

#include "gpt-oss/test_util.h"

namespace moec::gptoss {
namespace {

moert::JsonValue TinyConfigJson() {
  moert::Result<std::string> text =
      moert::ReadFileToString(moec::testing::GoldenModelDir("tiny") + "/config.json");
  EXPECT_TRUE(text.ok());
  moert::Result<moert::JsonValue> json = moert::ParseJson(*text);
  EXPECT_TRUE(json.ok());
  return *json;
}

TEST(ConfigTest, ParsesTheGoldenTinyConfig) {
  moert::Result<ModelConfig> c = ParseHfConfig(TinyConfigJson(), "config.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->num_layers, 4);
  EXPECT_EQ(c->hidden_size, 128);
  EXPECT_EQ(c->num_heads, 8);
  EXPECT_EQ(c->num_kv_heads, 2);
  EXPECT_EQ(c->head_dim, 32);
  EXPECT_EQ(c->num_experts, 8);
  EXPECT_EQ(c->experts_per_token, 4);
  EXPECT_EQ(c->intermediate_size, 96);
  EXPECT_EQ(c->vocab_size, 1024);
  EXPECT_EQ(c->sliding_window, 16);
  EXPECT_TRUE(c->is_sliding(0));
  EXPECT_FALSE(c->is_sliding(1));
  EXPECT_EQ(c->rope_theta, 150000);
  EXPECT_EQ(c->rope_scaling_factor, 32);
  EXPECT_FALSE(c->rope_truncate);
  EXPECT_EQ(c->swiglu_limit, 7.0);
  EXPECT_EQ(c->eos_token_id, 1000);
}

TEST(ConfigTest, HfJsonRoundTrips) {
  for (const std::string& preset : PresetNames()) {
    moert::Result<ModelConfig> c = PresetConfig(preset);
    ASSERT_TRUE(c.ok());
    moert::Result<ModelConfig> back = ParseHfConfig(c->ToHfJson(), preset);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->ToHfJson().Serialize(), c->ToHfJson().Serialize());
  }
}

TEST(ConfigTest, ParsesTheOriginalFormat) {
  // ../shared/reference/gpt-oss-spec.md §1.2, 20b.
  moert::Result<moert::JsonValue> json = moert::ParseJson(
      R"({"num_hidden_layers":24,"num_experts":32,"experts_per_token":4,"vocab_size":201088,)"
      R"("hidden_size":2880,"intermediate_size":2880,"swiglu_limit":7.0,"head_dim":64,)"
      R"("num_attention_heads":64,"num_key_value_heads":8,"sliding_window":128,)"
      R"("initial_context_length":4096,"rope_theta":150000,"rope_scaling_factor":32.0,)"
      R"("rope_ntk_alpha":1,"rope_ntk_beta":32})");
  ASSERT_TRUE(json.ok());
  moert::Result<ModelConfig> c = ParseOriginalConfig(*json, "original/config.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  moert::Result<ModelConfig> preset = PresetConfig("20b");
  c->eos_token_id = preset->eos_token_id;
  c->pad_token_id = preset->pad_token_id;
  EXPECT_EQ(c->ToHfJson().Serialize(), preset->ToHfJson().Serialize());
}

struct BadConfig {
  const char* field;
  const char* value;  // JSON text, or nullptr to delete the field
  const char* expect;
};

class BadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigTest, IsRefusedWithAMessageNamingTheField) {
  moert::JsonValue json = TinyConfigJson();
  const BadConfig& bad = GetParam();
  if (bad.value == nullptr) {
    auto& members = json.mutable_members();
    for (auto it = members.begin(); it != members.end(); ++it) {
      if (it->first == bad.field) {
        members.erase(it);
        break;
      }
    }
  } else {
    json.Set(bad.field, *moert::ParseJson(bad.value));
  }
  moert::Result<ModelConfig> c = ParseHfConfig(json, "tiny/config.json");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find(bad.expect), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("tiny/config.json"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Config, BadConfigTest,
    ::testing::Values(
        BadConfig{"num_attention_heads", nullptr, "\"num_attention_heads\" is missing"},
        BadConfig{"rope_scaling", nullptr, "\"rope_scaling\" is missing"},
        BadConfig{"num_key_value_heads", "3", "not divisible by num_key_value_heads"},
        BadConfig{"num_experts_per_tok", "9", "contradicts num_experts_per_tok"},
        BadConfig{"num_local_experts", "3", "exceeds num_local_experts"},
        BadConfig{"hidden_size", "100", "multiple of the MXFP4 block size"},
        BadConfig{"intermediate_size", "90", "multiple of the MXFP4 block size"},
        BadConfig{"head_dim", "33", "must be even"},
        BadConfig{"num_hidden_layers", "6", "layer_types has 4 entries"},
        BadConfig{"hidden_size", "\"128\"", "must be an integer"},
        BadConfig{"vocab_size", "0", "must be positive"},
        BadConfig{"layer_types", "[\"sliding_attention\",\"full\",\"x\",\"y\"]", "layer_types[1]"},
        BadConfig{"model_type", "\"llama\"", "expected \"gpt_oss\""},
        BadConfig{"rope_scaling", "{\"rope_type\":\"linear\",\"factor\":2}", "only \"yarn\""},
        BadConfig{"eos_token_id", "5000", "outside the vocabulary"},
        BadConfig{"rms_norm_eps", "-1", "rms_norm_eps"},
        BadConfig{"tie_word_embeddings", "true", "tie_word_embeddings"}));

TEST(ConfigTest, UnknownPresetListsTheKnownOnes) {
  moert::Result<ModelConfig> c = PresetConfig("7b");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("tiny, tiny-chat, 20b, 120b"), std::string::npos);
}

}  // namespace
}  // namespace moec::gptoss
