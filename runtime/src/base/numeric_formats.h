// Scalar formats the checkpoints and kernels use: bfloat16, and MXFP4 (OCP
// microscaling: 32 E2M1 values sharing one E8M0 scale).
#ifndef MOERT_BASE_NUMERIC_FORMATS_H_
#define MOERT_BASE_NUMERIC_FORMATS_H_

#include <cmath>
#include <cstdint>
#include <cstring>

namespace moert {

inline float Bf16ToFloat(uint16_t bits) {
  uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Round to nearest, ties to even; NaN stays a (quiet) NaN.
inline uint16_t FloatToBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

inline float Fp16ToFloat(uint16_t h) {
  uint32_t sign = (h >> 15) & 1u, exponent = (h >> 10) & 0x1Fu, mantissa = h & 0x3FFu;
  float magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  } else if (exponent == 31) {
    magnitude = mantissa ? NAN : INFINITY;
  } else {
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400u), static_cast<int>(exponent) - 25);
  }
  return sign ? -magnitude : magnitude;
}

// E2M1 values indexed by the 4-bit code (bit 3 is the sign).
inline constexpr float kE2M1Values[16] = {+0.0f, +0.5f, +1.0f, +1.5f, +2.0f, +3.0f,
                                          +4.0f, +6.0f, -0.0f, -0.5f, -1.0f, -1.5f,
                                          -2.0f, -3.0f, -4.0f, -6.0f};

// E8M0 scale byte s means 2^(s-127). Byte 0 is 2^-127 (a float denormal), not
// zero: the checkpoint format says so even where MLIR's arith-expand differs.
// Byte 255 is 2^128, which overflows to +inf as in the reference decoders.
inline float E8M0ToFloat(uint8_t s) { return std::ldexp(1.0f, static_cast<int>(s) - 127); }

inline constexpr int kMxfp4BlockSize = 32;       // values per scale
inline constexpr int kMxfp4BlockBytes = 16;      // packed bytes per block

// Decodes one block: byte j holds element 2j in its low nibble and 2j+1 in its
// high nibble.
inline void DecodeMxfp4Block(const uint8_t* packed16, uint8_t scale, float* out32) {
  const float s = E8M0ToFloat(scale);
  for (int j = 0; j < kMxfp4BlockBytes; ++j) {
    out32[2 * j] = kE2M1Values[packed16[j] & 0x0F] * s;
    out32[2 * j + 1] = kE2M1Values[packed16[j] >> 4] * s;
  }
}

// Decodes a row of `k` values (k a multiple of 32) from its blocks and scales.
inline void DecodeMxfp4Row(const uint8_t* blocks, const uint8_t* scales, int64_t k, float* out) {
  for (int64_t b = 0; b < k / kMxfp4BlockSize; ++b) {
    DecodeMxfp4Block(blocks + b * kMxfp4BlockBytes, scales[b], out + b * kMxfp4BlockSize);
  }
}

}  // namespace moert

#endif  // MOERT_BASE_NUMERIC_FORMATS_H_
