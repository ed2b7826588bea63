// Numerics of the GPU microkernels (targets/ukernels/gpu/ukernels.cpp), run
// on the host under the SIMT emulator with 32-lane warps (NVIDIA's, with
// butterfly shuffles) and 64-lane wavefronts (AMD's, with DPP, ds_swizzle
// and readlane), against their CPU twins (targets/ukernels/cpu/ukernels.cpp).
//
// What this checks: the kernel bodies shared by sm_90a and gfx942 (thread
// mapping, grid-stride loops, shared-memory use and barriers, the warp sums
// built from the cross-lane primitives, MXFP4/bf16 decoding, the attention
// ring and window logic, the matrix-tile path with the warp-matrix fragment
// layouts) compute what the CPU kernels compute. What it cannot check: the
// instructions that implement the primitives on real hardware (shfl.sync,
// DPP, ds_swizzle, mma.sync, v_mfma), the hardware exp2 approximation, and
// anything about timing or memory ordering between blocks.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/numeric_formats.h"
#include "simt_host.h"
#include "targets/ukernels/common/attention_rows.h"

// The CPU microkernels: the GPU ones' parameters plus (workgroup, workgroups).
extern "C" {
void moec_uk_embedding(const uint16_t*, const int32_t*, float*, int64_t, int64_t, int64_t, const int32_t*, int64_t,
                       int64_t);
void moec_uk_linear3(const float*, const uint16_t*, float, int64_t, int64_t, const uint16_t*, const uint16_t*,
                     const float*, float*, int64_t, const uint16_t*, const uint16_t*, float*, int64_t,
                     const uint16_t*, const uint16_t*, float*, int64_t, float*, int64_t, const int32_t*, int64_t,
                     int64_t);
void moec_uk_router(const float*, const uint16_t*, float, const uint16_t*, const uint16_t*, float*, int32_t*, float*,
                    int64_t, int64_t, int64_t, int64_t, const int32_t*, int64_t, int64_t);
void moec_uk_rope(const float*, const int32_t*, float*, int64_t, int64_t, int64_t, const float*, float,
                  const int32_t*, int64_t, int64_t);
void moec_uk_attention(const float*, const float*, const float*, const uint16_t*, float*, float*, const int32_t*,
                       const int32_t*, float*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, float, int64_t,
                       const int32_t*, int64_t, int64_t);
void moec_uk_attention_bf16_cache(const float*, const float*, const float*, const uint16_t*, uint16_t*, uint16_t*,
                                  const int32_t*, const int32_t*, float*, int64_t, int64_t, int64_t, int64_t, int64_t,
                                  int64_t, float, int64_t, const int32_t*, int64_t, int64_t);
void moec_uk_expert_gate_up(const float*, const int32_t*, const uint8_t*, const uint16_t*, float*, int64_t, int64_t,
                            int64_t, int64_t, int64_t, float, float, const int32_t*, int64_t, int64_t);
void moec_uk_expert_down(const float*, const float*, const int32_t*, const uint8_t*, const uint16_t*, const float*,
                         float*, int64_t, int64_t, int64_t, int64_t, int64_t, const int32_t*, int64_t, int64_t);
void moec_uk_add(const float*, const float*, float*, int64_t, int64_t, const int32_t*, int64_t, int64_t);
}

// The GPU microkernels as the two emulator builds export them.
#define MOEC_DECLARE_GPU_UKERNELS(ns)                                                                              \
  namespace ns {                                                                                                   \
  void moec_uk_embedding(const uint16_t*, const int32_t*, float*, int64_t, int64_t, int64_t, const int32_t*);      \
  void moec_uk_linear3(const float*, const uint16_t*, float, int64_t, int64_t, const uint16_t*, const uint16_t*,   \
                       const float*, float*, int64_t, const uint16_t*, const uint16_t*, float*, int64_t,           \
                       const uint16_t*, const uint16_t*, float*, int64_t, float*, int64_t, const int32_t*);        \
  void moec_uk_router(const float*, const uint16_t*, float, const uint16_t*, const uint16_t*, float*, int32_t*,    \
                      float*, int64_t, int64_t, int64_t, int64_t, const int32_t*);                                 \
  void moec_uk_rope(const float*, const int32_t*, float*, int64_t, int64_t, int64_t, const float*, float,          \
                    const int32_t*);                                                                               \
  void moec_uk_attention(const float*, const float*, const float*, const uint16_t*, float*, float*,                \
                         const int32_t*, const int32_t*, float*, int64_t, int64_t, int64_t, int64_t, int64_t,      \
                         int64_t, float, int64_t, const int32_t*);                                                 \
  void moec_uk_attention_bf16_cache(const float*, const float*, const float*, const uint16_t*, uint16_t*,          \
                                    uint16_t*, const int32_t*, const int32_t*, float*, int64_t, int64_t, int64_t,  \
                                    int64_t, int64_t, int64_t, float, int64_t, const int32_t*);                    \
  void moec_uk_attention_split(const float*, const float*, const float*, const uint16_t*, float*, float*,          \
                               const int32_t*, const int32_t*, float*, int64_t, int64_t, int64_t, int64_t,         \
                               int64_t, int64_t, float, int64_t, float*, int64_t, const int32_t*);                 \
  void moec_uk_attention_bf16_cache_split(const float*, const float*, const float*, const uint16_t*, uint16_t*,    \
                                          uint16_t*, const int32_t*, const int32_t*, float*, int64_t, int64_t,     \
                                          int64_t, int64_t, int64_t, int64_t, float, int64_t, float*, int64_t,     \
                                          const int32_t*);                                                         \
  void moec_uk_expert_gate_up(const float*, const int32_t*, const uint8_t*, const uint16_t*, float*, int64_t,      \
                              int64_t, int64_t, int64_t, int64_t, float, float, const int32_t*);                   \
  void moec_uk_expert_down(const float*, const float*, const int32_t*, const uint8_t*, const uint16_t*,            \
                           const float*, float*, int64_t, int64_t, int64_t, int64_t, int64_t, const int32_t*);     \
  void moec_uk_add(const float*, const float*, float*, int64_t, int64_t, const int32_t*);                           \
  }
MOEC_DECLARE_GPU_UKERNELS(warp32)
MOEC_DECLARE_GPU_UKERNELS(warp64)

