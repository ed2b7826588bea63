// GPU microkernels: the device functions every kernel the GPU target emits
// calls. One source, compiled by clang-22 to LLVM bitcode twice (NVPTX sm_90a,
// AMDGPU gfx942; the per-target hooks are in gpu_target.h) and linked into
// each artifact's device module.
//
// Each function has exactly the parameters of its CPU twin
// (targets/ukernels/cpu/ukernels.cpp) minus the trailing (workgroup,
// workgroups): a thread finds its share from its thread, block and grid ids,
// and every loop over work is grid-stride, so any grid size is correct (a
// bigger grid only adds parallelism). Blocks are 1-D, a multiple of the warp
// size (the code generator launches 256 threads). All threads of a block must
// call the function (it may contain block barriers and warp-wide sums).
//
// Semantics are the CPU ones: activations and accumulation fp32; bf16
// weights widened to fp32; MXFP4 weights as all rows' packed blocks (16 bytes
// per 32 values, the low nibble the even element) followed by their E8M0
// scales (one byte per 32 values, byte 0 = 2^-127); rows with a negative
// position are padding; the KV cache is a ring (position p at p mod capacity).
// Every function's last argument, `live`, gives the call's real rows
// (../common/live_rows.h): loops run over those, while the choice between
// the GEMV and matrix-tile forms follows the static row count, so a row's
// result does not depend on how many others the call has.
//
// Alignment: weights (segments) and activations (memory plan) are 16-byte
// aligned; MXFP4 inner sizes are multiples of 32. bf16 linears check their
// alignment and fall back to scalar loads.
#include "../common/attention_rows.h"
#include "../common/linear3_columns.h"
#include "../common/live_rows.h"
#include "gpu_target.h"

using namespace uk;

namespace {

typedef const UK_AS_GLOBAL float* GFloatPtr;
typedef const UK_AS_SHARED float* SFloatPtr;

// The RMS-normalised row of linear3/router (k <= 8192, as on the CPU) and the
// per-warp partial sums of a block reduction.
constexpr int kMaxRow = 8192;
constexpr int kMaxExperts = 1024;
constexpr int kMaxTopK = 64;
constexpr int kMaxHeadDim = 512;
UK_SHARED_ARRAY(float, g_row, kMaxRow);
UK_SHARED_ARRAY(float, g_partials, kMaxWarps);
UK_SHARED_ARRAY(float, g_logits, kMaxExperts);
UK_SHARED_ARRAY(int32_t, g_chosen, kMaxTopK);

UK_DEVICE float BitsToFloat(uint32_t bits) { return __builtin_bit_cast(float, bits); }
UK_DEVICE float Bf16(uint16_t bits) { return BitsToFloat(static_cast<uint32_t>(bits) << 16); }
// The two bf16 values of one 32-bit word: the lower address is the low half.
UK_DEVICE float Bf16Lo(uint32_t word) { return BitsToFloat(word << 16); }
UK_DEVICE float Bf16Hi(uint32_t word) { return BitsToFloat(word & 0xffff0000u); }

// E8M0: byte s means 2^(s - 127); byte 0 is 2^-127 (a denormal), not zero.
UK_DEVICE float E8M0(uint8_t s) {
  return s == 0 ? 5.877471754111438e-39f : BitsToFloat(static_cast<uint32_t>(s) << 23);
}

// Twice the E2M1 value of the low 4 bits of `code`: the doubled magnitudes
// {0,1,2,3,4,6,8,12} are the nibbles of 0xC8643210; bit 3 is the sign.
UK_DEVICE float E2M1x2(uint32_t code) {
  const float magnitude = static_cast<float>((0xC8643210u >> ((code & 7) * 4)) & 15);
  return BitsToFloat(__builtin_bit_cast(uint32_t, magnitude) ^ ((code & 8) << 28));
}

// Sum over the block; every thread gets the same bits. Ends with a barrier,
// so the partials can be reused at once.
UK_DEVICE float BlockSum(float v) {
  v = WarpSum(v);
  if (Lane() == 0) g_partials[WarpInBlock()] = v;
  Barrier();
  float total = 0;
  const int64_t warps = WarpsPerBlock();
  for (int64_t i = 0; i < warps; ++i) total += g_partials[i];
  Barrier();
  return total;
}

// RMSNorm of one row (n <= kMaxRow) into g_row, by the whole block; ends with
// a barrier. Without a gain, copies the row.
UK_DEVICE void NormRowToShared(const float* x, const uint16_t* gain, float eps, int64_t n) {
  const int64_t tid = ThreadId(), threads = BlockSize();
  if (gain) {
    float ss = 0;
    for (int64_t i = tid; i < n; i += threads) ss += x[i] * x[i];
    const float inv = 1.0f / Sqrt(BlockSum(ss) / static_cast<float>(n) + eps);
    for (int64_t i = tid; i < n; i += threads) g_row[i] = x[i] * inv * Bf16(LoadGlobalU16(gain + i));
  } else {
    for (int64_t i = tid; i < n; i += threads) g_row[i] = x[i];
  }
  Barrier();
}

// Weight loads a lane issues before it uses the first (the GEMV loops below
// load kLoadsInFlight steps' weights, each guarded, then consume them).
// Decode streams every weight once and the GPU issues in order: with one
// 16-byte load per step, each step would wait a full memory latency, and a
// few warps per SM could not keep enough bytes in flight to reach the
// bandwidth. Four steps cover a gpt-oss row of 2880 MXFP4 values (90 blocks)
// in one round on 32-lane warps.
constexpr int kLoadsInFlight = 4;

// This lane's shares of N dot products, of bf16 weight rows w[n][0:k]
// (null: a missing row, whose share is 0) with one x[0:k] (k a multiple of
// 8; rows and x 16-byte aligned). Each lane takes 8 consecutive values per
// step (one 16-byte load per row, two 16-byte x loads), the warp covering
// 8 * warp size contiguous values; the weight loads of kLoadsInFlight steps
// of every row are issued together, then x is loaded and the sums run. A
// row's share is the same bits for any N.
template <int N, typename XPtr>
UK_DEVICE void DotBf16LaneRows(const uint16_t* const (&w)[N], XPtr x, int64_t k, float (&share)[N]) {
  constexpr int64_t kStep = kWarpSize * 8;
  float acc0[N], acc1[N];
#pragma unroll
  for (int n = 0; n < N; ++n) acc0[n] = acc1[n] = 0;
  for (int64_t i0 = Lane() * 8; i0 < k; i0 += kLoadsInFlight * kStep) {
    uk_u32x4 wv[N][kLoadsInFlight];
    uk_f32x4 x0[kLoadsInFlight], x1[kLoadsInFlight];
#pragma unroll
    for (int u = 0; u < kLoadsInFlight; ++u) {
      const int64_t i = i0 + u * kStep;
#pragma unroll
      for (int n = 0; n < N; ++n) wv[n][u] = w[n] && i < k ? LoadGlobalU32x4(w[n] + i) : uk_u32x4{0, 0, 0, 0};
    }
#pragma unroll
    for (int u = 0; u < kLoadsInFlight; ++u) {
      const int64_t i = i0 + u * kStep;
      x0[u] = i < k ? LoadF32x4(x + i) : uk_f32x4{0, 0, 0, 0};
      x1[u] = i < k ? LoadF32x4(x + i + 4) : uk_f32x4{0, 0, 0, 0};
    }
#pragma unroll
    for (int u = 0; u < kLoadsInFlight; ++u) {
      if (i0 + u * kStep >= k) break;
#pragma unroll
      for (int n = 0; n < N; ++n) {
        const uk_u32x4 v = wv[n][u];
        acc0[n] += Bf16Lo(v.x) * x0[u].x + Bf16Hi(v.x) * x0[u].y + Bf16Lo(v.y) * x0[u].z + Bf16Hi(v.y) * x0[u].w;
        acc1[n] += Bf16Lo(v.z) * x1[u].x + Bf16Hi(v.z) * x1[u].y + Bf16Lo(v.w) * x1[u].z + Bf16Hi(v.w) * x1[u].w;
      }
    }
  }
#pragma unroll
  for (int n = 0; n < N; ++n) share[n] = acc0[n] + acc1[n];
}

// This lane's share of dot(w[0:k] as bf16, x[0:k]): with `vec`,
// DotBf16LaneRows for one row; else scalar loads.
template <typename XPtr>
UK_DEVICE float DotBf16Lane(const uint16_t* w, XPtr x, int64_t k, bool vec) {
  if (vec) {
    const uint16_t* const rows[1] = {w};
    float share[1];
    DotBf16LaneRows(rows, x, k, share);
    return share[0];
  }
  float acc = 0;
  for (int64_t i = Lane(); i < k; i += kWarpSize) acc += Bf16(LoadGlobalU16(w + i)) * x[i];
  return acc;
}

// One MXFP4 block (32 codes in 4 words, element 8t+n of word t in bits
// [4n, 4n+4)) against its 32 values of x: twice the unscaled dot product.
template <typename XPtr>
UK_DEVICE float Mxfp4BlockDotX2(uk_u32x4 q, XPtr xb) {
  float part = 0;
#pragma unroll
  for (int t = 0; t < 4; ++t) {
    const uint32_t word = q[t];
    const uk_f32x4 x0 = LoadF32x4(xb + 8 * t), x1 = LoadF32x4(xb + 8 * t + 4);
    part += E2M1x2(word) * x0.x + E2M1x2(word >> 4) * x0.y + E2M1x2(word >> 8) * x0.z + E2M1x2(word >> 12) * x0.w;
    part += E2M1x2(word >> 16) * x1.x + E2M1x2(word >> 20) * x1.y + E2M1x2(word >> 24) * x1.z +
            E2M1x2(word >> 28) * x1.w;
  }
  return part;
}

// This lane's share of dot(MXFP4 row, x): lane l takes blocks l, l + warp
// size, ...: one 16-byte block (32 codes) and its scale byte per step,
// decoded in registers, against 32 values of x (eight 16-byte loads);
// kLoadsInFlight steps' blocks and scales are loaded together.
template <typename XPtr>
UK_DEVICE float DotMxfp4Lane(const uint8_t* blocks, const uint8_t* scales, XPtr x, int64_t nblocks) {
  float acc = 0;
  for (int64_t b0 = Lane(); b0 < nblocks; b0 += kLoadsInFlight * kWarpSize) {
    uk_u32x4 q[kLoadsInFlight];
    uint8_t s[kLoadsInFlight];
#pragma unroll
    for (int u = 0; u < kLoadsInFlight; ++u) {
      const int64_t b = b0 + u * kWarpSize;
      q[u] = b < nblocks ? LoadGlobalU32x4(blocks + b * 16) : uk_u32x4{0, 0, 0, 0};
      s[u] = b < nblocks ? LoadGlobalU8(scales + b) : 0;
    }
#pragma unroll
    for (int u = 0; u < kLoadsInFlight; ++u) {
      const int64_t b = b0 + u * kWarpSize;
      if (b >= nblocks) break;
      acc += Mxfp4BlockDotX2(q[u], x + b * 32) * (0.5f * E8M0(s[u]));  // twice the value
    }
  }
  return acc;
}

UK_DEVICE bool Aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// One row's columns of linear3, one warp per output column.
template <typename XPtr>
UK_DEVICE void Linear3Row(int64_t r, XPtr row, int64_t k, bool vec, const uint16_t* w0, const uint16_t* b0,
                          const float* res0, float* out0, int64_t n0, const uint16_t* w1, const uint16_t* b1,
                          float* out1, int64_t n1, const uint16_t* w2, const uint16_t* b2, float* out2,
                          int64_t n2) {
  const int64_t total = n0 + n1 + n2, stride = GridWarps();
  for (int64_t c = GlobalWarp(); c < total; c += stride) {
    const MoecLinear3Column s = MoecLinear3ColumnOf(c, w0, b0, out0, n0, w1, b1, out1, n1, w2, b2, out2, n2);
    const float dot = WarpSum(DotBf16Lane(s.w + s.col * k, row, k, vec));
    if (Lane() == 0) {
      float y = dot + (s.b ? Bf16(s.b[s.col]) : 0.0f);
      if (res0 && c < n0) y += res0[r * n0 + s.col];
      s.out[r * s.n + s.col] = y;
    }
  }
}


// ---------------------------------------------------------------------------
// Matrix tiles for many rows (prefill): C[64 x 64] = A[64 x K] B[K x 64] on
// the warp matrix units (mma.sync on NVIDIA, MFMA on AMD; gpu_target.h).
//
// A (activations, fp32) is split into two bf16 terms, hi = bf16(a) and lo =
// bf16(a - hi), and both are multiplied: hi + lo carries 16 significant
// bits, so the products are within ~2^-17 of fp32's instead of bf16's
// 2^-9, at twice the (ample) matrix throughput. B (weights) is bf16 as
// stored, or MXFP4 decoded to bf16, which is exact (two significant bits
// times a power of two). Accumulation is fp32.
//
// Per K step of 32, the block stages A and B in shared memory (rows padded
// by 8 halves against bank conflicts), each thread one run of 8 values
// along K per operand (16-byte loads from contiguous sources, one 16-byte
// store per staged run), then each warp runs the 16x16 steps
// of its output tiles; the 4 x 4 output tiles are dealt out to the warps,
// at most 4 per warp at a time (blocks of fewer than 4 warps take several
// passes). Results land in the shared g_tile_c for the caller's epilogue.
constexpr int kTileM = 64, kTileN = 64, kTileK = 32;
constexpr int kTilePitch = kTileK + 8;  // halves per staged row
constexpr int kOutputTiles = (kTileM / kMmaSize) * (kTileN / kMmaSize);
constexpr int kTilesPerPass = 4;
// Below this many rows the GEMV kernels (one warp per output) win: the
// weights are read once either way, and a tile would be mostly padding.
constexpr int64_t kMinTileRows = 16;
// Pairs (row, choice) scanned per round when grouping rows by expert.
constexpr int kPairScan = 2048;
UK_SHARED_ARRAY(uint16_t, g_tile_a_hi, kTileM * kTilePitch);
UK_SHARED_ARRAY(uint16_t, g_tile_a_lo, kTileM * kTilePitch);
UK_SHARED_ARRAY(uint16_t, g_tile_b, kTileN * kTilePitch);
UK_SHARED_ARRAY(float, g_tile_c, kTileM * kTileN);
UK_SHARED_ARRAY(float, g_tile_row_scale, kTileM);
UK_SHARED_ARRAY(int32_t, g_pair_counts, kMaxBlockSize);
UK_SHARED_ARRAY(int32_t, g_pairs, kPairScan);
UK_SHARED_ARRAY(int32_t, g_pair_total, 1);

// Round to nearest even (finite inputs).
UK_DEVICE uint16_t ToBf16(float f) {
  const uint32_t bits = __builtin_bit_cast(uint32_t, f);
  return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1)) >> 16);
}

