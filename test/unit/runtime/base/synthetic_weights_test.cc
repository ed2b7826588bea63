// The synthetic-weight generator (base/synthetic_weights.h): fixed point to
// bf16 rounds to nearest even, the word and range forms agree with the byte
// form at any alignment, and the distributions stay in their ranges.
#include "base/synthetic_weights.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "base/numeric_formats.h"

namespace moert::synthetic {
namespace {

constexpr int64_t kOne = int64_t{1} << kFixedPointBits;

double FixedToDouble(int64_t q) { return std::ldexp(static_cast<double>(q), -kFixedPointBits); }

// The bf16 nearest to `q` (ties to even), by exhaustive comparison with its
// neighbours.
void ExpectNearestEven(int64_t q) {
  if (q == 0) return;  // exactly 0 (and bits - 1 would be a NaN)
  const uint16_t bits = FixedToBf16(q);
  const double v = FixedToDouble(q);
  const double got = Bf16ToFloat(bits);
  const double below = Bf16ToFloat(static_cast<uint16_t>(bits - 1));
  const double above = Bf16ToFloat(static_cast<uint16_t>(bits + 1));
  const double error = std::fabs(got - v);
  ASSERT_LE(error, std::fabs(below - v)) << q;
  ASSERT_LE(error, std::fabs(above - v)) << q;
  if (error == std::fabs(below - v) || error == std::fabs(above - v)) {
    EXPECT_EQ(bits & 1, 0) << "tie not to even at " << q;
  }
}

TEST(SyntheticWeightsTest, FixedToBf16RoundsToNearestEven) {
  EXPECT_EQ(FixedToBf16(0), 0);
  EXPECT_EQ(FixedToBf16(kOne), 0x3F80);          // 1.0
  EXPECT_EQ(FixedToBf16(-kOne), 0xBF80);         // -1.0
  EXPECT_EQ(FixedToBf16(kOne / 2 * 3), 0x3FC0);  // 1.5
  EXPECT_EQ(FixedToBf16(1), 0x2F80);             // 2^-32
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: to even (1.0); 1 + 3 * 2^-8
  // is halfway between 1 + 2^-7 and 1 + 2^-6: to even (1 + 2^-6).
  EXPECT_EQ(FixedToBf16(kOne + (kOne >> 8)), 0x3F80);
  EXPECT_EQ(FixedToBf16(kOne + 3 * (kOne >> 8)), 0x3F82);
  // Rounding up across a power of two: 2 - 2^-9 rounds to 2.0.
  EXPECT_EQ(FixedToBf16(2 * kOne - (kOne >> 9)), 0x4000);
  uint64_t x = 1;
  for (int i = 0; i < 200000; ++i) {
    x = Mix64(x);
    // Values of every magnitude, both signs.
    const int64_t q = static_cast<int64_t>(x >> (x % 29 + 24)) * ((x & 1) ? -1 : 1);
    ExpectNearestEven(q);
    // Ties: exactly halfway between two bf16 values.
    const int shift = static_cast<int>(x % 20);
    ExpectNearestEven((static_cast<int64_t>((x >> 56) | 0x80) * 2 + 1) << shift);
  }
}

TEST(SyntheticWeightsTest, WordsAndRangesAreTheBytes) {
  std::vector<Part> parts(3);
  parts[0].distribution.kind = kUniformBf16;
  parts[0].distribution.center = kOne;
  parts[0].distribution.amplitude = kOne / 5;
  parts[1].distribution.kind = kRandomBytes;
  parts[2].distribution.kind = kE8m0Scales;
  parts[2].distribution.exponent = 120;
  for (Part& part : parts) {
    part.key = Key(9, HashName("t", 1));
    part.size = 1000;
    for (uint64_t w = 0; w < 8; ++w) {
      const uint64_t word = Word(part, w);
      for (uint64_t b = 0; b < 8; ++b) ASSERT_EQ(static_cast<uint8_t>(word >> (8 * b)), Byte(part, 8 * w + b));
    }
    // Any [begin, end): the same bytes as byte by byte.
    for (uint64_t begin : {0, 1, 7, 8, 13}) {
      for (uint64_t end : {begin, begin + 1, begin + 9, uint64_t{64}, uint64_t{101}}) {
        if (end < begin) continue;
        std::vector<uint8_t> out(end - begin + 1, 0xEE);
        FillRange(part, begin, end, out.data());
        for (uint64_t i = begin; i < end; ++i) ASSERT_EQ(out[i - begin], Byte(part, i)) << i;
        EXPECT_EQ(out.back(), 0xEE);  // nothing past end
      }
    }
  }
}

TEST(SyntheticWeightsTest, DistributionsStayInRange) {
  Part uniform;
  uniform.key = Key(1, HashName("model.norm.weight", 17));
  uniform.distribution.center = kOne;
  uniform.distribution.amplitude = kOne / 5;
  double sum = 0;
  for (uint64_t e = 0; e < 10000; ++e) {
    const float v = Bf16ToFloat(UniformBf16(uniform.distribution, uniform.key, e));
    // [0.8, 1.2], each end rounded to bf16 (ulp 2^-7 at 1).
    ASSERT_GE(v, 0.796875f);
    ASSERT_LE(v, 1.203125f);
    sum += v;
  }
  EXPECT_NEAR(sum / 10000, 1.0, 0.01);

  Part scales;
  scales.key = 5;
  scales.distribution.kind = kE8m0Scales;
  scales.distribution.exponent = 100;
  int seen[3] = {};
  for (uint64_t i = 0; i < 3000; ++i) {
    const int b = Byte(scales, i);
    ASSERT_GE(b, 99);
    ASSERT_LE(b, 101);
    ++seen[b - 99];
  }
  for (int n : seen) EXPECT_GT(n, 800);
}

TEST(SyntheticWeightsTest, KeysDependOnSeedAndName) {
  EXPECT_EQ(HashName("", 0), 0xCBF29CE484222325ull);  // FNV-1a's offset basis
  EXPECT_EQ(HashName("a", 1), 0xAF63DC4C8601EC8Cull);  // FNV-1a 64 of "a"
  EXPECT_NE(Key(1, HashName("a", 1)), Key(2, HashName("a", 1)));
  EXPECT_NE(Key(1, HashName("a", 1)), Key(1, HashName("b", 1)));
}

}  // namespace
}  // namespace moert::synthetic
