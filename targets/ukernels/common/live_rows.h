// The rows a call computes. Entry points have static row counts (the prefill
// chunk, the decode batch); a call with fewer real rows pads the rest. The
// runtime writes the entry point's live-rows input before each call
// (schema: EntryPoint.live_rows, i32 [2]):
//   live[0]  rows [0, live[0]) are real; the rest are padding, which no
//            kernel computes (their outputs are left as they were);
//   live[1]  the first row whose logits the caller reads: the unembedding
//            computes rows [live[1], live[0]) only.
// Every microkernel family (targets/ukernels/cpu and targets/ukernels/gpu)
// takes the pointer as its last argument. A null pointer (unit tests) means
// every row. The values are clamped into [0, rows], so a bad input can give
// wrong numbers but never sends a kernel outside its buffers. Freestanding:
// built for the host, nvptx64 and amdgcn alike.
#ifndef MOEC_TARGETS_UKERNELS_COMMON_LIVE_ROWS_H_
#define MOEC_TARGETS_UKERNELS_COMMON_LIVE_ROWS_H_

#include <stdint.h>

// Rows [begin, end) of a call.
struct MoecRowRange {
  int64_t begin, end;
};

static inline __attribute__((always_inline)) int64_t MoecClampRow(int64_t value, int64_t rows) {
  return value < 0 ? 0 : (value > rows ? rows : value);
}

// The real rows of `rows`; with `logits_only`, those whose logits are read.
static inline __attribute__((always_inline)) MoecRowRange MoecLiveRowRange(const int32_t* live, int64_t rows,
                                                                           bool logits_only) {
  if (!live) return {0, rows};
  const int64_t end = MoecClampRow(live[0], rows);
  const int64_t begin = logits_only ? MoecClampRow(live[1], end) : 0;
  return {begin, end};
}

// The real rows of `rows`.
static inline __attribute__((always_inline)) int64_t MoecLiveRows(const int32_t* live, int64_t rows) {
  return MoecLiveRowRange(live, rows, false).end;
}

#endif  // MOEC_TARGETS_UKERNELS_COMMON_LIVE_ROWS_H_