// Eight bf16 values into 16-byte aligned shared memory, one store.
UK_DEVICE void StoreRunBf16(UK_AS_SHARED uint16_t* p, const uint16_t (&v)[8]) {
  uk_u32x4 w;
#pragma unroll
  for (int t = 0; t < 4; ++t) w[t] = v[2 * t] | (static_cast<uint32_t>(v[2 * t + 1]) << 16);
  *(UK_AS_SHARED uk_u32x4*)p = w;
}

// Runs of up to 8 consecutive values along K, as MultiplyTile stages them:
// `count` (0 to 8) are inside the problem, the rest of `out` must be 0.
// Contiguous sources take one or two 16-byte loads for a full aligned run.
template <typename Ptr>
UK_DEVICE void LoadRunF32(Ptr p, int64_t count, float (&out)[8]) {
  if (count == 8 && Aligned16(p)) {
    const uk_f32x4 lo = LoadF32x4(p), hi = LoadF32x4(p + 4);
    out[0] = lo.x, out[1] = lo.y, out[2] = lo.z, out[3] = lo.w;
    out[4] = hi.x, out[5] = hi.y, out[6] = hi.z, out[7] = hi.w;
    return;
  }
#pragma unroll
  for (int t = 0; t < 8; ++t) out[t] = t < count ? p[t] : 0.0f;
}
UK_DEVICE void LoadRunBf16(const uint16_t* p, int64_t count, uint16_t (&out)[8]) {
  if (count == 8 && Aligned16(p)) {
    const uk_u32x4 v = LoadGlobalU32x4(p);
#pragma unroll
    for (int t = 0; t < 4; ++t) {
      out[2 * t] = static_cast<uint16_t>(v[t]);
      out[2 * t + 1] = static_cast<uint16_t>(v[t] >> 16);
    }
    return;
  }
#pragma unroll
  for (int t = 0; t < 8; ++t) out[t] = t < count ? LoadGlobalU16(p + t) : 0;
}

// Weight elements k.. of MXFP4 row `row` as bf16 bits, a run of `count`
// (k a multiple of 8: one 4-byte load of codes and the scale byte).
UK_DEVICE void Mxfp4RunToBf16(const uint8_t* blocks, const uint8_t* scales, int64_t row, int64_t blocks_per_row,
                              int64_t k, int64_t count, uint16_t (&out)[8]) {
  if (count <= 0) {
#pragma unroll
    for (int t = 0; t < 8; ++t) out[t] = 0;
    return;
  }
  const int64_t block = row * blocks_per_row + k / 32;
  const uint32_t codes = LoadGlobalU32(blocks + block * 16 + (k % 32) / 2);
  const float half_scale = 0.5f * E8M0(LoadGlobalU8(scales + block));
#pragma unroll
  for (int t = 0; t < 8; ++t) {
    const float value = E2M1x2(codes >> (4 * t)) * half_scale;
    out[t] = t < count ? static_cast<uint16_t>(__builtin_bit_cast(uint32_t, value) >> 16) : 0;  // exact
  }
}