namespace {

struct GpuUkernels {
  int64_t warp_size;
  decltype(&warp32::moec_uk_embedding) embedding;
  decltype(&warp32::moec_uk_linear3) linear3;
  decltype(&warp32::moec_uk_router) router;
  decltype(&warp32::moec_uk_rope) rope;
  decltype(&warp32::moec_uk_attention) attention;
  decltype(&warp32::moec_uk_attention_bf16_cache) attention_bf16_cache;
  decltype(&warp32::moec_uk_attention_split) attention_split;
  decltype(&warp32::moec_uk_attention_bf16_cache_split) attention_bf16_cache_split;
  decltype(&warp32::moec_uk_expert_gate_up) expert_gate_up;
  decltype(&warp32::moec_uk_expert_down) expert_down;
  decltype(&warp32::moec_uk_add) add;
};

#define MOEC_GPU_UKERNELS(ns, warp)                                                                   \
  GpuUkernels {                                                                                        \
    warp, ns::moec_uk_embedding, ns::moec_uk_linear3, ns::moec_uk_router, ns::moec_uk_rope,           \
        ns::moec_uk_attention, ns::moec_uk_attention_bf16_cache, ns::moec_uk_attention_split,         \
        ns::moec_uk_attention_bf16_cache_split, ns::moec_uk_expert_gate_up, ns::moec_uk_expert_down, \
        ns::moec_uk_add                                                                                \
  }

void PrintTo(const GpuUkernels& k, std::ostream* os) { *os << k.warp_size << "-lane warps"; }

// A grid shape: (blocks, warps per block).
struct Grid {
  int64_t blocks, warps;
};
// One warp alone; and several multi-warp blocks (grid-stride loops, block
// reductions and barriers across warps).
const Grid kGrids[] = {{1, 1}, {3, 4}};

// Runs `body` as a kernel on the emulator and fails the test on a launch
// error (divergence, deadlock).
template <typename Body>
void Launch(const GpuUkernels& k, const Grid& grid, Body body) {
  const char* error = moec::simt::Launch(
      grid.blocks, grid.warps * k.warp_size, k.warp_size,
      [](void* context) { (*static_cast<Body*>(context))(); }, &body);
  ASSERT_STREQ(error, "") << "grid " << grid.blocks << " x " << grid.warps << " warps";
}

std::vector<float> RandomFloats(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<uint16_t> RandomBf16(size_t n, float lo, float hi, uint32_t seed) {
  std::vector<uint16_t> v(n);
  const std::vector<float> f = RandomFloats(n, lo, hi, seed);
  for (size_t i = 0; i < n; ++i) v[i] = moert::FloatToBf16(f[i]);
  return v;
}

// An MXFP4 weight of `rows` rows of `k` values: random codes, then scales
// around 2^-3.
std::vector<uint8_t> RandomMxfp4(int64_t rows, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  const int64_t blocks = rows * (k / 32);
  std::vector<uint8_t> v(static_cast<size_t>(blocks * 17));
  for (int64_t i = 0; i < blocks * 16; ++i) v[i] = static_cast<uint8_t>(rng());
  for (int64_t i = 0; i < blocks; ++i) v[blocks * 16 + i] = static_cast<uint8_t>(122 + rng() % 4);
  return v;
}

// An attention call's inputs: queries [rows, heads, d], the chunk's keys and
// values [rows, kv_heads, d], the sinks [heads]; seeds seed, seed + 1, ...
struct AttentionInputs {
  std::vector<float> q, key, value;
  std::vector<uint16_t> sinks;
};
AttentionInputs RandomAttentionInputs(int64_t rows, int64_t heads, int64_t kv_heads, int64_t d, uint32_t seed) {
  return {RandomFloats(rows * heads * d, -1, 1, seed), RandomFloats(rows * kv_heads * d, -1, 1, seed + 1),
          RandomFloats(rows * kv_heads * d, -1, 1, seed + 2), RandomBf16(heads, -1, 1, seed + 3)};
}

// Largest difference relative to the reference's largest magnitude (at
// least 1): sums in another order differ in the last bits only.
void ExpectClose(const std::vector<float>& got, const std::vector<float>& want, double tolerance,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 1, worst = 0;
  size_t worst_at = 0;
  for (float w : want) scale = std::max(scale, static_cast<double>(std::fabs(w)));
  for (size_t i = 0; i < got.size(); ++i) {
    const double diff = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (!(diff <= worst)) worst = diff, worst_at = i;
  }
  EXPECT_LE(worst / scale, tolerance) << what << ": element " << worst_at << " is " << got[worst_at] << ", want "
                                      << want[worst_at];
}

constexpr double kTolerance = 2e-6;
// The matrix tiles multiply activations split into two bf16 terms (16
// significant bits): each product is within ~2^-17 of fp32's.
constexpr double kTileTolerance = 3e-5;
// ukernels.cpp's kMinTileRows: from this many rows on, the matrix tiles.
constexpr int64_t kMinTileRows = 16;

// What a kernel must leave in the rows it does not compute.
constexpr float kUntouched = 1234.5f;

// Rows of `width` values: rows [begin, end) of `got` match `want` (a call
// over every row), the rest still hold kUntouched.
void ExpectLiveRows(const std::vector<float>& got, const std::vector<float>& want, int64_t width, int64_t begin,
                    int64_t end, double tolerance, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  const int64_t rows = static_cast<int64_t>(got.size()) / width;
  for (int64_t r = 0; r < rows; ++r) {
    const std::vector<float> row(got.begin() + r * width, got.begin() + (r + 1) * width);
    if (r >= begin && r < end) {
      ExpectClose(row, std::vector<float>(want.begin() + r * width, want.begin() + (r + 1) * width), tolerance,
                  what + ", live row " + std::to_string(r));
    } else {
      EXPECT_EQ(row, std::vector<float>(width, kUntouched)) << what << ": row " << r << " is not live";
    }
  }
}

class GpuUkernelsEmulated : public ::testing::TestWithParam<GpuUkernels> {};

TEST_P(GpuUkernelsEmulated, Embedding) {
  const GpuUkernels& k = GetParam();
  const int64_t rows = 5, hidden = 72, vocab = 11;
  const std::vector<uint16_t> table = RandomBf16(vocab * hidden, -1, 1, 1);
  const std::vector<int32_t> tokens = {3, 0, 10, -1, 7};
  std::vector<float> want(rows * hidden);
  moec_uk_embedding(table.data(), tokens.data(), want.data(), rows, hidden, vocab, nullptr, 0, 1);
  for (const Grid& grid : kGrids) {
    std::vector<float> got(rows * hidden, -9);
    Launch(k, grid, [&] { k.embedding(table.data(), tokens.data(), got.data(), rows, hidden, vocab, nullptr); });
    EXPECT_EQ(got, want);
  }
}

// Three outputs, a residual on the first; with and without the RMSNorm, and
// with k a multiple of 8 (16-byte loads) or not (scalar loads); 3 rows (one
// warp per output) and 70 rows (matrix tiles: two row and two column tiles,
// both partial, and k not a multiple of the 32-deep K step).
TEST_P(GpuUkernelsEmulated, Linear3) {
  const GpuUkernels& k = GetParam();
  for (const int64_t rows : {int64_t{3}, int64_t{70}}) {
    for (const int64_t depth : {int64_t{96}, int64_t{44}}) {
      for (const bool norm : {true, false}) {
        const int64_t n0 = 40, n1 = 8, n2 = 24;
        const std::vector<float> x = RandomFloats(rows * depth, -2, 2, 2);
        const std::vector<uint16_t> gain = RandomBf16(depth, 0.8f, 1.2f, 3);
        const std::vector<uint16_t> w0 = RandomBf16(n0 * depth, -0.2f, 0.2f, 4),
                                    w1 = RandomBf16(n1 * depth, -1, 1, 5), w2 = RandomBf16(n2 * depth, -1, 1, 6);
        const std::vector<uint16_t> b0 = RandomBf16(n0, -1, 1, 7), b1 = RandomBf16(n1, -1, 1, 8),
                                    b2 = RandomBf16(n2, -1, 1, 9);
        const std::vector<float> res = RandomFloats(rows * n0, -1, 1, 10);
        const uint16_t* g = norm ? gain.data() : nullptr;
        std::vector<float> want0(rows * n0), want1(rows * n1), want2(rows * n2), want_norm(rows * depth);
        moec_uk_linear3(x.data(), g, 1e-5f, rows, depth, w0.data(), b0.data(), res.data(), want0.data(), n0,
                        w1.data(), b1.data(), want1.data(), n1, w2.data(), b2.data(), want2.data(), n2,
                        norm ? want_norm.data() : nullptr, 0, nullptr, 0, 1);
        for (const Grid& grid : kGrids) {
          std::vector<float> got0(rows * n0), got1(rows * n1), got2(rows * n2), got_norm(rows * depth);
          Launch(k, grid, [&] {
            k.linear3(x.data(), g, 1e-5f, rows, depth, w0.data(), b0.data(), res.data(), got0.data(), n0, w1.data(),
                      b1.data(), got1.data(), n1, w2.data(), b2.data(), got2.data(), n2,
                      norm ? got_norm.data() : nullptr, 0, nullptr);
          });
          const std::string what =
              std::to_string(rows) + " rows, k " + std::to_string(depth) + (norm ? ", normed" : "");
          const double tolerance = rows >= kMinTileRows ? kTileTolerance : kTolerance;
          ExpectClose(got0, want0, tolerance, what + " out0");
          ExpectClose(got1, want1, tolerance, what + " out1");
          ExpectClose(got2, want2, tolerance, what + " out2");
          if (norm) ExpectClose(got_norm, want_norm, kTolerance, what + " normed rows");
        }
      }
    }
  }
}

TEST_P(GpuUkernelsEmulated, Router) {
  const GpuUkernels& k = GetParam();
  const int64_t rows = 4, d = 64, experts = 32, top_k = 4;
  const std::vector<float> x = RandomFloats(rows * d, -2, 2, 11);
  const std::vector<uint16_t> gain = RandomBf16(d, 0.8f, 1.2f, 12), w = RandomBf16(experts * d, -0.3f, 0.3f, 13),
                              b = RandomBf16(experts, -0.5f, 0.5f, 14);
  std::vector<float> want_weights(rows * top_k), want_norm(rows * d);
  std::vector<int32_t> want_indices(rows * top_k);
  moec_uk_router(x.data(), gain.data(), 1e-5f, w.data(), b.data(), want_weights.data(), want_indices.data(),
                 want_norm.data(), rows, d, experts, top_k, nullptr, 0, 1);
  for (const Grid& grid : kGrids) {
    std::vector<float> got_weights(rows * top_k), got_norm(rows * d);
    std::vector<int32_t> got_indices(rows * top_k);
    Launch(k, grid, [&] {
      k.router(x.data(), gain.data(), 1e-5f, w.data(), b.data(), got_weights.data(), got_indices.data(),
               got_norm.data(), rows, d, experts, top_k, nullptr);
    });
    EXPECT_EQ(got_indices, want_indices);
    ExpectClose(got_weights, want_weights, 1e-5, "routing weights");
    ExpectClose(got_norm, want_norm, kTolerance, "normed rows");
  }
}

TEST_P(GpuUkernelsEmulated, Rope) {
  const GpuUkernels& k = GetParam();
  const int64_t rows = 4, head_dim = 64, width = 3 * head_dim;
  const std::vector<float> x = RandomFloats(rows * width, -2, 2, 15);
  const std::vector<int32_t> positions = {0, 17, -1, 131071};
  std::vector<float> inv_freq(head_dim / 2);
  for (int64_t i = 0; i < head_dim / 2; ++i) inv_freq[i] = std::pow(150000.0f, -2.0f * i / head_dim);
  std::vector<float> want(rows * width);
  moec_uk_rope(x.data(), positions.data(), want.data(), rows, width, head_dim, inv_freq.data(), 1.35f, nullptr, 0, 1);
  for (const Grid& grid : kGrids) {
    std::vector<float> got(rows * width);
    Launch(k, grid, [&] {
      k.rope(x.data(), positions.data(), got.data(), rows, width, head_dim, inv_freq.data(), 1.35f, nullptr);
    });
    // Float polynomials for sin/cos against libm's: a few ulp.
    ExpectClose(got, want, 2e-6, "rope");
  }
}

// A chunk that continues a cached sequence in slot 0, a new sequence in slot
// 1 and a padding row; with a full cache, and with a sliding window over a
// ring that has wrapped.
TEST_P(GpuUkernelsEmulated, Attention) {
  const GpuUkernels& k = GetParam();
  struct Case {
    int64_t d, capacity, window;
    std::vector<int32_t> positions;
  };
  // Head dimensions 64 and 128 take the key-per-lane tiles, 40 the
  // key-by-key walk; long contexts span several tiles, and a window reaches
  // back across the ring's wrap.
  const Case cases[] = {
      {64, 16, 0, {3, 4, 5, 0, 1, -1}},   {40, 16, 0, {3, 4, 5, 0, 1, -1}},
      {64, 8, 4, {9, 10, 11, 0, 1, -1}},  {64, 80, 0, {70, 71, 72, 0, 1, -1}},
      {128, 80, 0, {70, 71, 72, 5, 6, -1}}, {64, 48, 40, {100, 101, 102, 30, 31, -1}},
      {40, 48, 40, {100, 101, 102, 30, 31, -1}},
  };
  for (const Case& c : cases) {
    const int64_t rows = 6, heads = 4, kv_heads = 2, slots_count = 2, d = c.d;
    const std::vector<int32_t> slots = {0, 0, 0, 1, 1, 0};
    const AttentionInputs in = RandomAttentionInputs(rows, heads, kv_heads, d, 16);
    const std::vector<float>& q = in.q;
    const std::vector<float>& key = in.key;
    const std::vector<float>& value = in.value;
    const std::vector<uint16_t>& sinks = in.sinks;
    const std::vector<float> key_cache = RandomFloats(slots_count * c.capacity * kv_heads * d, -1, 1, 20),
                             value_cache = RandomFloats(slots_count * c.capacity * kv_heads * d, -1, 1, 21);
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    const std::string what = "d " + std::to_string(d) + " window " + std::to_string(c.window);
    std::vector<float> want(rows * heads * d, 0), want_k = key_cache, want_v = value_cache;
    moec_uk_attention(q.data(), key.data(), value.data(), sinks.data(), want_k.data(), want_v.data(), slots.data(),
                      c.positions.data(), want.data(), rows, heads, kv_heads, d, c.capacity, c.window, scale, 0, nullptr, 0,
                      1);
    // bf16 caches: the same cache contents, rounded.
    const std::vector<uint16_t> key_cache16 = RandomBf16(key_cache.size(), -1, 1, 20),
                                value_cache16 = RandomBf16(value_cache.size(), -1, 1, 21);
    std::vector<float> want16(rows * heads * d, 0);
    std::vector<uint16_t> want_k16 = key_cache16, want_v16 = value_cache16;
    moec_uk_attention_bf16_cache(q.data(), key.data(), value.data(), sinks.data(), want_k16.data(), want_v16.data(),
                                 slots.data(), c.positions.data(), want16.data(), rows, heads, kv_heads, d,
                                 c.capacity, c.window, scale, 0, nullptr, 0, 1);
    for (const Grid& grid : kGrids) {
      std::vector<float> got(rows * heads * d, 0), got_k = key_cache, got_v = value_cache;
      Launch(k, grid, [&] {
        k.attention(q.data(), key.data(), value.data(), sinks.data(), got_k.data(), got_v.data(), slots.data(),
                    c.positions.data(), got.data(), rows, heads, kv_heads, d, c.capacity, c.window, scale, 0, nullptr);
      });
      ExpectClose(got, want, 1e-5, what + " output");
      EXPECT_EQ(got_k, want_k) << what;
      EXPECT_EQ(got_v, want_v) << what;

      std::vector<float> got16(rows * heads * d, 0);
      std::vector<uint16_t> got_k16 = key_cache16, got_v16 = value_cache16;
      Launch(k, grid, [&] {
        k.attention_bf16_cache(q.data(), key.data(), value.data(), sinks.data(), got_k16.data(), got_v16.data(),
                               slots.data(), c.positions.data(), got16.data(), rows, heads, kv_heads, d, c.capacity,
                               c.window, scale, 0, nullptr);
      });
      ExpectClose(got16, want16, 1e-5, what + " output, bf16 caches");
      EXPECT_EQ(got_k16, want_k16) << what << ", bf16 caches";
      EXPECT_EQ(got_v16, want_v16) << what << ", bf16 caches";
      // Split-KV: the keys in shares over blocks, combined by the last; the
      // counters are back at zero afterwards. 7 splits leave some empty.
      for (const int64_t splits : {int64_t{2}, int64_t{5}}) {
        // Room for the first launch's splits + 2.
        const size_t partial_floats = static_cast<size_t>(rows * heads * (splits + 2) * (d + 2));
        std::vector<float> workspace(MOEC_SPLIT_KV_COUNTERS + partial_floats, 0.0f);
        std::vector<float> got_split(rows * heads * d, 0), got_ks = key_cache, got_vs = value_cache;
        Launch(k, grid, [&] {
          k.attention_split(q.data(), key.data(), value.data(), sinks.data(), got_ks.data(), got_vs.data(),
                            slots.data(), c.positions.data(), got_split.data(), rows, heads, kv_heads, d, c.capacity,
                            c.window, scale, 0, workspace.data(), splits + 2, nullptr);
        });
        const std::string split_what = what + ", " + std::to_string(splits + 2) + " then " + std::to_string(splits) +
                                       " splits";
        ExpectClose(got_split, want, 1e-5, split_what);
        EXPECT_EQ(got_ks, want_k) << split_what;
        EXPECT_EQ(std::vector<float>(workspace.begin(), workspace.begin() + MOEC_SPLIT_KV_COUNTERS),
                  std::vector<float>(MOEC_SPLIT_KV_COUNTERS, 0.0f))
            << split_what << ": counters";
        // The same workspace, partial results left behind, for the bf16 form
        // with fewer splits (another layout of partial results, as another
        // kernel of the artifact has): only the counters must be zero, and
        // they must not move into the other layout's partial results.
        std::vector<float> got_split16(rows * heads * d, 0);
        std::vector<uint16_t> got_ks16 = key_cache16, got_vs16 = value_cache16;
        Launch(k, grid, [&] {
          k.attention_bf16_cache_split(q.data(), key.data(), value.data(), sinks.data(), got_ks16.data(),
                                       got_vs16.data(), slots.data(), c.positions.data(), got_split16.data(), rows,
                                       heads, kv_heads, d, c.capacity, c.window, scale, 0, workspace.data(), splits,
                                       nullptr);
        });
        ExpectClose(got_split16, want16, 1e-5, split_what + ", bf16 caches");
        EXPECT_EQ(got_vs16, want_v16) << split_what << ", bf16 caches";
      }
    }
  }
}

// Prefill-sized calls with bf16 caches: one sequence continuing its cached
// keys takes the flash-style tiles (AttentionTiles) where the compiler says
// the rows are one sequence; the same rows split between two slots, or
// without that promise, take the per-row path. Head dimensions 64 and 128 (S
// and P computed once per 64 columns), with and without a sliding window
// over a wrapped ring; the last tile of rows is partial and the call has
// padding rows past its live ones.
TEST_P(GpuUkernelsEmulated, AttentionTilesForPrefill) {
  const GpuUkernels& k = GetParam();
  const Grid grid = kGrids[1];
  struct Case {
    int64_t d, capacity, window, first_position;
    bool one_sequence;
  };
  const Case cases[] = {{64, 128, 0, 50, true},  {128, 128, 0, 3, true}, {64, 96, 24, 150, true},
                        {64, 128, 0, 50, false}};
  for (const Case& c : cases) {
    const int64_t rows = 40, heads = 8, kv_heads = 2, d = c.d, slots_count = 2;
    const int32_t live[2] = {37, 0};
    std::vector<int32_t> slots(rows, 1), positions(rows);
    for (int64_t r = 0; r < rows; ++r) positions[r] = static_cast<int32_t>(c.first_position + r);
    if (!c.one_sequence) {
      for (int64_t r = 20; r < rows; ++r) slots[r] = 0, positions[r] = static_cast<int32_t>(r - 20);
    }
    const AttentionInputs in = RandomAttentionInputs(rows, heads, kv_heads, d, 70);
    const std::vector<float>& q = in.q;
    const std::vector<float>& key = in.key;
    const std::vector<float>& value = in.value;
    const std::vector<uint16_t>& sinks = in.sinks;
    const std::vector<uint16_t> cache_k = RandomBf16(slots_count * c.capacity * kv_heads * d, -1, 1, 74),
                                cache_v = RandomBf16(slots_count * c.capacity * kv_heads * d, -1, 1, 75);
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    const std::string what = "d " + std::to_string(d) + " window " + std::to_string(c.window) +
                             (c.one_sequence ? "" : ", two sequences");
    std::vector<float> want(rows * heads * d, kUntouched);
    std::vector<uint16_t> want_k = cache_k, want_v = cache_v;
    moec_uk_attention_bf16_cache(q.data(), key.data(), value.data(), sinks.data(), want_k.data(), want_v.data(),
                                 slots.data(), positions.data(), want.data(), rows, heads, kv_heads, d, c.capacity,
                                 c.window, scale, 0, live, 0, 1);
    // The compiler's one_sequence (the prefill entry point) allows the
    // tiles; without it (a decode batch of 40 rows) the per-row kernel runs.
    for (const int64_t one_sequence : {int64_t{1}, int64_t{0}}) {
      std::vector<float> got(rows * heads * d, kUntouched);
      std::vector<uint16_t> got_k = cache_k, got_v = cache_v;
      Launch(k, grid, [&] {
        k.attention_bf16_cache(q.data(), key.data(), value.data(), sinks.data(), got_k.data(), got_v.data(),
                               slots.data(), positions.data(), got.data(), rows, heads, kv_heads, d, c.capacity,
                               c.window, scale, one_sequence, live);
      });
      const std::string how = what + (one_sequence ? ", one_sequence" : "");
      ExpectLiveRows(got, want, heads * d, 0, 37, one_sequence ? kTileTolerance : 1e-5, how);
      EXPECT_EQ(got_k, want_k) << how;
      EXPECT_EQ(got_v, want_v) << how;
    }
  }
}

// Indices with one invalid entry (skipped); 3 rows (one warp per output)
// and 40 rows (rows grouped by expert in matrix tiles; partial column tiles).
std::vector<int32_t> RoutingIndices(int64_t rows, int64_t top_k, int64_t experts, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> indices(rows * top_k);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < top_k; ++j) {  // distinct experts per row, as top-k gives
      int32_t e;
      bool taken;
      do {
        e = static_cast<int32_t>(rng() % experts);
        taken = false;
        for (int64_t i = 0; i < j; ++i) taken |= indices[r * top_k + i] == e;
      } while (taken);
      indices[r * top_k + j] = e;
    }
  }
  indices[1] = -1;
  return indices;
}

