#include "gpt-oss/checkpoint.h"

#include <gtest/gtest.h>

#include <cstring>

#include "base/file_map.h"
#include "gpt-oss/reference.h"
#include "gpt-oss/test_util.h"

namespace moec::gptoss {
namespace {

using moec::testing::GoldenModelDir;
using moec::testing::OwnedTensor;
using moec::testing::TempDir;

TEST(CheckpointTest, OpensTheGoldenTinyCheckpoint) {
  moert::Result<Checkpoint> c = Checkpoint::Open(GoldenModelDir("tiny"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->layout(), CheckpointLayout::kHuggingFace);
  EXPECT_EQ(c->num_tensors(), 4u * 19 + 3);
  ASSERT_EQ(c->layers().size(), 4u);
  EXPECT_EQ(c->layers()[2].gate_up_blocks.shape, (std::vector<int64_t>{8, 192, 4, 16}));
  EXPECT_EQ(c->layers()[2].down_scales.shape, (std::vector<int64_t>{8, 128, 3}));
  EXPECT_EQ(c->embedding().name, "model.embed_tokens.weight");
}

// Rewrites the golden tiny checkpoint into the OpenAI original layout (q, k
// and v concatenated into qkv, original names) under dir/original/.
void WriteOriginalLayout(const std::string& dir) {
  std::vector<OwnedTensor> hf = moec::testing::ReadAllTensors(GoldenModelDir("tiny") + "/model.safetensors");
  auto take = [&](const std::string& name) {
    for (const OwnedTensor& t : hf) {
      if (t.spec.name == name) return t;
    }
    ADD_FAILURE() << "no " << name;
    return OwnedTensor{};
  };
  auto renamed = [&](const std::string& from, const std::string& to) {
    OwnedTensor t = take(from);
    t.spec.name = to;
    return t;
  };
  std::vector<OwnedTensor> out;
  out.push_back(renamed("model.embed_tokens.weight", "embedding.weight"));
  for (int l = 0; l < 4; ++l) {
    const std::string hp = "model.layers." + std::to_string(l) + ".";
    const std::string op = "block." + std::to_string(l) + ".";
    for (const char* part : {"weight", "bias"}) {
      OwnedTensor q = take(hp + "self_attn.q_proj." + part);
      OwnedTensor k = take(hp + "self_attn.k_proj." + part);
      OwnedTensor v = take(hp + "self_attn.v_proj." + part);
      OwnedTensor qkv = q;
      qkv.spec.name = op + "attn.qkv." + part;
      qkv.spec.shape[0] = q.spec.shape[0] + k.spec.shape[0] + v.spec.shape[0];
      qkv.bytes.insert(qkv.bytes.end(), k.bytes.begin(), k.bytes.end());
      qkv.bytes.insert(qkv.bytes.end(), v.bytes.begin(), v.bytes.end());
      out.push_back(qkv);
    }
    const std::pair<const char*, const char*> names[] = {
        {"input_layernorm.weight", "attn.norm.scale"},
        {"self_attn.sinks", "attn.sinks"},
        {"self_attn.o_proj.weight", "attn.out.weight"},
        {"self_attn.o_proj.bias", "attn.out.bias"},
        {"post_attention_layernorm.weight", "mlp.norm.scale"},
        {"mlp.router.weight", "mlp.gate.weight"},
        {"mlp.router.bias", "mlp.gate.bias"},
        {"mlp.experts.gate_up_proj_blocks", "mlp.mlp1_weight.blocks"},
        {"mlp.experts.gate_up_proj_scales", "mlp.mlp1_weight.scales"},
        {"mlp.experts.gate_up_proj_bias", "mlp.mlp1_bias"},
        {"mlp.experts.down_proj_blocks", "mlp.mlp2_weight.blocks"},
        {"mlp.experts.down_proj_scales", "mlp.mlp2_weight.scales"},
        {"mlp.experts.down_proj_bias", "mlp.mlp2_bias"},
    };
    for (const auto& [from, to] : names) out.push_back(renamed(hp + from, op + to));
  }
  out.push_back(renamed("model.norm.weight", "norm.scale"));
  out.push_back(renamed("lm_head.weight", "unembedding.weight"));
  ASSERT_TRUE(moert::MakeDirectories(dir + "/original").ok());
  moec::testing::WriteAllTensors(dir + "/original/model.safetensors", out);
  ASSERT_TRUE(moert::WriteStringToFile(
                  dir + "/original/config.json",
                  R"({"num_hidden_layers":4,"num_experts":8,"experts_per_token":4,"vocab_size":1024,)"
                  R"("hidden_size":128,"intermediate_size":96,"swiglu_limit":7.0,"head_dim":32,)"
                  R"("num_attention_heads":8,"num_key_value_heads":2,"sliding_window":16,)"
                  R"("initial_context_length":4096,"rope_theta":150000,"rope_scaling_factor":32.0,)"
                  R"("rope_ntk_alpha":1,"rope_ntk_beta":32})")
                  .ok());
}

TEST(CheckpointTest, OriginalLayoutComputesExactlyWhatTheHfLayoutDoes) {
  TempDir dir;
  WriteOriginalLayout(dir.path());
  moert::Result<Checkpoint> original = Checkpoint::Open(dir.path());
  ASSERT_TRUE(original.ok()) << original.status().ToString();
  EXPECT_EQ(original->layout(), CheckpointLayout::kOriginal);
  EXPECT_EQ(original->layers()[1].k_weight.shape, (std::vector<int64_t>{64, 128}));
  moert::Result<Checkpoint> hf = Checkpoint::Open(GoldenModelDir("tiny"));
  ASSERT_TRUE(hf.ok());
  // The q/k/v slices hold the same bytes as the HF tensors.
  for (int l = 0; l < 4; ++l) {
    const LayerWeights& a = original->layers()[l];
    const LayerWeights& b = hf->layers()[l];
    for (auto member : {&LayerWeights::q_weight, &LayerWeights::k_weight, &LayerWeights::v_weight,
                        &LayerWeights::q_bias, &LayerWeights::k_bias, &LayerWeights::v_bias}) {
      ASSERT_EQ((a.*member).byte_size, (b.*member).byte_size);
      EXPECT_EQ(std::memcmp((a.*member).data, (b.*member).data, (a.*member).byte_size), 0);
    }
  }
  const std::vector<int32_t> tokens = {5, 17, 300, 2, 999, 64, 64, 1};
  std::vector<float> from_original, from_hf;
  ReferenceExecutor x(*original), y(*hf);
  ASSERT_TRUE(x.Forward(tokens, &from_original).ok());
  ASSERT_TRUE(y.Forward(tokens, &from_hf).ok());
  EXPECT_EQ(from_original, from_hf);
}

}  // namespace
}  // namespace moec::gptoss