// g_tile_c = A B for one output tile. `a(m, k, count, out)` gives A's fp32
// elements k.. of row m (m < kTileM; 0 outside the problem) as a run (see
// LoadRunF32), `b(n, k, count, out)` B's bf16 bits for output column n the
// same way (0 outside). Runs start at multiples of 8. Every thread of the
// block must call it; ends with a barrier, g_tile_c complete.
template <typename ASource, typename BSource>
UK_DEVICE void MultiplyTile(int64_t depth, ASource a, BSource b) {
  const int64_t tid = ThreadId(), threads = BlockSize(), warp = WarpInBlock(), warps = WarpsPerBlock();
  const int lane = static_cast<int>(Lane());
  // The same number of passes in every warp: the barriers inside are block-wide.
  const int64_t passes = (kOutputTiles + warps * kTilesPerPass - 1) / (warps * kTilesPerPass);
  for (int64_t pass = 0; pass < passes; ++pass) {
    const int64_t first = warp + pass * warps * kTilesPerPass;
    float acc[kTilesPerPass][kMmaC];
#pragma unroll
    for (int t = 0; t < kTilesPerPass; ++t) {
#pragma unroll
      for (int e = 0; e < kMmaC; ++e) acc[t][e] = 0;
    }
    for (int64_t k0 = 0; k0 < depth; k0 += kTileK) {
      // One run of 8 along K per thread and operand (rows are 16-byte
      // aligned: the pitch is 80 bytes).
      constexpr int64_t kRuns = kTileK / 8;
      for (int64_t i = tid; i < kTileM * kRuns; i += threads) {
        const int64_t m = i / kRuns, kk = (i % kRuns) * 8, left = depth - (k0 + kk);
        float values[8];
        a(m, k0 + kk, left < 0 ? 0 : (left > 8 ? 8 : left), values);
        uk_u32x4 hi, lo;
#pragma unroll
        for (int t = 0; t < 4; ++t) {
          const uint32_t h0 = ToBf16(values[2 * t]), h1 = ToBf16(values[2 * t + 1]);
          const uint32_t l0 = ToBf16(values[2 * t] - Bf16(h0)), l1 = ToBf16(values[2 * t + 1] - Bf16(h1));
          hi[t] = h0 | (h1 << 16);
          lo[t] = l0 | (l1 << 16);
        }
        *(UK_AS_SHARED uk_u32x4*)(g_tile_a_hi + m * kTilePitch + kk) = hi;
        *(UK_AS_SHARED uk_u32x4*)(g_tile_a_lo + m * kTilePitch + kk) = lo;
      }
      for (int64_t i = tid; i < kTileN * kRuns; i += threads) {
        const int64_t n = i / kRuns, kk = (i % kRuns) * 8, left = depth - (k0 + kk);
        uint16_t bits[8];
        b(n, k0 + kk, left < 0 ? 0 : (left > 8 ? 8 : left), bits);
        StoreRunBf16(g_tile_b + n * kTilePitch + kk, bits);
      }
      Barrier();
#pragma unroll
      for (int t = 0; t < kTilesPerPass; ++t) {
        const int64_t tile = first + t * warps;
        if (tile >= kOutputTiles) break;  // warp-uniform
        const int64_t m0 = (tile / (kTileN / kMmaSize)) * kMmaSize, n0 = (tile % (kTileN / kMmaSize)) * kMmaSize;
#pragma unroll
        for (int ks = 0; ks < kTileK; ks += kMmaSize) {
          uint32_t a_hi[kMmaA / 2], a_lo[kMmaA / 2], bw[kMmaB / 2];
#pragma unroll
          for (int e = 0; e < kMmaA; e += 2) {
            int row, k;
            MmaA(lane, e, &row, &k);
            const int64_t at = (m0 + row) * kTilePitch + ks + k;
            int row1, k1;
            MmaA(lane, e + 1, &row1, &k1);
            const int64_t at1 = (m0 + row1) * kTilePitch + ks + k1;
            a_hi[e / 2] = g_tile_a_hi[at] | (static_cast<uint32_t>(g_tile_a_hi[at1]) << 16);
            a_lo[e / 2] = g_tile_a_lo[at] | (static_cast<uint32_t>(g_tile_a_lo[at1]) << 16);
          }
#pragma unroll
          for (int e = 0; e < kMmaB; e += 2) {
            int k, col, k1, col1;
            MmaB(lane, e, &k, &col);
            MmaB(lane, e + 1, &k1, &col1);
            bw[e / 2] = g_tile_b[(n0 + col) * kTilePitch + ks + k] |
                        (static_cast<uint32_t>(g_tile_b[(n0 + col1) * kTilePitch + ks + k1]) << 16);
          }
          MmaBf16(acc[t], a_hi, bw);
          MmaBf16(acc[t], a_lo, bw);
        }
      }
      Barrier();  // the staged tiles are rewritten by the next step
    }
#pragma unroll
    for (int t = 0; t < kTilesPerPass; ++t) {
      const int64_t tile = first + t * warps;
      if (tile >= kOutputTiles) break;
      const int64_t m0 = (tile / (kTileN / kMmaSize)) * kMmaSize, n0 = (tile % (kTileN / kMmaSize)) * kMmaSize;
#pragma unroll
      for (int e = 0; e < kMmaC; ++e) {
        int row, col;
        MmaC(lane, e, &row, &col);
        g_tile_c[(m0 + row) * kTileN + n0 + col] = acc[t][e];
      }
    }
  }
  Barrier();
}

// Collects, in order, the pairs p in [begin, end) with indices[p] == expert
// into g_pairs (end - begin <= kPairScan); returns their number. Every thread
// of the block must call it; ends with a barrier.
UK_DEVICE int64_t CollectPairs(const int32_t* indices, int64_t begin, int64_t end, int64_t expert) {
  const int64_t tid = ThreadId(), threads = BlockSize();
  const int64_t per_thread = (end - begin + threads - 1) / threads;
  const int64_t lo = begin + tid * per_thread < end ? begin + tid * per_thread : end;
  const int64_t hi = lo + per_thread < end ? lo + per_thread : end;
  int32_t count = 0;
  for (int64_t p = lo; p < hi; ++p) count += indices[p] == expert;
  g_pair_counts[tid] = count;
  Barrier();
  if (tid == 0) {  // exclusive prefix sum over the threads (<= 1024)
    int32_t sum = 0;
    for (int64_t t = 0; t < threads; ++t) {
      const int32_t c = g_pair_counts[t];
      g_pair_counts[t] = sum;
      sum += c;
    }
    g_pair_total[0] = sum;
  }
  Barrier();
  int32_t at = g_pair_counts[tid];
  for (int64_t p = lo; p < hi; ++p) {
    if (indices[p] == expert) g_pairs[at++] = static_cast<int32_t>(p);
  }
  const int64_t total = g_pair_total[0];
  Barrier();
  return total;
}

// linear3 for many rows: output tiles of 64 rows x 64 columns of the
// concatenated column space [0, n0 + n1 + n2), one block per tile
// (grid-stride; consecutive blocks take consecutive row tiles of one column
// tile, so they share its weights in L2). With `gain`, the tile's rows'
// inverse RMS is computed first (one warp per row) and the normalisation is
// applied as A is staged; the blocks of column tile 0 store the normalised
// rows to `normed_out`. Rows [row_begin, rows) only; row tiles start at
// row_begin.
UK_DEVICE void Linear3Tiled(const float* x, const uint16_t* gain, float eps, int64_t row_begin, int64_t rows,
                            int64_t k, const uint16_t* w0, const uint16_t* b0, const float* res0, float* out0,
                            int64_t n0, const uint16_t* w1, const uint16_t* b1, float* out1, int64_t n1,
                            const uint16_t* w2, const uint16_t* b2, float* out2, int64_t n2, float* normed_out) {
  const int64_t total = n0 + n1 + n2;
  const int64_t row_tiles = (rows - row_begin + kTileM - 1) / kTileM, col_tiles = (total + kTileN - 1) / kTileN;
  const int64_t tid = ThreadId(), threads = BlockSize();
  for (int64_t tile = BlockId(); tile < row_tiles * col_tiles; tile += BlockCount()) {
    const int64_t r0 = row_begin + (tile % row_tiles) * kTileM, c0 = (tile / row_tiles) * kTileN;
    if (gain) {
      for (int64_t m = WarpInBlock(); m < kTileM; m += WarpsPerBlock()) {
        float ss = 0;
        if (r0 + m < rows) {
          const float* xr = x + (r0 + m) * k;
          for (int64_t i = Lane(); i < k; i += kWarpSize) ss += xr[i] * xr[i];
        }
        const float sum = WarpSum(ss);
        if (Lane() == 0) g_tile_row_scale[m] = 1.0f / Sqrt(sum / static_cast<float>(k) + eps);
      }
      Barrier();
      if (normed_out && c0 == 0) {
        for (int64_t i = tid; i < kTileM * k; i += threads) {
          const int64_t m = i / k, kk = i % k;
          if (r0 + m >= rows) continue;
          normed_out[(r0 + m) * k + kk] = x[(r0 + m) * k + kk] * g_tile_row_scale[m] * Bf16(gain[kk]);
        }
      }
    }
    MultiplyTile(
        k,
        [&](int64_t m, int64_t kk, int64_t count, float (&run)[8]) {
          LoadRunF32(AsGlobal(x + (r0 + m) * k + kk), r0 + m < rows ? count : 0, run);
          if (!gain) return;
#pragma unroll
          for (int t = 0; t < 8; ++t) run[t] = t < count ? run[t] * g_tile_row_scale[m] * Bf16(gain[kk + t]) : 0.0f;
        },
        [&](int64_t n, int64_t kk, int64_t count, uint16_t (&run)[8]) {
          const int64_t c = c0 + n < total ? c0 + n : 0;
          const MoecLinear3Column s = MoecLinear3ColumnOf(c, w0, b0, out0, n0, w1, b1, out1, n1, w2, b2, out2, n2);
          LoadRunBf16(s.w + s.col * k + kk, c0 + n < total ? count : 0, run);
        });
    for (int64_t i = tid; i < kTileM * kTileN; i += threads) {
      const int64_t r = r0 + i / kTileN, c = c0 + i % kTileN;
      if (r >= rows || c >= total) continue;
      const MoecLinear3Column s = MoecLinear3ColumnOf(c, w0, b0, out0, n0, w1, b1, out1, n1, w2, b2, out2, n2);
      float y = g_tile_c[i] + (s.b ? Bf16(s.b[s.col]) : 0.0f);
      if (res0 && c < n0) y += res0[r * n0 + s.col];
      s.out[r * s.n + s.col] = y;
    }
    Barrier();  // g_tile_c and the row scales are rewritten by the next tile
  }
}