TEST_P(GpuUkernelsEmulated, ExpertGateUp) {
  const GpuUkernels& k = GetParam();
  for (const int64_t rows : {int64_t{3}, int64_t{40}}) {
    const int64_t top_k = 2, d = 96, intermediate = 40, experts = 4;
    const std::vector<float> x = RandomFloats(rows * d, -1, 1, 22);
    const std::vector<int32_t> indices = RoutingIndices(rows, top_k, experts, 32);
    const std::vector<uint8_t> weight = RandomMxfp4(experts * 2 * intermediate, d, 23);
    const std::vector<uint16_t> bias = RandomBf16(experts * 2 * intermediate, -0.5f, 0.5f, 24);
    std::vector<float> want(rows * top_k * intermediate, 42);
    moec_uk_expert_gate_up(x.data(), indices.data(), weight.data(), bias.data(), want.data(), rows, top_k, d,
                           intermediate, experts, 7.0f, 1.702f, nullptr, 0, 1);
    for (const Grid& grid : kGrids) {
      std::vector<float> got(rows * top_k * intermediate, 42);
      Launch(k, grid, [&] {
        k.expert_gate_up(x.data(), indices.data(), weight.data(), bias.data(), got.data(), rows, top_k, d,
                         intermediate, experts, 7.0f, 1.702f, nullptr);
      });
      ExpectClose(got, want, rows >= kMinTileRows ? kTileTolerance : 1e-5,
                  std::to_string(rows) + " rows: gate_up activations");
    }
  }
}

