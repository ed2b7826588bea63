#include "base/numeric_formats.h"

#include <gtest/gtest.h>

#include <cmath>

namespace moert {
namespace {

TEST(Bf16Test, RoundsToNearestEven) {
  EXPECT_EQ(FloatToBf16(1.0f), 0x3F80);
  // 1 + 2^-8 is exactly halfway between 1 and 1 + 2^-7: ties to even (1.0).
  EXPECT_EQ(FloatToBf16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);
  // 1 + 3*2^-8 is halfway between 1+2^-7 and 1+2^-6: ties to even (1+2^-6).
  EXPECT_EQ(FloatToBf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);
  EXPECT_EQ(Bf16ToFloat(0xC040), -3.0f);
  EXPECT_TRUE(std::isnan(Bf16ToFloat(FloatToBf16(NAN))));
}

TEST(Fp16Test, DecodesNormalsSubnormalsAndSpecials) {
  EXPECT_EQ(Fp16ToFloat(0x3C00), 1.0f);
  EXPECT_EQ(Fp16ToFloat(0xC000), -2.0f);
  EXPECT_EQ(Fp16ToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(Fp16ToFloat(0x7C00)));
}

TEST(Mxfp4Test, ScaleByteZeroIsTwoToTheMinus127) {
  EXPECT_EQ(E8M0ToFloat(0), std::ldexp(1.0f, -127));
  EXPECT_GT(E8M0ToFloat(0), 0.0f);
  EXPECT_EQ(E8M0ToFloat(127), 1.0f);
  EXPECT_EQ(E8M0ToFloat(130), 8.0f);
}

TEST(Mxfp4Test, LowNibbleIsTheEvenElement) {
  uint8_t block[16] = {};
  block[0] = 0x71;  // element 0 = code 1 (+0.5), element 1 = code 7 (+6)
  block[15] = 0xF9; // element 30 = code 9 (-0.5), element 31 = code 15 (-6)
  float out[32];
  DecodeMxfp4Block(block, 128, out);  // scale 2
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], 12.0f);
  EXPECT_EQ(out[2], 0.0f);
  EXPECT_EQ(out[30], -1.0f);
  EXPECT_EQ(out[31], -12.0f);
}

TEST(Mxfp4Test, EveryCodeMatchesTheE2M1Table) {
  const float expected[16] = {0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0f, -0.5, -1, -1.5, -2, -3, -4, -6};
  for (int code = 0; code < 16; ++code) {
    uint8_t block[16] = {};
    block[3] = static_cast<uint8_t>(code | (code << 4));
    float out[32];
    DecodeMxfp4Block(block, 127, out);
    EXPECT_EQ(out[6], expected[code]);
    EXPECT_EQ(out[7], expected[code]);
    EXPECT_EQ(std::signbit(out[6]), code >= 8);
  }
}

}  // namespace
}  // namespace moert