// Routed gate_up for many rows, grouped by expert: work items (expert,
// column tile of 64 weight rows = 32 gate/linear pairs), grid-stride. The
// block collects the (row, choice) pairs routed to its expert, 64 at a time
// as the rows of A, multiplies them by the expert's decoded MXFP4 rows, and
// applies the bias and the clamped SwiGLU to each gate/linear column pair.
UK_DEVICE void ExpertGateUpTiled(const float* x, const int32_t* indices, const uint8_t* weight, const uint16_t* bias,
                                 float* activation, int64_t rows, int64_t top_k, int64_t d, int64_t intermediate,
                                 int64_t experts, float limit, float alpha) {
  const int64_t out_rows = 2 * intermediate, blocks_per_row = d / 32, pairs = rows * top_k;
  const uint8_t* scales = weight + experts * out_rows * blocks_per_row * 16;
  const int64_t col_tiles = (out_rows + kTileN - 1) / kTileN;
  const int64_t tid = ThreadId(), threads = BlockSize();
  for (int64_t item = BlockId(); item < experts * col_tiles; item += BlockCount()) {
    const int64_t e = item / col_tiles, c0 = (item % col_tiles) * kTileN;
    for (int64_t begin = 0; begin < pairs; begin += kPairScan) {
      const int64_t count = CollectPairs(indices, begin, begin + kPairScan < pairs ? begin + kPairScan : pairs, e);
      for (int64_t p0 = 0; p0 < count; p0 += kTileM) {
        MultiplyTile(
            d,
            [&](int64_t m, int64_t kk, int64_t run_count, float (&run)[8]) {
              const int64_t row = p0 + m < count ? g_pairs[p0 + m] / top_k : 0;
              LoadRunF32(AsGlobal(x + row * d + kk), p0 + m < count ? run_count : 0, run);
            },
            [&](int64_t n, int64_t kk, int64_t run_count, uint16_t (&run)[8]) {
              Mxfp4RunToBf16(weight, scales, e * out_rows + c0 + n, blocks_per_row, kk,
                             c0 + n < out_rows ? run_count : 0, run);
            });
        for (int64_t i = tid; i < kTileM * (kTileN / 2); i += threads) {
          const int64_t m = i / (kTileN / 2), o = i % (kTileN / 2), row = c0 + 2 * o;
          if (p0 + m >= count || row >= out_rows) continue;
          float glu = g_tile_c[m * kTileN + 2 * o] + Bf16(bias[e * out_rows + row]);
          float lin = g_tile_c[m * kTileN + 2 * o + 1] + Bf16(bias[e * out_rows + row + 1]);
          glu = glu < limit ? glu : limit;
          lin = lin < -limit ? -limit : (lin > limit ? limit : lin);
          const float swish = glu / (1.0f + Exp(-alpha * glu));
          activation[g_pairs[p0 + m] * intermediate + row / 2] = swish * (lin + 1.0f);
        }
        Barrier();
      }
    }
  }
}

// Routed down for many rows: work items (row tile of 64, column tile of
// 64), grid-stride, so each output element has one owner and the combine
// over the k choices needs no atomics (the result does not depend on the
// grid). The block starts its tile at the residual, then for each expert in
// order collects the tile's (row, choice) pairs routed to it, multiplies
// their activations by the expert's decoded MXFP4 rows and adds
// weight * (product + bias) to the output rows.
UK_DEVICE void ExpertDownTiled(const float* activation, const float* routing_weights, const int32_t* indices,
                               const uint8_t* weight, const uint16_t* bias, const float* residual, float* out,
                               int64_t rows, int64_t top_k, int64_t intermediate, int64_t d, int64_t experts) {
  const int64_t blocks_per_row = intermediate / 32;
  const uint8_t* scales = weight + experts * d * blocks_per_row * 16;
  const int64_t row_tiles = (rows + kTileM - 1) / kTileM, col_tiles = (d + kTileN - 1) / kTileN;
  const int64_t tid = ThreadId(), threads = BlockSize();
  for (int64_t tile = BlockId(); tile < row_tiles * col_tiles; tile += BlockCount()) {
    const int64_t r0 = (tile % row_tiles) * kTileM, c0 = (tile / row_tiles) * kTileN;
    const int64_t tile_rows = rows - r0 < kTileM ? rows - r0 : kTileM;
    // Later passes read these through the barriers in between (a row chooses
    // an expert at most once, so no two threads of one pass share an element).
    for (int64_t i = tid; i < kTileM * kTileN; i += threads) {
      const int64_t r = r0 + i / kTileN, c = c0 + i % kTileN;
      if (r < rows && c < d) out[r * d + c] = residual ? residual[r * d + c] : 0.0f;
    }
    for (int64_t e = 0; e < experts; ++e) {
      // The tile's pairs, numbered from r0 * top_k (tile_rows * top_k <= kPairScan for top_k <= 32).
      for (int64_t begin = r0 * top_k; begin < (r0 + tile_rows) * top_k; begin += kPairScan) {
        const int64_t end = begin + kPairScan < (r0 + tile_rows) * top_k ? begin + kPairScan : (r0 + tile_rows) * top_k;
        const int64_t count = CollectPairs(indices, begin, end, e);
        for (int64_t p0 = 0; p0 < count; p0 += kTileM) {
          MultiplyTile(
              intermediate,
              [&](int64_t m, int64_t kk, int64_t run_count, float (&run)[8]) {
                const int64_t pair = p0 + m < count ? g_pairs[p0 + m] : 0;
                LoadRunF32(AsGlobal(activation + pair * intermediate + kk), p0 + m < count ? run_count : 0, run);
              },
              [&](int64_t n, int64_t kk, int64_t run_count, uint16_t (&run)[8]) {
                Mxfp4RunToBf16(weight, scales, e * d + c0 + n, blocks_per_row, kk, c0 + n < d ? run_count : 0, run);
              });
          for (int64_t i = tid; i < kTileM * kTileN; i += threads) {
            const int64_t m = i / kTileN, c = c0 + i % kTileN;
            if (p0 + m >= count || c >= d) continue;
            const int64_t pair = g_pairs[p0 + m];
            out[(pair / top_k) * d + c] += routing_weights[pair] * (g_tile_c[i] + Bf16(bias[e * d + c]));
          }
          Barrier();
        }
      }
    }
  }
}

// The two KV cache element types: f32 as computed, or bf16 (rounded to
// nearest even when appended). Keys and values of the call's own rows are
// read through Round, so they match what the cache holds (the CPU twins in
// targets/ukernels/cpu do the same).
struct F32Cache {
  typedef float Element;
  static constexpr bool kBf16 = false;
  UK_DEVICE float Load(const float* p) { return *p; }
  UK_DEVICE float Round(float x) { return x; }
  UK_DEVICE void Store(float* p, float x) { *p = x; }
  // 8 consecutive elements (16-byte aligned) dotted with q[0..8).
  UK_DEVICE float Dot8(const float* p, const float* q) {
    const uk_f32x4 a = LoadF32x4(AsGlobal(p)), b = LoadF32x4(AsGlobal(p + 4));
    return (q[0] * a.x + q[1] * a.y + q[2] * a.z + q[3] * a.w) + (q[4] * b.x + q[5] * b.y + q[6] * b.z + q[7] * b.w);
  }
};
struct Bf16Cache {
  typedef uint16_t Element;
  static constexpr bool kBf16 = true;
  UK_DEVICE float Load(const uint16_t* p) { return Bf16(*p); }
  UK_DEVICE float Round(float x) { return Bf16(ToBf16(x)); }
  UK_DEVICE void Store(uint16_t* p, float x) { *p = ToBf16(x); }
  // 8 consecutive elements in one 16-byte load.
  UK_DEVICE float Dot8(const uint16_t* p, const float* q) {
    const uk_u32x4 w = LoadGlobalU32x4(p);
    return (q[0] * Bf16Lo(w.x) + q[1] * Bf16Hi(w.x) + q[2] * Bf16Lo(w.y) + q[3] * Bf16Hi(w.y)) +
           (q[4] * Bf16Lo(w.z) + q[5] * Bf16Hi(w.z) + q[6] * Bf16Lo(w.w) + q[7] * Bf16Hi(w.w));
  }
};

// Where key/value j of one (row, KV head) attention item lives: the rows
// first_row.. of this call hold positions chunk_start.. (read from the k/v
// inputs, so no block depends on another's cache writes); earlier positions
// are in the cache ring.
template <typename Cache>
struct KeySource {
  typedef typename Cache::Element Element;
  const float* k;
  const float* v;
  const Element* key_cache;  // this slot's ring
  const Element* value_cache;
  int64_t first_row, chunk_start, kv_heads, g, d, capacity;
  __attribute__((always_inline)) bool InChunk(int64_t j) const { return j >= chunk_start; }
  __attribute__((always_inline)) int64_t ChunkAt(int64_t j) const {
    return ((first_row + (j - chunk_start)) * kv_heads + g) * d;
  }
  __attribute__((always_inline)) int64_t CacheAt(int64_t j) const { return ((j % capacity) * kv_heads + g) * d; }
  // Element i of key / value j.
  __attribute__((always_inline)) float Key(int64_t j, int64_t i) const {
    return InChunk(j) ? Cache::Round(k[ChunkAt(j) + i]) : Cache::Load(key_cache + CacheAt(j) + i);
  }
  __attribute__((always_inline)) float Value(int64_t j, int64_t i) const {
    return InChunk(j) ? Cache::Round(v[ChunkAt(j) + i]) : Cache::Load(value_cache + CacheAt(j) + i);
  }
  // Elements i.. of key j as bf16 bits, a run of `count` (bf16 caches only,
  // whose keys are exact in bf16).
  __attribute__((always_inline)) void KeyRunBf16(int64_t j, int64_t i, int64_t count, uint16_t (&out)[8]) const {
    if (InChunk(j)) {
      float values[8];
      LoadRunF32(AsGlobal(k + ChunkAt(j) + i), count, values);
#pragma unroll
      for (int t = 0; t < 8; ++t) out[t] = ToBf16(values[t]);
    } else {
      LoadRunBf16(key_cache + CacheAt(j) + i, count, out);
    }
  }
};

// The online softmax's starting point: the sink (max = sink, normaliser =
// exp(sink - max) = 1) for a whole key range, or nothing (-inf, 0) for one
// split of it, whose sink is joined when the splits are combined.
struct AttendState {
  float max, normaliser;
};

// Where a head's result goes: normalised into `out`, or, for one split of
// the keys, unnormalised into `partial` ([d] accumulator, then the max and
// the normaliser).
struct AttendOutput {
  float* out;
  float* partial;
  int64_t d;
  __attribute__((always_inline)) void Element(int64_t i, float acc, float normaliser) const {
    if (partial) {
      partial[i] = acc;
    } else {
      out[i] = acc / normaliser;
    }
  }
  // The max and normaliser are the same in every lane; lane 0 stores them.
  __attribute__((always_inline)) void Finish(float max, float normaliser) const {
    if (partial && Lane() == 0) {
      partial[d] = max;
      partial[d + 1] = normaliser;
    }
  }
};