TEST_P(GpuUkernelsEmulated, ExpertDown) {
  const GpuUkernels& k = GetParam();
  for (const int64_t rows : {int64_t{3}, int64_t{40}}) {
    const int64_t top_k = 2, d = 72, intermediate = 96, experts = 4;
    const std::vector<float> activation = RandomFloats(rows * top_k * intermediate, -2, 2, 25);
    const std::vector<float> routing = RandomFloats(rows * top_k, 0, 1, 26),
                             residual = RandomFloats(rows * d, -1, 1, 27);
    const std::vector<int32_t> indices = RoutingIndices(rows, top_k, experts, 33);
    const std::vector<uint8_t> weight = RandomMxfp4(experts * d, intermediate, 28);
    const std::vector<uint16_t> bias = RandomBf16(experts * d, -0.5f, 0.5f, 29);
    std::vector<float> want(rows * d);
    moec_uk_expert_down(activation.data(), routing.data(), indices.data(), weight.data(), bias.data(),
                        residual.data(), want.data(), rows, top_k, intermediate, d, experts, nullptr, 0, 1);
    for (const Grid& grid : kGrids) {
      std::vector<float> got(rows * d);
      Launch(k, grid, [&] {
        k.expert_down(activation.data(), routing.data(), indices.data(), weight.data(), bias.data(),
                      residual.data(), got.data(), rows, top_k, intermediate, d, experts, nullptr);
      });
      ExpectClose(got, want, rows >= kMinTileRows ? kTileTolerance : 1e-5,
                  std::to_string(rows) + " rows: down with residual");
    }
  }
}

