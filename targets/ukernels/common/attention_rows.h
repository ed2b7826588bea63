// The attention rules both microkernel families (targets/ukernels/cpu and
// targets/ukernels/gpu) must agree on: which rows of a call form one chunk of
// a sequence, and which keys a row sees. Freestanding: built for the host,
// nvptx64 and amdgcn alike.
#ifndef MOEC_TARGETS_UKERNELS_COMMON_ATTENTION_ROWS_H_
#define MOEC_TARGETS_UKERNELS_COMMON_ATTENTION_ROWS_H_

#include <stdint.h>

// The first row of row r's chunk: rows of one sequence in a call are
// consecutive, with consecutive positions, so rows first..r hold positions
// positions[r] - (r - first)..positions[r]. Their keys are read from the
// call's k/v inputs, not from the cache.
static inline __attribute__((always_inline)) int64_t MoecChunkFirstRow(const int32_t* slots,
                                                                        const int32_t* positions, int64_t r) {
  int64_t first = r;
  while (first > 0 && slots[first - 1] == slots[r] && positions[first - 1] == positions[first] - 1) --first;
  return first;
}

// The first position a row at position p attends to: p - window + 1 with a
// sliding window (window > 0), else 0.
static inline __attribute__((always_inline)) int64_t MoecFirstKey(int64_t p, int64_t window) {
  return window > 0 && p - window + 1 > 0 ? p - window + 1 : 0;
}

// Split-KV attention's workspace (the GPU microkernels; the compiler's kernel
// recipes size it): MOEC_SPLIT_KV_COUNTERS u32 counters, one per (row, KV
// head) of a call, at the start, then the partial results. Every split
// kernel of an artifact shares one workspace and the counters are the only
// state that must be zero when a kernel starts, so they sit at the same
// place for every kernel, apart from the partial results (which differ in
// size between kernels and are left as they are).
#define MOEC_SPLIT_KV_COUNTERS 1024

#endif  // MOEC_TARGETS_UKERNELS_COMMON_ATTENTION_ROWS_H_