// One query head over keys lo..p, one key per lane (head dimension D, a
// multiple of 32): each lane scores its key against q (held in registers)
// with 16-byte loads, the warp takes the tile's max and sum (two warp
// reductions per 32 keys instead of one warp sum per key), then walks the
// tile's keys adding weight * value, lane l owning elements l, l + 32, ...
// The online softmax is seeded with the sink (it joins the max and the
// normaliser but has no value vector).
template <int D, typename Cache>
UK_DEVICE void AttendKeyTiles(const float* qh, const KeySource<Cache>& keys, int64_t lo, int64_t p,
                              const AttendState& start, float scale, const AttendOutput& output) {
  constexpr int kPerLane = D / kWarpSize > 0 ? D / kWarpSize : 1;
  const int64_t lane = Lane();
  float qr[D];
#pragma unroll
  for (int i = 0; i < D; i += 4) {
    const uk_f32x4 x = LoadF32x4(AsGlobal(qh + i));
    qr[i] = x.x, qr[i + 1] = x.y, qr[i + 2] = x.z, qr[i + 3] = x.w;
  }
  float acc[kPerLane];
#pragma unroll
  for (int t = 0; t < kPerLane; ++t) acc[t] = 0;
  float m = start.max, normaliser = start.normaliser;
  for (int64_t j0 = lo; j0 <= p; j0 += kWarpSize) {
    const int64_t j = j0 + lane;
    float score = -__builtin_inff();
    if (j <= p) {
      float dot = 0;
      if (keys.InChunk(j)) {
        const float* kj = keys.k + keys.ChunkAt(j);
#pragma unroll
        for (int i = 0; i < D; i += 4) {
          const uk_f32x4 a = LoadF32x4(AsGlobal(kj + i));
          dot += qr[i] * Cache::Round(a.x) + qr[i + 1] * Cache::Round(a.y) + qr[i + 2] * Cache::Round(a.z) +
                 qr[i + 3] * Cache::Round(a.w);
        }
      } else {
        const typename Cache::Element* kj = keys.key_cache + keys.CacheAt(j);
#pragma unroll
        for (int i = 0; i < D; i += 8) dot += Cache::Dot8(kj + i, qr + i);
      }
      score = dot * scale;
    }
    const float tile_max = WarpMax(score);  // the same bits in every lane
    if (tile_max > m) {
      const float rescale = Exp(m - tile_max);
      normaliser *= rescale;
#pragma unroll
      for (int t = 0; t < kPerLane; ++t) acc[t] *= rescale;
      m = tile_max;
    }
    const float weight = j <= p ? Exp(score - m) : 0.0f;
    normaliser += WarpSum(weight);
    const int64_t count = p - j0 + 1 < kWarpSize ? p - j0 + 1 : kWarpSize;
    for (int64_t jj = 0; jj < count; ++jj) {
      const float wj = ReadLane(weight, static_cast<int>(jj));
#pragma unroll
      for (int t = 0; t < kPerLane; ++t) acc[t] += wj * keys.Value(j0 + jj, lane + t * kWarpSize);
    }
  }
#pragma unroll
  for (int t = 0; t < kPerLane; ++t) output.Element(lane + t * kWarpSize, acc[t], normaliser);
  output.Finish(m, normaliser);
}

// One query head over keys lo..p, any head dimension up to kMaxHeadDim, one
// key at a time: lane l holds q, the accumulator and the value elements l,
// l + warp size, ...; a warp sum per score.
template <typename Cache>
UK_DEVICE void AttendKeyByKey(const float* qh, const KeySource<Cache>& keys, int64_t lo, int64_t p,
                              const AttendState& start, float scale, const AttendOutput& output) {
  constexpr int kPerLane = kMaxHeadDim / kWarpSize;
  const int64_t lane = Lane(), d = keys.d;
  float qr[kPerLane], acc[kPerLane];
#pragma unroll
  for (int t = 0; t < kPerLane; ++t) {
    const int64_t i = lane + t * kWarpSize;
    qr[t] = i < d ? qh[i] : 0.0f;
    acc[t] = 0;
  }
  float m = start.max, normaliser = start.normaliser;
  for (int64_t j = lo; j <= p; ++j) {
    float dot = 0;
#pragma unroll
    for (int t = 0; t < kPerLane; ++t) {
      const int64_t i = lane + t * kWarpSize;
      if (i < d) dot += qr[t] * keys.Key(j, i);
    }
    // The same bits in every lane, so the branch below is warp-uniform.
    const float score = WarpSum(dot) * scale;
    if (score > m) {
      const float rescale = Exp(m - score);
      normaliser *= rescale;
#pragma unroll
      for (int t = 0; t < kPerLane; ++t) acc[t] *= rescale;
      m = score;
    }
    const float weight = Exp(score - m);
    normaliser += weight;
#pragma unroll
    for (int t = 0; t < kPerLane; ++t) {
      const int64_t i = lane + t * kWarpSize;
      if (i < d) acc[t] += weight * keys.Value(j, i);
    }
  }
#pragma unroll
  for (int t = 0; t < kPerLane; ++t) {
    const int64_t i = lane + t * kWarpSize;
    if (i < d) output.Element(i, acc[t], normaliser);
  }
  output.Finish(m, normaliser);
}

// One query head over keys lo..hi by the path its head dimension allows.
template <typename Cache>
UK_DEVICE void AttendRange(const float* qh, const KeySource<Cache>& keys, int64_t lo, int64_t hi,
                           const AttendState& start, float scale, const AttendOutput& output, bool aligned) {
  // d is a constant in the code generator's kernels: one branch remains.
  if (keys.d == 64 && aligned) {
    AttendKeyTiles<64>(qh, keys, lo, hi, start, scale, output);
  } else if (keys.d == 128 && aligned) {
    AttendKeyTiles<128>(qh, keys, lo, hi, start, scale, output);
  } else {
    AttendKeyByKey(qh, keys, lo, hi, start, scale, output);
  }
}

// Whether this block is the last split of its (row, KV head) to finish.
UK_SHARED_ARRAY(int32_t, g_split_last, 1);

// Prefill attention, flash style, on the matrix units (bf16 caches). A work
// item is (KV head g, a tile of kTileM / group consecutive rows): its kTileM
// queries, (row, query head of the group), share their keys, which are read
// once per item in steps of kTileN keys instead of once per row. Per step:
// S = Q K^T by MultiplyTile (q split hi + lo, keys exact in bf16), the online
// softmax per query seeded with the sink (thread m owns query m; P replaces S
// in g_tile_c), then O += P V by MultiplyTile per 64 columns of the head
// dimension, accumulated in `out` (each element has one owner) and divided
// by the normaliser at the end. Head dimensions over 64 compute S and P
// again for each further 64 columns: MultiplyTile's result overwrites P.
// Needs the call's rows to be one sequence (one slot, consecutive positions
// from row 0, as a prefill chunk is) and MultiplyTile to finish in one pass;
// AttentionTilesApply says whether they are (every thread of the block must
// call it: it ends in a block sum).
UK_SHARED_ARRAY(float, g_flash_max, kTileM);
UK_SHARED_ARRAY(float, g_flash_sum, kTileM);
UK_SHARED_ARRAY(float, g_flash_rescale, kTileM);

UK_DEVICE bool AttentionTilesApply(const int32_t* slots, const int32_t* positions, int64_t rows, int64_t group,
                                   int64_t capacity, int64_t window) {
  if (rows == 0 || kTileM % group != 0 || WarpsPerBlock() * kTilesPerPass < kOutputTiles) return false;
  const int32_t p0 = positions[0];
  if (p0 < 0 || (window == 0 && p0 + rows - 1 >= capacity)) return false;
  // The block checks the rows together (a few per thread, not all of them
  // in every thread); BlockSum gives every thread the same answer.
  float mismatches = 0;
  for (int64_t r = 1 + ThreadId(); r < rows; r += BlockSize()) {
    mismatches += slots[r] != slots[0] || positions[r] != p0 + r ? 1.0f : 0.0f;
  }
  return BlockSum(mismatches) == 0.0f;
}