TEST_P(GpuUkernelsEmulated, Add) {
  const GpuUkernels& k = GetParam();
  const int64_t n = 1000;
  const std::vector<float> a = RandomFloats(n, -1, 1, 30), b = RandomFloats(n, -1, 1, 31);
  std::vector<float> want(n);
  moec_uk_add(a.data(), b.data(), want.data(), n, 1, nullptr, 0, 1);
  for (const Grid& grid : kGrids) {
    std::vector<float> got(n);
    Launch(k, grid, [&] { k.add(a.data(), b.data(), got.data(), n, 1, nullptr); });
    EXPECT_EQ(got, want);
  }
}

// The live rows (targets/ukernels/common/live_rows.h): both kernel families
// compute rows [begin, end) exactly as they do in a call where every row is
// live, and leave every other row of their outputs as it was.
TEST_P(GpuUkernelsEmulated, LiveRowsBoundTheWork) {
  const GpuUkernels& k = GetParam();
  const Grid grid = kGrids[1];
  auto untouched = [](size_t n) { return std::vector<float>(n, kUntouched); };

  // linear3, one warp per output (3 rows) and matrix tiles (70 rows); the
  // unembedding form (logits_only) starts at live[1], inside a row tile.
  for (const int64_t rows : {int64_t{3}, int64_t{70}}) {
    const int64_t depth = 96, n0 = 40, n1 = 8, n2 = 24;
    const std::vector<float> x = RandomFloats(rows * depth, -2, 2, 40);
    const std::vector<uint16_t> gain = RandomBf16(depth, 0.8f, 1.2f, 41), w0 = RandomBf16(n0 * depth, -1, 1, 42),
                                w1 = RandomBf16(n1 * depth, -1, 1, 43), w2 = RandomBf16(n2 * depth, -1, 1, 44);
    std::vector<float> all0(rows * n0), all1(rows * n1), all2(rows * n2);
    moec_uk_linear3(x.data(), gain.data(), 1e-5f, rows, depth, w0.data(), nullptr, nullptr, all0.data(), n0,
                    w1.data(), nullptr, all1.data(), n1, w2.data(), nullptr, all2.data(), n2, nullptr, 0, nullptr, 0,
                    1);
    const int32_t end = rows == 3 ? 2 : 50, begin = rows == 3 ? 1 : 37;
    for (const int64_t logits_only : {int64_t{0}, int64_t{1}}) {
      const int32_t live[2] = {end, begin};
      const int64_t first = logits_only ? begin : 0;
      const std::string what = std::to_string(rows) + " rows" + (logits_only ? ", logits only" : "");
      const double tolerance = rows >= kMinTileRows ? kTileTolerance : kTolerance;
      std::vector<float> cpu0 = untouched(all0.size()), cpu1 = untouched(all1.size()), cpu2 = untouched(all2.size());
      moec_uk_linear3(x.data(), gain.data(), 1e-5f, rows, depth, w0.data(), nullptr, nullptr, cpu0.data(), n0,
                      w1.data(), nullptr, cpu1.data(), n1, w2.data(), nullptr, cpu2.data(), n2, nullptr, logits_only,
                      live, 0, 1);
      ExpectLiveRows(cpu0, all0, n0, first, end, 0, "CPU linear3, " + what);
      ExpectLiveRows(cpu2, all2, n2, first, end, 0, "CPU linear3, " + what);
      std::vector<float> got0 = untouched(all0.size()), got1 = untouched(all1.size()), got2 = untouched(all2.size());
      Launch(k, grid, [&] {
        k.linear3(x.data(), gain.data(), 1e-5f, rows, depth, w0.data(), nullptr, nullptr, got0.data(), n0, w1.data(),
                  nullptr, got1.data(), n1, w2.data(), nullptr, got2.data(), n2, nullptr, logits_only, live);
      });
      ExpectLiveRows(got0, all0, n0, first, end, tolerance, "GPU linear3, " + what);
      ExpectLiveRows(got1, all1, n1, first, end, tolerance, "GPU linear3, " + what);
      ExpectLiveRows(got2, all2, n2, first, end, tolerance, "GPU linear3, " + what);
    }
  }

  // Embedding, router and rope: 4 rows, 3 live.
  {
    const int64_t rows = 4, hidden = 64, vocab = 11, experts = 8, top_k = 2, head_dim = 32;
    const int32_t live[2] = {3, 0};
    const std::vector<uint16_t> table = RandomBf16(vocab * hidden, -1, 1, 45);
    const std::vector<int32_t> tokens = {3, 9, 10, 4};
    std::vector<float> all(rows * hidden), cpu = untouched(all.size()), got = untouched(all.size());
    moec_uk_embedding(table.data(), tokens.data(), all.data(), rows, hidden, vocab, nullptr, 0, 1);
    moec_uk_embedding(table.data(), tokens.data(), cpu.data(), rows, hidden, vocab, live, 0, 1);
    Launch(k, grid, [&] { k.embedding(table.data(), tokens.data(), got.data(), rows, hidden, vocab, live); });
    ExpectLiveRows(cpu, all, hidden, 0, 3, 0, "CPU embedding");
    ExpectLiveRows(got, all, hidden, 0, 3, 0, "GPU embedding");

    const std::vector<float> x = RandomFloats(rows * hidden, -2, 2, 46);
    const std::vector<uint16_t> gain = RandomBf16(hidden, 0.8f, 1.2f, 47), w = RandomBf16(experts * hidden, -1, 1, 48),
                                b = RandomBf16(experts, -0.5f, 0.5f, 49);
    std::vector<float> all_weights(rows * top_k), cpu_weights = untouched(all_weights.size()),
                                                  got_weights = untouched(all_weights.size());
    std::vector<int32_t> indices(rows * top_k);
    moec_uk_router(x.data(), gain.data(), 1e-5f, w.data(), b.data(), all_weights.data(), indices.data(), nullptr,
                   rows, hidden, experts, top_k, nullptr, 0, 1);
    moec_uk_router(x.data(), gain.data(), 1e-5f, w.data(), b.data(), cpu_weights.data(), indices.data(), nullptr,
                   rows, hidden, experts, top_k, live, 0, 1);
    Launch(k, grid, [&] {
      k.router(x.data(), gain.data(), 1e-5f, w.data(), b.data(), got_weights.data(), indices.data(), nullptr, rows,
               hidden, experts, top_k, live);
    });
    ExpectLiveRows(cpu_weights, all_weights, top_k, 0, 3, 0, "CPU router");
    ExpectLiveRows(got_weights, all_weights, top_k, 0, 3, 1e-5, "GPU router");

    const std::vector<int32_t> positions = {5, 6, 7, 8};
    std::vector<float> inv_freq(head_dim / 2);
    for (int64_t i = 0; i < head_dim / 2; ++i) inv_freq[i] = std::pow(150000.0f, -2.0f * i / head_dim);
    std::vector<float> all_rope(rows * hidden), cpu_rope = untouched(all_rope.size()),
                                                got_rope = untouched(all_rope.size());
    moec_uk_rope(x.data(), positions.data(), all_rope.data(), rows, hidden, head_dim, inv_freq.data(), 1.2f, nullptr,
                 0, 1);
    moec_uk_rope(x.data(), positions.data(), cpu_rope.data(), rows, hidden, head_dim, inv_freq.data(), 1.2f, live, 0,
                 1);
    Launch(k, grid, [&] {
      k.rope(x.data(), positions.data(), got_rope.data(), rows, hidden, head_dim, inv_freq.data(), 1.2f, live);
    });
    ExpectLiveRows(cpu_rope, all_rope, hidden, 0, 3, 0, "CPU rope");
    ExpectLiveRows(got_rope, all_rope, hidden, 0, 3, 2e-6, "GPU rope");
  }

  // Attention (and its split-KV form): rows 0-2 continue slot 0, rows 3-4
  // start slot 1; 4 live rows leave row 4's key out of the cache too.
  {
    const int64_t rows = 6, heads = 4, kv_heads = 2, d = 64, capacity = 16;
    const int32_t live[2] = {4, 0};
    const std::vector<int32_t> slots = {0, 0, 0, 1, 1, 0}, positions = {3, 4, 5, 0, 1, -1};
    const AttentionInputs in = RandomAttentionInputs(rows, heads, kv_heads, d, 50);
    const std::vector<float>& q = in.q;
    const std::vector<float>& key = in.key;
    const std::vector<float>& value = in.value;
    const std::vector<uint16_t>& sinks = in.sinks;
    const std::vector<float> cache = RandomFloats(2 * capacity * kv_heads * d, -1, 1, 54);
    const float scale = 0.125f;
    std::vector<float> all(rows * heads * d), all_k = cache, all_v = cache;
    moec_uk_attention(q.data(), key.data(), value.data(), sinks.data(), all_k.data(), all_v.data(), slots.data(),
                      positions.data(), all.data(), rows, heads, kv_heads, d, capacity, 0, scale, 0, nullptr, 0, 1);
    std::vector<float> cpu = untouched(all.size()), cpu_k = cache, cpu_v = cache;
    moec_uk_attention(q.data(), key.data(), value.data(), sinks.data(), cpu_k.data(), cpu_v.data(), slots.data(),
                      positions.data(), cpu.data(), rows, heads, kv_heads, d, capacity, 0, scale, 0, live, 0, 1);
    ExpectLiveRows(cpu, all, heads * d, 0, 4, 0, "CPU attention");
    // Row 4 (slot 1, position 1) appended nothing.
    const size_t row4_key = static_cast<size_t>(((1 * capacity + 1) * kv_heads) * d);
    EXPECT_EQ(std::vector<float>(cpu_k.begin() + row4_key, cpu_k.begin() + row4_key + kv_heads * d),
              std::vector<float>(cache.begin() + row4_key, cache.begin() + row4_key + kv_heads * d));
    std::vector<float> got = untouched(all.size()), got_k = cache, got_v = cache;
    Launch(k, grid, [&] {
      k.attention(q.data(), key.data(), value.data(), sinks.data(), got_k.data(), got_v.data(), slots.data(),
                  positions.data(), got.data(), rows, heads, kv_heads, d, capacity, 0, scale, 0, live);
    });
    ExpectLiveRows(got, all, heads * d, 0, 4, 1e-5, "GPU attention");
    EXPECT_EQ(got_k, cpu_k);
    EXPECT_EQ(got_v, cpu_v);
    const int64_t splits = 3;
    std::vector<float> workspace(MOEC_SPLIT_KV_COUNTERS + rows * heads * splits * (d + 2), 0.0f);
    std::vector<float> split = untouched(all.size()), split_k = cache, split_v = cache;
    Launch(k, grid, [&] {
      k.attention_split(q.data(), key.data(), value.data(), sinks.data(), split_k.data(), split_v.data(), slots.data(),
                        positions.data(), split.data(), rows, heads, kv_heads, d, capacity, 0, scale, 0,
                        workspace.data(), splits, live);
    });
    ExpectLiveRows(split, all, heads * d, 0, 4, 1e-5, "GPU split-KV attention");
    EXPECT_EQ(split_k, cpu_k);
    EXPECT_EQ(std::vector<float>(workspace.begin(), workspace.begin() + MOEC_SPLIT_KV_COUNTERS),
              std::vector<float>(MOEC_SPLIT_KV_COUNTERS, 0.0f));
  }

  // The routed experts, per warp (3 rows) and in matrix tiles (40 rows).
  for (const int64_t rows : {int64_t{3}, int64_t{40}}) {
    const int64_t top_k = 2, d = 64, intermediate = 64, experts = 4;
    const int32_t end = rows == 3 ? 2 : 27;
    const int32_t live[2] = {end, 0};
    const double tolerance = rows >= kMinTileRows ? kTileTolerance : 1e-5;
    const std::vector<int32_t> indices = RoutingIndices(rows, top_k, experts, 55);
    const std::vector<float> x = RandomFloats(rows * d, -1, 1, 56);
    const std::vector<uint8_t> gate_up = RandomMxfp4(experts * 2 * intermediate, d, 57),
                               down = RandomMxfp4(experts * d, intermediate, 58);
    const std::vector<uint16_t> gate_up_bias = RandomBf16(experts * 2 * intermediate, -0.5f, 0.5f, 59),
                                down_bias = RandomBf16(experts * d, -0.5f, 0.5f, 60);
    // Activations start from kUntouched: the invalid choice (row 0's
    // second) stays so in every run.
    std::vector<float> all = untouched(rows * top_k * intermediate), cpu = all, got = all;
    moec_uk_expert_gate_up(x.data(), indices.data(), gate_up.data(), gate_up_bias.data(), all.data(), rows, top_k, d,
                           intermediate, experts, 7.0f, 1.702f, nullptr, 0, 1);
    moec_uk_expert_gate_up(x.data(), indices.data(), gate_up.data(), gate_up_bias.data(), cpu.data(), rows, top_k, d,
                           intermediate, experts, 7.0f, 1.702f, live, 0, 1);
    Launch(k, grid, [&] {
      k.expert_gate_up(x.data(), indices.data(), gate_up.data(), gate_up_bias.data(), got.data(), rows, top_k, d,
                       intermediate, experts, 7.0f, 1.702f, live);
    });
    const std::string what = std::to_string(rows) + " rows";
    ExpectLiveRows(cpu, all, top_k * intermediate, 0, end, 0, "CPU gate_up, " + what);
    ExpectLiveRows(got, all, top_k * intermediate, 0, end, tolerance, "GPU gate_up, " + what);

    const std::vector<float> routing = RandomFloats(rows * top_k, 0, 1, 61),
                             residual = RandomFloats(rows * d, -1, 1, 62);
    const std::vector<float> activation = RandomFloats(rows * top_k * intermediate, -2, 2, 63);
    std::vector<float> all_down(rows * d), cpu_down = untouched(all_down.size()), got_down = untouched(all_down.size());
    moec_uk_expert_down(activation.data(), routing.data(), indices.data(), down.data(), down_bias.data(),
                        residual.data(), all_down.data(), rows, top_k, intermediate, d, experts, nullptr, 0, 1);
    moec_uk_expert_down(activation.data(), routing.data(), indices.data(), down.data(), down_bias.data(),
                        residual.data(), cpu_down.data(), rows, top_k, intermediate, d, experts, live, 0, 1);
    Launch(k, grid, [&] {
      k.expert_down(activation.data(), routing.data(), indices.data(), down.data(), down_bias.data(), residual.data(),
                    got_down.data(), rows, top_k, intermediate, d, experts, live);
    });
    ExpectLiveRows(cpu_down, all_down, d, 0, end, 0, "CPU down, " + what);
    ExpectLiveRows(got_down, all_down, d, 0, end, tolerance, "GPU down, " + what);
  }

  // add: 10 rows of 100, 7 live.
  {
    const int64_t rows = 10, width = 100;
    const int32_t live[2] = {7, 0};
    const std::vector<float> a = RandomFloats(rows * width, -1, 1, 64), b = RandomFloats(rows * width, -1, 1, 65);
    std::vector<float> all(rows * width), cpu = untouched(all.size()), got = untouched(all.size());
    moec_uk_add(a.data(), b.data(), all.data(), rows * width, rows, nullptr, 0, 1);
    moec_uk_add(a.data(), b.data(), cpu.data(), rows * width, rows, live, 0, 1);
    Launch(k, grid, [&] { k.add(a.data(), b.data(), got.data(), rows * width, rows, live); });
    ExpectLiveRows(cpu, all, width, 0, 7, 0, "CPU add");
    ExpectLiveRows(got, all, width, 0, 7, 0, "GPU add");
  }
}

