// linear3's output columns, as both microkernel families (targets/ukernels/
// cpu and targets/ukernels/gpu) number them: up to three linears over the
// same rows share one column space [0, n0 + n1 + n2). Freestanding: built for
// the host, nvptx64 and amdgcn alike.
#ifndef MOEC_TARGETS_UKERNELS_COMMON_LINEAR3_COLUMNS_H_
#define MOEC_TARGETS_UKERNELS_COMMON_LINEAR3_COLUMNS_H_

#include <stdint.h>

// Column `col` of output `out` ([rows, n]), with its weight and bias rows.
struct MoecLinear3Column {
  const uint16_t* w;  // [n, k] bf16
  const uint16_t* b;  // [n] bf16, or null
  float* out;
  int64_t col, n;
};

// Which output column c of the shared space is.
static inline __attribute__((always_inline)) MoecLinear3Column MoecLinear3ColumnOf(
    int64_t c, const uint16_t* w0, const uint16_t* b0, float* out0, int64_t n0, const uint16_t* w1,
    const uint16_t* b1, float* out1, int64_t n1, const uint16_t* w2, const uint16_t* b2, float* out2, int64_t n2) {
  if (c < n0) return {w0, b0, out0, c, n0};
  if (c < n0 + n1) return {w1, b1, out1, c - n0, n1};
  return {w2, b2, out2, c - n0 - n1, n2};
}

#endif  // MOEC_TARGETS_UKERNELS_COMMON_LINEAR3_COLUMNS_H_