template <typename Cache>
UK_DEVICE void AttentionTiles(const float* q, const float* k, const float* v, const uint16_t* sinks,
                              typename Cache::Element* key_cache, typename Cache::Element* value_cache,
                              const int32_t* slots, const int32_t* positions, float* out, int64_t rows,
                              int64_t heads, int64_t kv_heads, int64_t d, int64_t capacity, int64_t window,
                              float scale) {
  typedef typename Cache::Element Element;
  const int64_t group = heads / kv_heads, tile_rows = kTileM / group;
  const int64_t row_tiles = (rows + tile_rows - 1) / tile_rows;
  const int64_t tid = ThreadId(), threads = BlockSize(), p0 = positions[0];
  Element* kc = key_cache + ((slots[0] * capacity) * kv_heads) * d;
  Element* vc = value_cache + ((slots[0] * capacity) * kv_heads) * d;
  for (int64_t item = BlockId(); item < row_tiles * kv_heads; item += BlockCount()) {
    const int64_t r0 = (item / kv_heads) * tile_rows, g = item % kv_heads;
    const int64_t r_end = r0 + tile_rows < rows ? r0 + tile_rows : rows;
    const int64_t first_key = MoecFirstKey(p0 + r0, window), last_key = p0 + r_end - 1;
    const KeySource<Cache> keys{k, v, kc, vc, 0, p0, kv_heads, g, d, capacity};
    // Query m: row r0 + m / group, head g * group + m % group.
    auto query_row = [&](int64_t m) { return r0 + m / group; };
    auto query_at = [&](int64_t m) { return (query_row(m) * heads + g * group + m % group) * d; };
    // This tile's keys and values into the cache (read back by later calls only).
    for (int64_t i = tid; i < (r_end - r0) * d; i += threads) {
      const int64_t r = r0 + i / d, e = i % d, at = ((p0 + r) % capacity * kv_heads + g) * d + e;
      Cache::Store(kc + at, k[(r * kv_heads + g) * d + e]);
      Cache::Store(vc + at, v[(r * kv_heads + g) * d + e]);
    }
    if (tid < kTileM) {
      g_flash_max[tid] = Bf16(sinks[g * group + tid % group]);
      g_flash_sum[tid] = 1.0f;
    }
    for (int64_t i = tid; i < kTileM * d; i += threads) {
      if (query_row(i / d) < r_end) out[query_at(i / d) + i % d] = 0.0f;
    }
    Barrier();
    for (int64_t j0 = first_key; j0 <= last_key; j0 += kTileN) {
      for (int64_t d0 = 0; d0 < d; d0 += kTileN) {
        MultiplyTile(
            d,
            [&](int64_t m, int64_t kk, int64_t count, float (&run)[8]) {
              LoadRunF32(AsGlobal(q + (query_row(m) < r_end ? query_at(m) : 0) + kk), query_row(m) < r_end ? count : 0,
                         run);
            },
            [&](int64_t n, int64_t kk, int64_t count, uint16_t (&run)[8]) {
              keys.KeyRunBf16(j0 + n <= last_key ? j0 + n : last_key, kk, j0 + n <= last_key ? count : 0, run);
            });
        // P = exp(scale S - max) over the keys query m sees, 0 elsewhere;
        // the max, its rescale and the normaliser advance once per step.
        if (tid < kTileM) {
          const int64_t m = tid, p = p0 + query_row(m), lo = MoecFirstKey(p, window);
          const bool live = query_row(m) < r_end;
          float* s_row = g_tile_c + m * kTileN;
          if (d0 == 0) {
            float tile_max = -__builtin_inff();
            for (int64_t n = 0; n < kTileN; ++n) {
              const int64_t j = j0 + n;
              if (live && j >= lo && j <= p && s_row[n] * scale > tile_max) tile_max = s_row[n] * scale;
            }
            const float max = g_flash_max[m] > tile_max ? g_flash_max[m] : tile_max;
            g_flash_rescale[m] = Exp(g_flash_max[m] - max);
            g_flash_max[m] = max;
          }
          float sum = 0;
          for (int64_t n = 0; n < kTileN; ++n) {
            const int64_t j = j0 + n;
            const float weight = live && j >= lo && j <= p ? Exp(s_row[n] * scale - g_flash_max[m]) : 0.0f;
            s_row[n] = weight;
            sum += weight;
          }
          if (d0 == 0) g_flash_sum[m] = g_flash_sum[m] * g_flash_rescale[m] + sum;
        }
        Barrier();
        MultiplyTile(
            kTileN,
            [&](int64_t m, int64_t kk, int64_t count, float (&run)[8]) {
              LoadRunF32(static_cast<SFloatPtr>(g_tile_c + m * kTileN + kk), count, run);
            },
            [&](int64_t n, int64_t kk, int64_t count, uint16_t (&run)[8]) {
              // Eight keys' element d0 + n: strided, one load each.
              for (int t = 0; t < 8; ++t) {
                run[t] = t < count && d0 + n < d && j0 + kk + t <= last_key ? ToBf16(keys.Value(j0 + kk + t, d0 + n)) : 0;
              }
            });
        for (int64_t i = tid; i < kTileM * kTileN; i += threads) {
          const int64_t m = i / kTileN, e = d0 + i % kTileN;
          if (query_row(m) >= r_end || e >= d) continue;
          float* o = out + query_at(m) + e;
          *o = *o * g_flash_rescale[m] + g_tile_c[i];
        }
        Barrier();  // g_tile_c is rewritten by the next MultiplyTile
      }
    }
    for (int64_t i = tid; i < kTileM * d; i += threads) {
      if (query_row(i / d) < r_end) out[query_at(i / d) + i % d] /= g_flash_sum[i / d];
    }
    Barrier();  // the softmax state is reset by the next item
  }
}

// Combines the `splits` partial results of query head h (base: its first
// split's [acc[d], max, normaliser]) with the sink into out, one warp, lanes
// over d.
UK_DEVICE void CombineSplits(const float* base, int64_t splits, int64_t d, float sink, float* out) {
  const int64_t stride = d + 2;
  float m = sink;
  for (int64_t s = 0; s < splits; ++s) m = base[s * stride + d] > m ? base[s * stride + d] : m;
  float normaliser = Exp(sink - m);
  for (int64_t s = 0; s < splits; ++s) normaliser += base[s * stride + d + 1] * Exp(base[s * stride + d] - m);
  for (int64_t i = Lane(); i < d; i += kWarpSize) {
    float acc = 0;
    for (int64_t s = 0; s < splits; ++s) acc += base[s * stride + i] * Exp(base[s * stride + d] - m);
    out[i] = acc / normaliser;
  }
}

// Attention over caches of Cache's type; see moec_uk_attention. With
// splits > 1 (split-KV, for decode: few rows, long contexts), each (row, KV
// head) is `splits` work items, each over a contiguous share of the keys in
// whole tiles, writing unnormalised partial results to `workspace` (see
// MOEC_SPLIT_KV_COUNTERS: a u32 counter per (row, KV head), zero between
// launches, then [rows, heads, splits, d + 2] floats); the last split to
// finish (elected by the counter, after a device-scope release) combines
// them with the sink and zeroes the counter again. rows * kv_heads <=
// MOEC_SPLIT_KV_COUNTERS.
template <typename Cache>
UK_DEVICE void Attention(const float* q, const float* k, const float* v, const uint16_t* sinks,
                         typename Cache::Element* key_cache, typename Cache::Element* value_cache,
                         const int32_t* slots, const int32_t* positions, float* out, int64_t rows, int64_t heads,
                         int64_t kv_heads, int64_t d, int64_t capacity, int64_t window, float scale,
                         bool one_sequence, float* workspace, int64_t splits, const int32_t* live) {
  typedef typename Cache::Element Element;
  const int64_t group = heads / kv_heads;
  uint32_t* counters = reinterpret_cast<uint32_t*>(workspace);
  float* partials = splits > 1 ? workspace + MOEC_SPLIT_KV_COUNTERS : nullptr;
  const int64_t live_rows = MoecLiveRows(live, rows);
  // Prefill (the compiler's one_sequence and static rows; bf16 caches):
  // flash-style tiles, when the live rows are indeed one sequence.
  if constexpr (Cache::kBf16) {
    if (one_sequence && rows >= kMinTileRows && splits == 1 &&
        AttentionTilesApply(slots, positions, live_rows, group, capacity, window)) {
      AttentionTiles<Cache>(q, k, v, sinks, key_cache, value_cache, slots, positions, out, live_rows, heads, kv_heads,
                            d, capacity, window, scale);
      return;
    }
  }
  for (int64_t item = BlockId(); item < live_rows * kv_heads * splits; item += BlockCount()) {
    const int64_t s = item % splits, r = item / splits / kv_heads, g = item / splits % kv_heads;
    const int32_t p = positions[r];
    if (p < 0 || (window == 0 && p >= capacity)) continue;
    const int64_t slot = slots[r];
    Element* kc = key_cache + ((slot * capacity) * kv_heads) * d;
    Element* vc = value_cache + ((slot * capacity) * kv_heads) * d;
    const int64_t at = static_cast<int64_t>(p) % capacity;
    if (s == 0) {  // no split reads position p from the cache: it is this call's
      for (int64_t i = ThreadId(); i < d; i += BlockSize()) {
        Cache::Store(kc + (at * kv_heads + g) * d + i, k[(r * kv_heads + g) * d + i]);
        Cache::Store(vc + (at * kv_heads + g) * d + i, v[(r * kv_heads + g) * d + i]);
      }
    }
    // Rows r - (p - j) hold positions j of this chunk; earlier ones are cached.
    const int64_t first_row = MoecChunkFirstRow(slots, positions, r);
    const KeySource<Cache> keys{k, v, kc, vc, first_row, p - (r - first_row), kv_heads, g, d, capacity};
    const int64_t lo = MoecFirstKey(p, window);
    const bool aligned = Aligned16(q) && Aligned16(k) && Aligned16(key_cache);
    if (splits == 1) {
      for (int64_t hh = WarpInBlock(); hh < group; hh += WarpsPerBlock()) {
        const int64_t h = g * group + hh;
        const AttendState start{Bf16(sinks[h]), 1.0f};
        const AttendOutput output{out + (r * heads + h) * d, nullptr, d};
        AttendRange(q + (r * heads + h) * d, keys, lo, p, start, scale, output, aligned);
      }
      continue;
    }
    // This split's share of lo..p, in whole tiles (possibly empty).
    const int64_t per = ((p - lo + 1 + splits - 1) / splits + kWarpSize - 1) / kWarpSize * kWarpSize;
    const int64_t begin = lo + s * per, end = begin + per - 1 < p ? begin + per - 1 : p;
    for (int64_t hh = WarpInBlock(); hh < group; hh += WarpsPerBlock()) {
      const int64_t h = g * group + hh;
      float* partial = partials + ((r * heads + h) * splits + s) * (d + 2);
      AttendRange(q + (r * heads + h) * d, keys, begin, end, AttendState{-__builtin_inff(), 0.0f}, scale,
                  AttendOutput{nullptr, partial, d}, aligned);
    }
    FenceReleaseDevice();
    Barrier();
    if (ThreadId() == 0) g_split_last[0] = AtomicAddDevice(counters + r * kv_heads + g, 1) == splits - 1;
    Barrier();
    if (g_split_last[0]) {
      FenceAcquireDevice();
      for (int64_t hh = WarpInBlock(); hh < group; hh += WarpsPerBlock()) {
        const int64_t h = g * group + hh;
        CombineSplits(partials + (r * heads + h) * splits * (d + 2), splits, d, Bf16(sinks[h]),
                      out + (r * heads + h) * d);
      }
      if (ThreadId() == 0) AtomicStoreDevice(counters + r * kv_heads + g, 0);
    }
    Barrier();  // g_split_last is rewritten by the next item
  }
}

}  // namespace