INSTANTIATE_TEST_SUITE_P(Warps, GpuUkernelsEmulated,
                         ::testing::Values(MOEC_GPU_UKERNELS(warp32, 32), MOEC_GPU_UKERNELS(warp64, 64)),
                         [](const ::testing::TestParamInfo<GpuUkernels>& info) {
                           return info.param.warp_size == 32 ? std::string("Nvidia32") : std::string("Amd64");
                         });

// The emulator itself: it must refuse what the hardware would hang on or
// compute wrongly, so the checks above mean something.
TEST(SimtEmulator, CrossLanePrimitivesFollowTheHardware) {
  struct Context {
    std::vector<uint32_t> out;
  } context{std::vector<uint32_t>(64 * 6)};
  const char* error = moec::simt::Launch(
      1, 64, 64,
      [](void* raw) {
        auto& c = *static_cast<Context*>(raw);
        const uint32_t lane = static_cast<uint32_t>(moec::simt::ThreadId());
        c.out[0 * 64 + lane] = moec::simt::Dpp(lane, 0xB1);       // quad_perm [1,0,3,2]
        c.out[1 * 64 + lane] = moec::simt::Dpp(lane, 0x141);      // row_half_mirror
        c.out[2 * 64 + lane] = moec::simt::Dpp(lane, 0x140);      // row_mirror
        c.out[3 * 64 + lane] = moec::simt::Swizzle(lane, 0x401F);  // xor 16 within 32
        c.out[4 * 64 + lane] = moec::simt::ReadLane(lane, 37);
        c.out[5 * 64 + lane] = moec::simt::ShuffleXor(lane, 5);
      },
      &context);
  ASSERT_STREQ(error, "");
  for (uint32_t lane = 0; lane < 64; ++lane) {
    const uint32_t quad_perm[4] = {1, 0, 3, 2};
    EXPECT_EQ(context.out[0 * 64 + lane], (lane & ~3u) | quad_perm[lane & 3]) << lane;
    EXPECT_EQ(context.out[1 * 64 + lane], (lane & ~7u) | (7 - (lane & 7))) << lane;
    EXPECT_EQ(context.out[2 * 64 + lane], (lane & ~15u) | (15 - (lane & 15))) << lane;
    EXPECT_EQ(context.out[3 * 64 + lane], lane ^ 16) << lane;
    EXPECT_EQ(context.out[4 * 64 + lane], 37u) << lane;
    EXPECT_EQ(context.out[5 * 64 + lane], lane ^ 5) << lane;
  }
}

