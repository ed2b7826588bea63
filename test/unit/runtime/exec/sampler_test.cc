#include "exec/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace moert::exec {
namespace {

Sampler MakeSampler(uint32_t vocab, float temperature, float top_p, uint64_t seed) {
  SamplingParams params;
  params.temperature = temperature;
  params.top_p = top_p;
  params.seed = seed;
  auto sampler = Sampler::Create(vocab, params);
  EXPECT_TRUE(sampler.ok()) << sampler.status().ToString();
  return std::move(sampler).value();
}

TEST(PhiloxTest, MatchesTheRandom123KnownAnswers) {
  // kat_vectors of Random123 for philox4x32_10.
  {
    const uint32_t counter[4] = {0, 0, 0, 0}, key[2] = {0, 0};
    uint32_t out[4];
    Philox4x32x10(counter, key, out);
    EXPECT_EQ(out[0], 0x6627e8d5u);
    EXPECT_EQ(out[1], 0xe169c58du);
    EXPECT_EQ(out[2], 0xbc57ac4cu);
    EXPECT_EQ(out[3], 0x9b00dbd8u);
  }
  {
    const uint32_t counter[4] = {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u};
    const uint32_t key[2] = {0xa4093822u, 0x299f31d0u};
    uint32_t out[4];
    Philox4x32x10(counter, key, out);
    EXPECT_EQ(out[0], 0xd16cfe09u);
    EXPECT_EQ(out[1], 0x94fdccebu);
    EXPECT_EQ(out[2], 0x5001e420u);
    EXPECT_EQ(out[3], 0x24126ea1u);
  }
}

TEST(SamplerTest, UniformIsInUnitIntervalAndKeyedBySeedAndStep) {
  EXPECT_EQ(UniformFromCounter(7, 3), UniformFromCounter(7, 3));
  EXPECT_NE(UniformFromCounter(7, 3), UniformFromCounter(7, 4));
  EXPECT_NE(UniformFromCounter(7, 3), UniformFromCounter(8, 3));
  double sum = 0;
  for (uint64_t step = 0; step < 10000; ++step) {
    double u = UniformFromCounter(42, step);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.01);
}

TEST(SamplerTest, GreedyPicksTheLowestIdAmongTies) {
  Sampler sampler = MakeSampler(5, 0.0f, 1.0f, 0);
  const float logits[5] = {1.0f, 3.0f, -2.0f, 3.0f, 0.5f};
  for (uint64_t step = 0; step < 10; ++step) {
    auto token = sampler.Sample(logits, step);
    ASSERT_TRUE(token.ok());
    EXPECT_EQ(*token, 1);
  }
  EXPECT_EQ(Argmax(logits, 5), 1);
  const float with_nan[3] = {NAN, -1.0f, -1.0f};
  EXPECT_EQ(Argmax(with_nan, 3), 1);
}

TEST(SamplerTest, TemperatureZeroEqualsGreedyWhateverTheSeedAndTopP) {
  const std::vector<float> logits = {0.1f, 0.2f, 2.5f, 2.4f, -1.0f, 2.5f};
  for (uint64_t seed : {0ull, 1ull, 99ull}) {
    Sampler sampler = MakeSampler(6, 0.0f, 0.5f, seed);
    for (uint64_t step = 0; step < 20; ++step) EXPECT_EQ(*sampler.Sample(logits.data(), step), 2);
  }
}

TEST(SamplerTest, TinyTopPPicksTheArgmax) {
  const std::vector<float> logits = {0.1f, 1.9f, 2.0f, 1.95f, -1.0f};
  Sampler sampler = MakeSampler(5, 1.0f, 1e-6f, 123);
  for (uint64_t step = 0; step < 200; ++step) EXPECT_EQ(*sampler.Sample(logits.data(), step), 2);
  // Ties at the top: the lower id comes first in the nucleus.
  const std::vector<float> tied = {0.0f, 5.0f, 5.0f};
  Sampler tie_sampler = MakeSampler(3, 1.0f, 0.01f, 5);
  for (uint64_t step = 0; step < 50; ++step) EXPECT_EQ(*tie_sampler.Sample(tied.data(), step), 1);
}

TEST(SamplerTest, SameSeedSameSequenceDifferentSeedDifferentSequence) {
  std::vector<float> logits(100);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(static_cast<float>(i));
  auto run = [&](uint64_t seed, float top_p) {
    Sampler sampler = MakeSampler(100, 0.8f, top_p, seed);
    std::vector<int32_t> tokens;
    for (uint64_t step = 0; step < 64; ++step) tokens.push_back(*sampler.Sample(logits.data(), step));
    return tokens;
  };
  EXPECT_EQ(run(2024, 1.0f), run(2024, 1.0f));
  EXPECT_EQ(run(2024, 0.9f), run(2024, 0.9f));
  EXPECT_NE(run(2024, 1.0f), run(2025, 1.0f));
  // Pinned: the draw depends only on (seed, step), so this sequence is the
  // same on every machine; a change here changes every user's replays.
  Sampler sampler = MakeSampler(4, 1.0f, 1.0f, 1);
  const float flat[4] = {0, 0, 0, 0};
  std::vector<int32_t> pinned;
  for (uint64_t step = 0; step < 8; ++step) pinned.push_back(*sampler.Sample(flat, step));
  std::vector<int32_t> again;
  for (uint64_t step = 0; step < 8; ++step) {
    again.push_back(static_cast<int32_t>(UniformFromCounter(1, step) * 4));
  }
  EXPECT_EQ(pinned, again);
}

TEST(SamplerTest, DistributionMatchesTheSoftmax) {
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  Sampler sampler = MakeSampler(3, 1.0f, 1.0f, 7);
  constexpr int kDraws = 20000;
  int counts[3] = {0, 0, 0};
  for (uint64_t step = 0; step < kDraws; ++step) counts[*sampler.Sample(logits.data(), step)]++;
  EXPECT_NEAR(counts[0] / double(kDraws), 0.5, 0.015);
  EXPECT_NEAR(counts[1] / double(kDraws), 0.3, 0.015);
  EXPECT_NEAR(counts[2] / double(kDraws), 0.2, 0.015);

  // Temperature 2 flattens: p ~ sqrt(p0).
  Sampler hot = MakeSampler(3, 2.0f, 1.0f, 7);
  int hot_counts[3] = {0, 0, 0};
  for (uint64_t step = 0; step < kDraws; ++step) hot_counts[*hot.Sample(logits.data(), step)]++;
  const double z = std::sqrt(0.5) + std::sqrt(0.3) + std::sqrt(0.2);
  EXPECT_NEAR(hot_counts[0] / double(kDraws), std::sqrt(0.5) / z, 0.015);
  EXPECT_NEAR(hot_counts[2] / double(kDraws), std::sqrt(0.2) / z, 0.015);

  // top_p 0.8: the nucleus is {0, 1} (0.5 + 0.3 reaches 0.8), renormalized.
  Sampler nucleus = MakeSampler(3, 1.0f, 0.8f, 7);
  int nucleus_counts[3] = {0, 0, 0};
  for (uint64_t step = 0; step < kDraws; ++step) nucleus_counts[*nucleus.Sample(logits.data(), step)]++;
  EXPECT_EQ(nucleus_counts[2], 0);
  EXPECT_NEAR(nucleus_counts[0] / double(kDraws), 0.625, 0.015);
}

TEST(SamplerTest, TopPOverALargeVocabularyGrowsItsCandidateSet) {
  // A flat distribution over 1000 tokens: top_p 0.5 needs 500 of them, far
  // past the first 64 candidates.
  std::vector<float> logits(1000, 0.0f);
  Sampler sampler = MakeSampler(1000, 1.0f, 0.5f, 3);
  int max_token = 0;
  for (uint64_t step = 0; step < 5000; ++step) {
    int32_t t = *sampler.Sample(logits.data(), step);
    ASSERT_GE(t, 0);
    max_token = std::max(max_token, t);
  }
  // Equal weights order by id, so the nucleus is exactly ids [0, 500).
  EXPECT_EQ(max_token, 499);
}

TEST(SamplerTest, BadParametersAreRefused) {
  for (auto [t, p] : std::vector<std::pair<float, float>>{
           {-0.1f, 1.0f}, {NAN, 1.0f}, {INFINITY, 1.0f}, {1.0f, 0.0f}, {1.0f, 1.5f}, {1.0f, NAN}, {1.0f, -1.0f}}) {
    SamplingParams params;
    params.temperature = t;
    params.top_p = p;
    auto sampler = Sampler::Create(10, params);
    ASSERT_FALSE(sampler.ok()) << t << " " << p;
    EXPECT_EQ(sampler.status().code(), StatusCode::kInvalidArgument);
  }
  auto empty = Sampler::Create(0, SamplingParams());
  EXPECT_FALSE(empty.ok());
  auto bad = Sampler::Create(2, {1.0f, 2.0f, 0});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("top_p 2"), std::string::npos) << bad.status().ToString();
}

TEST(SamplerTest, NothingToSampleIsAnError) {
  Sampler sampler = MakeSampler(2, 1.0f, 1.0f, 0);
  const float logits[2] = {-INFINITY, NAN};
  EXPECT_FALSE(sampler.Sample(logits, 0).ok());
  const float inf[3] = {1.0f, INFINITY, INFINITY};
  EXPECT_EQ(*sampler.Sample(inf, 0), 1);
}

}  // namespace
}  // namespace moert::exec