UK_BEGIN_EXPORTS

// out[r, :] = table[tokens[r], :] (out-of-range tokens read row 0).
// Thread mapping: element-wise, one thread per output element (r, i),
// grid-stride over rows * hidden.
UK_EXPORT void moec_uk_embedding(const uint16_t* table, const int32_t* tokens, float* out, int64_t rows,
                                 int64_t hidden, int64_t vocab, const int32_t* live) {
  const int64_t total = MoecLiveRows(live, rows) * hidden, stride = GridThreads();
  for (int64_t e = GlobalThread(); e < total; e += stride) {
    const int64_t r = e / hidden, i = e % hidden;
    int64_t token = tokens[r];
    if (token < 0 || token >= vocab) token = 0;  // padding rows; real ids are checked by the runtime
    out[e] = Bf16(table[token * hidden + i]);
  }
}

// Up to three linears over the same (optionally RMS-normalised) rows, one
// output column space [0, n0 + n1 + n2):
// out_i[r, c] = sum_k xn[r, k] w_i[c, k] + b_i[c] (+ res0[r, c] for i = 0).
// Thread mapping: rows in sequence; with `gain`, every block first computes
// the row's RMSNorm into shared memory (block 0 also stores it to
// `normed_out`); then one warp per output column (grid-stride over columns),
// lanes striding over k with 16-byte loads (8 bf16 per lane), a warp sum,
// lane 0 writes. Without `gain`, x is read from global memory directly.
// With kMinTileRows rows or more (prefill), matrix tiles instead
// (Linear3Tiled). With `logits_only` (the unembedding), only the rows whose
// logits are read.
UK_EXPORT void moec_uk_linear3(const float* x, const uint16_t* gain, float eps, int64_t rows, int64_t k,
                               const uint16_t* w0, const uint16_t* b0, const float* res0, float* out0, int64_t n0,
                               const uint16_t* w1, const uint16_t* b1, float* out1, int64_t n1,
                               const uint16_t* w2, const uint16_t* b2, float* out2, int64_t n2, float* normed_out,
                               int64_t logits_only, const int32_t* live) {
  const MoecRowRange computed = MoecLiveRowRange(live, rows, logits_only != 0);
  if (rows >= kMinTileRows) {  // folds away: the code generator's row counts are constants
    Linear3Tiled(x, gain, eps, computed.begin, computed.end, k, w0, b0, res0, out0, n0, w1, b1, out1, n1, w2, b2,
                 out2, n2, normed_out);
    return;
  }
  const bool weights_aligned = (k & 7) == 0 && Aligned16(w0) && (n1 == 0 || Aligned16(w1)) &&
                               (n2 == 0 || Aligned16(w2));
  for (int64_t r = computed.begin; r < computed.end; ++r) {
    if (gain) {
      NormRowToShared(x + r * k, gain, eps, k);
      if (normed_out && BlockId() == 0) {
        for (int64_t i = ThreadId(); i < k; i += BlockSize()) normed_out[r * k + i] = g_row[i];
      }
      Linear3Row(r, static_cast<SFloatPtr>(g_row), k, weights_aligned, w0, b0, res0, out0, n0, w1, b1, out1, n1,
                 w2, b2, out2, n2);
      Barrier();  // g_row is rewritten for the next row
    } else {
      const float* row = x + r * k;
      Linear3Row(r, AsGlobal(row), k, weights_aligned && Aligned16(row), w0, b0, res0, out0, n0, w1, b1, out1, n1,
                 w2, b2, out2, n2);
    }
  }
}

// Router: logits = norm(x) W^T + b, top-k (highest first, lowest index on
// ties), softmax over the k; writes the normalised rows for the experts.
// Thread mapping: one block per row (grid-stride over rows): the block
// normalises the row into shared memory, each warp computes the logits of
// kRouterRowsAtOnce experts at a time (lanes over d with 16-byte loads,
// warp sums) into shared memory, then thread 0 selects the top k and writes
// the weights and indices.
constexpr int kRouterRowsAtOnce = 4;
UK_EXPORT void moec_uk_router(const float* x, const uint16_t* gain, float eps, const uint16_t* w, const uint16_t* b,
                              float* routing_weights, int32_t* indices, float* normed_out, int64_t rows, int64_t d,
                              int64_t experts, int64_t top_k, const int32_t* live) {
  const bool vec = (d & 7) == 0 && Aligned16(w);
  const int64_t live_rows = MoecLiveRows(live, rows);
  for (int64_t r = BlockId(); r < live_rows; r += BlockCount()) {
    NormRowToShared(x + r * d, gain, eps, d);
    if (normed_out) {
      for (int64_t i = ThreadId(); i < d; i += BlockSize()) normed_out[r * d + i] = g_row[i];
    }
    // One block does the whole row, so each warp takes kRouterRowsAtOnce
    // experts at a time (e, e + warps, ...), their weight loads in flight
    // together.
    const int64_t warps = WarpsPerBlock();
    for (int64_t e0 = WarpInBlock(); e0 < experts; e0 += kRouterRowsAtOnce * warps) {
      const uint16_t* expert_rows[kRouterRowsAtOnce];
      for (int n = 0; n < kRouterRowsAtOnce; ++n) {
        expert_rows[n] = e0 + n * warps < experts ? w + (e0 + n * warps) * d : nullptr;
      }
      float share[kRouterRowsAtOnce];
      if (vec) {
        DotBf16LaneRows(expert_rows, static_cast<SFloatPtr>(g_row), d, share);
      } else {
        for (int n = 0; n < kRouterRowsAtOnce; ++n) {
          share[n] = expert_rows[n] ? DotBf16Lane(expert_rows[n], static_cast<SFloatPtr>(g_row), d, false) : 0.0f;
        }
      }
      for (int n = 0; n < kRouterRowsAtOnce; ++n) {
        const int64_t e = e0 + n * warps;
        const float dot = WarpSum(share[n]);
        if (Lane() == 0 && e < experts) g_logits[e] = dot + Bf16(b[e]);
      }
    }
    Barrier();
    if (ThreadId() == 0) {
      // The j-th choice is the best of those ranked after the (j-1)-th in
      // the order (logit descending, index ascending).
      for (int64_t j = 0; j < top_k; ++j) {
        int64_t best = -1;
        for (int64_t e = 0; e < experts; ++e) {
          if (j > 0) {
            const float prev = g_logits[g_chosen[j - 1]];
            if (!(g_logits[e] < prev || (g_logits[e] == prev && e > g_chosen[j - 1]))) continue;
          }
          if (best < 0 || g_logits[e] > g_logits[best]) best = e;
        }
        g_chosen[j] = static_cast<int32_t>(best);
      }
      const float top = g_logits[g_chosen[0]];
      float sum = 0;
      for (int64_t j = 0; j < top_k; ++j) sum += Exp(g_logits[g_chosen[j]] - top);
      for (int64_t j = 0; j < top_k; ++j) {
        routing_weights[r * top_k + j] = Exp(g_logits[g_chosen[j]] - top) / sum;
        indices[r * top_k + j] = g_chosen[j];
      }
    }
    Barrier();  // shared rows and logits are rewritten for the next row
  }
}

// YaRN RoPE, half-split pairs: out = rotate(x) for each head of each row;
// rows with a negative position are copied unchanged.
// Thread mapping: element-wise, one thread per rotated pair (r, head, i),
// grid-stride over rows * (width / head_dim) * head_dim / 2; the angle is
// reduced in double, sin/cos are float polynomials.
UK_EXPORT void moec_uk_rope(const float* x, const int32_t* positions, float* out, int64_t rows, int64_t width,
                            int64_t head_dim, const float* inv_freq, float concentration, const int32_t* live) {
  const int64_t half = head_dim / 2, heads = width / head_dim;
  const int64_t total = MoecLiveRows(live, rows) * heads * half, stride = GridThreads();
  for (int64_t e = GlobalThread(); e < total; e += stride) {
    const int64_t i = e % half, h = (e / half) % heads, r = e / (half * heads);
    const int64_t at = r * width + h * head_dim + i;
    const float x1 = x[at], x2 = x[at + half];
    const int32_t p = positions[r];
    if (p < 0) {
      out[at] = x1;
      out[at + half] = x2;
      continue;
    }
    float s, c;
    SinCos(static_cast<double>(p) * inv_freq[i], &s, &c);
    c *= concentration;
    s *= concentration;
    out[at] = x1 * c - x2 * s;
    out[at + half] = x2 * c + x1 * s;
  }
}

// Attention with sinks, an optional sliding window (0 = none) and GQA over a
// KV cache [slots, capacity, G, d] kept as a ring (position p at p mod
// capacity; the compiler sizes windowed rings so that no append of this call
// overwrites a key it still reads). Each (row, KV head) appends its row's key
// and value to the cache and reads the keys of the other rows of the same
// chunk (consecutive rows, consecutive positions) from the key/value inputs,
// so no block depends on another's cache writes.
// Thread mapping: one block per (row, KV head), grid-stride over
// rows * kv_heads; the block copies the key/value into the cache, then one
// warp per query head of the group (warps stride over the group), walking
// the keys in tiles of one key per lane (head dimensions 64 and 128,
// AttendKeyTiles) or one key at a time (others up to 512, AttendKeyByKey).
// Long contexts at decode use the split-KV forms below.
UK_EXPORT void moec_uk_attention(const float* q, const float* k, const float* v, const uint16_t* sinks,
                                 float* key_cache, float* value_cache, const int32_t* slots, const int32_t* positions,
                                 float* out, int64_t rows, int64_t heads, int64_t kv_heads, int64_t d,
                                 int64_t capacity, int64_t window, float scale, int64_t one_sequence,
                                 const int32_t* live) {
  Attention<F32Cache>(q, k, v, sinks, key_cache, value_cache, slots, positions, out, rows, heads, kv_heads, d,
                      capacity, window, scale, one_sequence != 0, nullptr, 1, live);
}