TEST(SimtEmulator, RefusesABarrierOnlyPartOfTheBlockReaches) {
  const char* error = moec::simt::Launch(
      2, 64, 32,
      [](void*) {
        if (moec::simt::ThreadId() < 32) moec::simt::Barrier();
      },
      nullptr);
  EXPECT_NE(std::string(error).find("deadlock in block 0"), std::string::npos) << error;
}

TEST(SimtEmulator, RefusesLanesAtDifferentCrossLaneOperations) {
  const char* error = moec::simt::Launch(
      1, 32, 32,
      [](void*) {
        if (moec::simt::ThreadId() % 2) {
          moec::simt::ShuffleXor(1, 1);
        } else {
          moec::simt::ReadLane(1, 0);
        }
      },
      nullptr);
  EXPECT_NE(std::string(error).find("divergence in a warp"), std::string::npos) << error;
}

TEST(SimtEmulator, RefusesBadLaunchShapes) {
  EXPECT_STRNE(moec::simt::Launch(1, 48, 32, [](void*) {}, nullptr), "");
  EXPECT_STRNE(moec::simt::Launch(1, 64, 16, [](void*) {}, nullptr), "");
  EXPECT_STRNE(moec::simt::Launch(0, 64, 32, [](void*) {}, nullptr), "");
}

}  // namespace
