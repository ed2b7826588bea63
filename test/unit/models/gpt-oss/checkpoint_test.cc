#include "gpt-oss/checkpoint.h"

#include <gtest/gtest.h>

#include <cstring>

#include "base/file_map.h"
#include "gpt-oss/reference.h"
#include "gpt-oss/test_util.h"

namespace moec::gptoss {
namespace {

using moec::testing::GoldenModelDir;
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

TEST(CheckpointTest, OriginalLayoutComputesExactlyWhatTheHfLayoutDoes) {
  TempDir dir;
  moec::testing::WriteOriginalLayout(dir.path());
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