// The same with bf16 caches (the GPU targets' default).
UK_EXPORT void moec_uk_attention_bf16_cache(const float* q, const float* k, const float* v, const uint16_t* sinks,
                                            uint16_t* key_cache, uint16_t* value_cache, const int32_t* slots,
                                            const int32_t* positions, float* out, int64_t rows, int64_t heads,
                                            int64_t kv_heads, int64_t d, int64_t capacity, int64_t window,
                                            float scale, int64_t one_sequence, const int32_t* live) {
  Attention<Bf16Cache>(q, k, v, sinks, key_cache, value_cache, slots, positions, out, rows, heads, kv_heads, d,
                       capacity, window, scale, one_sequence != 0, nullptr, 1, live);
}

// Split-KV forms (GPU only; the schedule picks them for decode): the keys of
// each (row, KV head) in `splits` shares over as many blocks, combined by the
// last; `workspace` holds MOEC_SPLIT_KV_COUNTERS u32 counters, zero before
// the launch (and zero again after it), then rows * heads * splits * (d + 2)
// floats of partial results.
UK_EXPORT void moec_uk_attention_split(const float* q, const float* k, const float* v, const uint16_t* sinks,
                                       float* key_cache, float* value_cache, const int32_t* slots,
                                       const int32_t* positions, float* out, int64_t rows, int64_t heads,
                                       int64_t kv_heads, int64_t d, int64_t capacity, int64_t window, float scale,
                                       int64_t one_sequence, float* workspace, int64_t splits, const int32_t* live) {
  Attention<F32Cache>(q, k, v, sinks, key_cache, value_cache, slots, positions, out, rows, heads, kv_heads, d,
                      capacity, window, scale, one_sequence != 0, workspace, splits, live);
}

UK_EXPORT void moec_uk_attention_bf16_cache_split(const float* q, const float* k, const float* v,
                                                  const uint16_t* sinks, uint16_t* key_cache, uint16_t* value_cache,
                                                  const int32_t* slots, const int32_t* positions, float* out,
                                                  int64_t rows, int64_t heads, int64_t kv_heads, int64_t d,
                                                  int64_t capacity, int64_t window, float scale,
                                                  int64_t one_sequence, float* workspace, int64_t splits,
                                                  const int32_t* live) {
  Attention<Bf16Cache>(q, k, v, sinks, key_cache, value_cache, slots, positions, out, rows, heads, kv_heads, d,
                       capacity, window, scale, one_sequence != 0, workspace, splits, live);
}

// Routed gate_up with the clamped SwiGLU epilogue:
// activation[r, j, i] = swish(min(gate, limit)) * (clamp(lin, -limit, limit) + 1)
// with gate row 2i and linear row 2i+1 of expert indices[r, j]; rows of an
// invalid expert index are left untouched.
// Thread mapping: one warp per output (r, j, i), grid-stride over
// rows * top_k * intermediate (consecutive warps read consecutive weight
// rows); lane l takes MXFP4 blocks l, l + warp size, ... of both rows (one
// 16-byte load each, sharing the x loads), two warp sums, lane 0 writes.
// With kMinTileRows rows or more (prefill), rows grouped by expert in
// matrix tiles instead (ExpertGateUpTiled).
UK_EXPORT void moec_uk_expert_gate_up(const float* x, const int32_t* indices, const uint8_t* weight,
                                      const uint16_t* bias, float* activation, int64_t rows, int64_t top_k,
                                      int64_t d, int64_t intermediate, int64_t experts, float limit, float alpha,
                                      const int32_t* live) {
  const int64_t live_rows = MoecLiveRows(live, rows);
  if (rows >= kMinTileRows) {
    ExpertGateUpTiled(x, indices, weight, bias, activation, live_rows, top_k, d, intermediate, experts, limit,
                      alpha);
    return;
  }
  const int64_t out_rows = 2 * intermediate;
  const int64_t blocks_per_row = d / 32;
  const uint8_t* scales = weight + experts * out_rows * blocks_per_row * 16;
  const int64_t total = live_rows * top_k * intermediate, stride = GridWarps();
  for (int64_t u = GlobalWarp(); u < total; u += stride) {
    const int64_t i = u % intermediate, rj = u / intermediate, r = rj / top_k;
    const int64_t e = indices[rj];
    if (e < 0 || e >= experts) continue;
    const int64_t gate_row = e * out_rows + 2 * i, lin_row = gate_row + 1;
    // Both rows are adjacent: one pass over the blocks computes both dots.
    const GFloatPtr xr = AsGlobal(x + r * d);
    const uint8_t* gate_blocks = weight + gate_row * blocks_per_row * 16;
    const uint8_t* lin_blocks = weight + lin_row * blocks_per_row * 16;
    float gate_part = 0, lin_part = 0;
    // Two rows per step: kLoadsInFlight steps' blocks of both loaded together.
    constexpr int kSteps = kLoadsInFlight;
    for (int64_t b0 = Lane(); b0 < blocks_per_row; b0 += kSteps * kWarpSize) {
      uk_u32x4 gq[kSteps], lq[kSteps];
      uint8_t gs[kSteps], ls[kSteps];
#pragma unroll
      for (int u = 0; u < kSteps; ++u) {
        const int64_t b = b0 + u * kWarpSize;
        const bool in = b < blocks_per_row;
        gq[u] = in ? LoadGlobalU32x4(gate_blocks + b * 16) : uk_u32x4{0, 0, 0, 0};
        lq[u] = in ? LoadGlobalU32x4(lin_blocks + b * 16) : uk_u32x4{0, 0, 0, 0};
        gs[u] = in ? LoadGlobalU8(scales + gate_row * blocks_per_row + b) : 0;
        ls[u] = in ? LoadGlobalU8(scales + lin_row * blocks_per_row + b) : 0;
      }
#pragma unroll
      for (int u = 0; u < kSteps; ++u) {
        const int64_t b = b0 + u * kWarpSize;
        if (b >= blocks_per_row) break;
        const GFloatPtr xb = xr + b * 32;
        float gsum = 0, lsum = 0;
#pragma unroll
        for (int t = 0; t < 4; ++t) {
          const uk_f32x4 x0 = LoadF32x4(xb + 8 * t), x1 = LoadF32x4(xb + 8 * t + 4);
          const float xs[8] = {x0.x, x0.y, x0.z, x0.w, x1.x, x1.y, x1.z, x1.w};
          const uint32_t gw = gq[u][t], lw = lq[u][t];
#pragma unroll
          for (int n = 0; n < 8; ++n) {
            gsum += E2M1x2(gw >> (4 * n)) * xs[n];
            lsum += E2M1x2(lw >> (4 * n)) * xs[n];
          }
        }
        gate_part += gsum * (0.5f * E8M0(gs[u]));
        lin_part += lsum * (0.5f * E8M0(ls[u]));
      }
    }
    float glu = WarpSum(gate_part);
    float lin = WarpSum(lin_part);
    if (Lane() == 0) {
      glu += Bf16(bias[e * out_rows + 2 * i]);
      lin += Bf16(bias[e * out_rows + 2 * i + 1]);
      glu = glu < limit ? glu : limit;
      lin = lin < -limit ? -limit : (lin > limit ? limit : lin);
      const float swish = glu / (1.0f + Exp(-alpha * glu));
      activation[u] = swish * (lin + 1.0f);
    }
  }
}

// Routed down with the bias and the weighted combine, plus the residual:
// out[r, c] = residual[r, c] + sum_j w[r, j] (down[e] a[r, j] + b[e])[c].
// Thread mapping: one warp per output (r, c), grid-stride over rows * d;
// lane l takes MXFP4 blocks l, l + warp size, ... of row c of each chosen
// expert (16-byte loads), weighted by the routing weight, one warp sum for
// all k experts, lane 0 adds the biases and the residual and writes.
// With kMinTileRows rows or more (prefill), matrix tiles per output tile
// instead (ExpertDownTiled).
UK_EXPORT void moec_uk_expert_down(const float* activation, const float* routing_weights, const int32_t* indices,
                                   const uint8_t* weight, const uint16_t* bias, const float* residual, float* out,
                                   int64_t rows, int64_t top_k, int64_t intermediate, int64_t d, int64_t experts,
                                   const int32_t* live) {
  const int64_t live_rows = MoecLiveRows(live, rows);
  if (rows >= kMinTileRows) {
    ExpertDownTiled(activation, routing_weights, indices, weight, bias, residual, out, live_rows, top_k,
                    intermediate, d, experts);
    return;
  }
  const int64_t blocks_per_row = intermediate / 32;
  const uint8_t* scales = weight + experts * d * blocks_per_row * 16;
  const int64_t total = live_rows * d, stride = GridWarps();
  for (int64_t u = GlobalWarp(); u < total; u += stride) {
    const int64_t r = u / d, c = u % d;
    float part = 0, biases = 0;
    for (int64_t j = 0; j < top_k; ++j) {
      const int64_t e = indices[r * top_k + j];
      if (e < 0 || e >= experts) continue;
      const float rw = routing_weights[r * top_k + j];
      const int64_t row = e * d + c;
      part += rw * DotMxfp4Lane(weight + row * blocks_per_row * 16, scales + row * blocks_per_row,
                                AsGlobal(activation + (r * top_k + j) * intermediate), blocks_per_row);
      biases += rw * Bf16(bias[row]);
    }
    const float sum = WarpSum(part);
    if (Lane() == 0) out[u] = (residual ? residual[u] : 0.0f) + sum + biases;
  }
}

// out = a + b over the live rows (n elements in `rows` rows). Thread
// mapping: element-wise, grid-stride.
UK_EXPORT void moec_uk_add(const float* a, const float* b, float* out, int64_t n, int64_t rows,
                           const int32_t* live) {
  const int64_t stride = GridThreads(), live_n = n / rows * MoecLiveRows(live, rows);
  for (int64_t i = GlobalThread(); i < live_n; i += stride) out[i] = a[i] + b[i];
}

UK_END_EXPORTS
