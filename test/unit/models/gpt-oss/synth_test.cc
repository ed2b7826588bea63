#include "gpt-oss/synth.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>

#include "base/file_map.h"
#include "gpt-oss/checkpoint.h"
#include "gpt-oss/reference.h"
#include "gpt-oss/test_util.h"

namespace moec::gptoss {
namespace {

using moec::testing::TempDir;

SynthOptions TinyOptions(uint64_t seed) {
  SynthOptions options;
  options.config = *PresetConfig("tiny");
  options.seed = seed;
  options.max_shard_bytes = 256 << 10;  // several shards even for tiny
  return options;
}

TEST(SynthTest, RoundTripsThroughTheReaderInShards) {
  TempDir dir;
  moert::Result<SynthSummary> summary = WriteSyntheticCheckpoint(TinyOptions(7), dir.path());
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_GT(summary->num_shards, 2u);
  moert::Result<Checkpoint> checkpoint = Checkpoint::Open(dir.path());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
  EXPECT_EQ(checkpoint->files().size(), summary->num_shards);
  EXPECT_EQ(checkpoint->num_tensors(), summary->num_tensors);
  EXPECT_EQ(checkpoint->tensor_bytes(), summary->tensor_bytes);
  EXPECT_EQ(checkpoint->config().ToHfJson().Serialize(), TinyOptions(7).config.ToHfJson().Serialize());

  // Random weights keep the forward pass finite and not degenerate.
  ReferenceExecutor executor(*checkpoint);
  std::vector<float> logits;
  ASSERT_TRUE(executor.Forward({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, &logits).ok());
  double sum_squares = 0;
  for (float v : logits) {
    ASSERT_TRUE(std::isfinite(v));
    sum_squares += static_cast<double>(v) * v;
  }
  EXPECT_GT(sum_squares, 0.0);
}

TEST(SynthTest, IsDeterministicAndShardIndependent) {
  TempDir a, b, c;
  SynthOptions one_shard = TinyOptions(7);
  one_shard.max_shard_bytes = uint64_t{1} << 30;
  ASSERT_TRUE(WriteSyntheticCheckpoint(TinyOptions(7), a.path()).ok());
  ASSERT_TRUE(WriteSyntheticCheckpoint(one_shard, b.path()).ok());
  ASSERT_TRUE(WriteSyntheticCheckpoint(TinyOptions(8), c.path()).ok());
  moert::Result<Checkpoint> ca = Checkpoint::Open(a.path());
  moert::Result<Checkpoint> cb = Checkpoint::Open(b.path());
  moert::Result<Checkpoint> cc = Checkpoint::Open(c.path());
  ASSERT_TRUE(ca.ok() && cb.ok() && cc.ok());
  const WeightRef& wa = ca->layers()[1].gate_up_blocks;
  const WeightRef& wb = cb->layers()[1].gate_up_blocks;
  const WeightRef& wc = cc->layers()[1].gate_up_blocks;
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(wa.data), wa.byte_size),
            std::string(reinterpret_cast<const char*>(wb.data), wb.byte_size));
  EXPECT_NE(std::string(reinterpret_cast<const char*>(wa.data), wa.byte_size),
            std::string(reinterpret_cast<const char*>(wc.data), wc.byte_size));

  // Same seed, same bytes: the whole first shard twice.
  TempDir again;
  ASSERT_TRUE(WriteSyntheticCheckpoint(TinyOptions(7), again.path()).ok());
  std::vector<std::string> names = {"model.safetensors.index.json", "config.json"};
  for (const moert::SafetensorsFile& f : ca->files()) names.push_back(f.path().substr(a.path().size() + 1));
  ASSERT_GT(names.size(), 4u);
  for (const std::string& name : names) {
    moert::Result<std::string> x = moert::ReadFileToString(a.Join(name));
    moert::Result<std::string> y = moert::ReadFileToString(again.Join(name));
    ASSERT_TRUE(x.ok()) << x.status().ToString();
    ASSERT_TRUE(y.ok());
    EXPECT_EQ(*x, *y) << name;
  }
}

TEST(SynthTest, The20bPresetHasThePublishedTensorsAndSizes) {
  TempDir dir;
  SynthOptions options;
  options.config = *PresetConfig("20b");
  options.sparse = true;  // headers only: 13.7 GB of holes
  moert::Result<SynthSummary> summary = WriteSyntheticCheckpoint(options, dir.path());
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  moert::Result<Checkpoint> checkpoint = Checkpoint::Open(dir.path());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
  // ../shared/reference/gpt-oss-spec.md §1.1 and §3.3.
  EXPECT_EQ(checkpoint->num_tensors(), 459u);
  EXPECT_EQ(checkpoint->tensor_bytes(), 13761264768ull);
  EXPECT_EQ(checkpoint->layers()[0].gate_up_blocks.shape, (std::vector<int64_t>{32, 5760, 90, 16}));
  EXPECT_EQ(checkpoint->layers()[23].down_scales.shape, (std::vector<int64_t>{32, 2880, 90}));
  // The holes take (almost) no disk.
  struct stat st;
  ASSERT_EQ(stat(checkpoint->files()[0].path().c_str(), &st), 0);
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, uint64_t{16} << 20);
}

TEST(SynthTest, The120bPresetHasThePublishedTensorCountAndSize) {
  TempDir dir;
  SynthOptions options;
  options.config = *PresetConfig("120b");
  options.sparse = true;
  moert::Result<SynthSummary> summary = WriteSyntheticCheckpoint(options, dir.path());
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->num_tensors, 687u);
  EXPECT_EQ(summary->tensor_bytes, 65248815744ull);
}

}  // namespace
}  // namespace moec::gptoss
