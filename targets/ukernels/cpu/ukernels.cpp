// CPU microkernels: the inner loops of every kernel the CPU target emits.
//
// Compiled to LLVM bitcode by clang-22 when moec is built (once per CPU level:
// x86-64-v3 with AVX2/FMA, x86-64-v4 with AVX-512), then linked and inlined
// into each artifact's kernels. Each function computes the slice of its
// output that one workgroup owns, `workgroup` of `workgroups`, so the
// runtime's thread pool can run workgroups in any order and in parallel.
//
// Numerics: activations and accumulation are fp32; weights are read as stored
// (bf16 rows, MXFP4 blocks decoded in registers). No libm calls beyond expf,
// sinf/cosf and sqrtf, which the kernel shared object resolves from libm.
//
// Conventions: matrices are row-major; a "linear" weight is [out, in]; an
// MXFP4 weight is stored as its packed blocks (16 bytes per 32 values, low
// nibble first) for all rows, followed by its scales (one E8M0 byte per 32
// values); row r of expert e starts at block row (e * rows + r).
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../common/attention_rows.h"
#include "../common/linear3_columns.h"
#include "../common/live_rows.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#define UK_EXPORT extern "C" __attribute__((visibility("default")))
#define UK_INLINE static inline __attribute__((always_inline))

namespace {

UK_INLINE float Bf16(uint16_t bits) {
  uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

// [begin, end) of `total` items owned by `workgroup` of `workgroups`, in
// multiples of `granule`.
UK_INLINE void Slice(int64_t total, int64_t granule, int64_t workgroup, int64_t workgroups, int64_t* begin,
                     int64_t* end) {
  const int64_t units = (total + granule - 1) / granule;
  const int64_t per = (units + workgroups - 1) / workgroups;
  *begin = workgroup * per * granule;
  *end = (workgroup + 1) * per * granule;
  if (*begin > total) *begin = total;
  if (*end > total) *end = total;
}

UK_INLINE float DotBf16(const uint16_t* w, const float* x, int64_t n) {
  float acc[16] = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int l = 0; l < 16; ++l) acc[l] += Bf16(w[i + l]) * x[i + l];
  }
  float sum = 0;
  for (int l = 0; l < 16; ++l) sum += acc[l];
  for (; i < n; ++i) sum += Bf16(w[i]) * x[i];
  return sum;
}

constexpr float kE2M1[16] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
                             -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

// E8M0: byte s means 2^(s - 127); byte 0 is 2^-127 (a denormal), not zero.
UK_INLINE float E8M0(uint8_t s) {
  if (s == 0) return 5.877471754111438e-39f;  // 2^-127
  uint32_t bits = static_cast<uint32_t>(s) << 23;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

// Dot product of an MXFP4 row (k values: k/32 blocks and k/32 scales) with x.
#if defined(__AVX512F__) && defined(__AVX512BW__)
// AVX-512: one 16-entry permute decodes 16 codes (sign included) at once.
UK_INLINE float DotMxfp4(const uint8_t* blocks, const uint8_t* scales, const float* x, int64_t k) {
  const __m512 lut = _mm512_loadu_ps(kE2M1);
  __m512 total = _mm512_setzero_ps();
  for (int64_t b = 0; b < k / 32; ++b) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks + b * 16));
    const __m128i mask = _mm_set1_epi8(0x0F);
    const __m128i lo = _mm_and_si128(packed, mask);
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(packed, 4), mask);
    // Element 2j is byte j's low nibble, 2j+1 its high nibble.
    const __m512 v0 = _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(_mm_unpacklo_epi8(lo, hi)), lut);
    const __m512 v1 = _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(_mm_unpackhi_epi8(lo, hi)), lut);
    __m512 acc = _mm512_mul_ps(v0, _mm512_loadu_ps(x + b * 32));
    acc = _mm512_fmadd_ps(v1, _mm512_loadu_ps(x + b * 32 + 16), acc);
    total = _mm512_fmadd_ps(acc, _mm512_set1_ps(E8M0(scales[b])), total);
  }
  return _mm512_reduce_add_ps(total);
}
#elif defined(__AVX2__) && defined(__FMA__)
// AVX2: the low 3 bits index the 8 magnitudes with one permute; bit 3 is
// the sign, moved to bit 31 and xor-ed in.
UK_INLINE __m256 DecodeE2M1x8(__m128i codes8, __m256 magnitudes) {
  const __m256i idx = _mm256_cvtepu8_epi32(codes8);
  const __m256 mag = _mm256_permutevar8x32_ps(magnitudes, idx);
  const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(idx, _mm256_set1_epi32(8)), 28);
  return _mm256_xor_ps(mag, _mm256_castsi256_ps(sign));
}

UK_INLINE float DotMxfp4(const uint8_t* blocks, const uint8_t* scales, const float* x, int64_t k) {
  const __m256 magnitudes = _mm256_loadu_ps(kE2M1);
  __m256 total = _mm256_setzero_ps();
  for (int64_t b = 0; b < k / 32; ++b) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks + b * 16));
    const __m128i mask = _mm_set1_epi8(0x0F);
    const __m128i lo = _mm_and_si128(packed, mask);
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(packed, 4), mask);
    // Element 2j is byte j's low nibble, 2j+1 its high nibble.
    const __m128i first = _mm_unpacklo_epi8(lo, hi), second = _mm_unpackhi_epi8(lo, hi);
    const float* xb = x + b * 32;
    __m256 acc = _mm256_mul_ps(DecodeE2M1x8(first, magnitudes), _mm256_loadu_ps(xb));
    acc = _mm256_fmadd_ps(DecodeE2M1x8(_mm_srli_si128(first, 8), magnitudes), _mm256_loadu_ps(xb + 8), acc);
    acc = _mm256_fmadd_ps(DecodeE2M1x8(second, magnitudes), _mm256_loadu_ps(xb + 16), acc);
    acc = _mm256_fmadd_ps(DecodeE2M1x8(_mm_srli_si128(second, 8), magnitudes), _mm256_loadu_ps(xb + 24), acc);
    total = _mm256_fmadd_ps(acc, _mm256_set1_ps(E8M0(scales[b])), total);
  }
  const __m128 sum4 = _mm_add_ps(_mm256_castps256_ps128(total), _mm256_extractf128_ps(total, 1));
  const __m128 sum2 = _mm_add_ps(sum4, _mm_movehl_ps(sum4, sum4));
  return _mm_cvtss_f32(_mm_add_ss(sum2, _mm_movehdup_ps(sum2)));
}
#else
UK_INLINE float DotMxfp4(const uint8_t* blocks, const uint8_t* scales, const float* x, int64_t k) {
  float sum = 0;
  for (int64_t b = 0; b < k / 32; ++b) {
    const uint8_t* p = blocks + b * 16;
    const float* xb = x + b * 32;
    float acc = 0;
    for (int j = 0; j < 16; ++j) {
      acc += kE2M1[p[j] & 15] * xb[2 * j];
      acc += kE2M1[p[j] >> 4] * xb[2 * j + 1];
    }
    sum += acc * E8M0(scales[b]);
  }
  return sum;
}
#endif

// RMSNorm of one row into `out`.
UK_INLINE void NormRow(const float* x, const uint16_t* gain, float eps, int64_t n, float* out) {
  float ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
  const float inv = 1.0f / sqrtf(ss / static_cast<float>(n) + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * inv * Bf16(gain[i]);
}

}  // namespace

// Every function's `live` is the call's live rows (../common/live_rows.h).

// out[r, :] = table[tokens[r], :] for this workgroup's rows.
UK_EXPORT void moec_uk_embedding(const uint16_t* table, const int32_t* tokens, float* out, int64_t rows,
                                 int64_t hidden, int64_t vocab, const int32_t* live, int64_t workgroup,
                                 int64_t workgroups) {
  int64_t begin, end;
  Slice(MoecLiveRows(live, rows), 1, workgroup, workgroups, &begin, &end);
  for (int64_t r = begin; r < end; ++r) {
    int64_t token = tokens[r];
    if (token < 0 || token >= vocab) token = 0;  // padding rows; real ids are checked by the runtime
    for (int64_t i = 0; i < hidden; ++i) out[r * hidden + i] = Bf16(table[token * hidden + i]);
  }
}

// Up to three linears reading the same (optionally RMS-normalised) rows, as
// one output column space [0, n0 + n1 + n2) split across workgroups:
// out_i[r, c] = sum_k xn[r, k] w_i[c, k] + b_i[c] (+ residual_i[r, c]).
// With `gain`, xn is RMSNorm(x) computed per row in a local buffer; with
// `normed_out`, workgroup 0 also stores xn. With `logits_only` (the
// unembedding), only the rows whose logits are read.
UK_EXPORT void moec_uk_linear3(const float* x, const uint16_t* gain, float eps, int64_t rows, int64_t k,
                               const uint16_t* w0, const uint16_t* b0, const float* res0, float* out0, int64_t n0,
                               const uint16_t* w1, const uint16_t* b1, float* out1, int64_t n1,
                               const uint16_t* w2, const uint16_t* b2, float* out2, int64_t n2, float* normed_out,
                               int64_t logits_only, const int32_t* live, int64_t workgroup, int64_t workgroups) {
  int64_t begin, end;
  Slice(n0 + n1 + n2, 16, workgroup, workgroups, &begin, &end);
  const MoecRowRange computed = MoecLiveRowRange(live, rows, logits_only != 0);
  float xn[8192];
  for (int64_t r = computed.begin; r < computed.end; ++r) {
    const float* row = x + r * k;
    if (gain) {
      NormRow(row, gain, eps, k, xn);
      row = xn;
      if (normed_out && workgroup == 0) memcpy(normed_out + r * k, xn, sizeof(float) * k);
    }
    for (int64_t c = begin; c < end; ++c) {
      const MoecLinear3Column s = MoecLinear3ColumnOf(c, w0, b0, out0, n0, w1, b1, out1, n1, w2, b2, out2, n2);
      float y = DotBf16(s.w + s.col * k, row, k) + (s.b ? Bf16(s.b[s.col]) : 0.0f);
      if (res0 && c < n0) y += res0[r * n0 + s.col];
      s.out[r * s.n + s.col] = y;
    }
  }
}

// Router: logits = norm(x) W^T + b, top-k (highest first, lowest index on
// ties), softmax over the k. One workgroup per slice of rows; writes the
// normalised rows for the experts.
UK_EXPORT void moec_uk_router(const float* x, const uint16_t* gain, float eps, const uint16_t* w, const uint16_t* b,
                              float* routing_weights, int32_t* indices, float* normed_out, int64_t rows, int64_t d,
                              int64_t experts, int64_t top_k, const int32_t* live, int64_t workgroup,
                              int64_t workgroups) {
  int64_t begin, end;
  Slice(MoecLiveRows(live, rows), 1, workgroup, workgroups, &begin, &end);
  float xn[8192];
  float logits[1024];
  for (int64_t r = begin; r < end; ++r) {
    const float* row = x + r * d;
    if (gain) {
      NormRow(row, gain, eps, d, xn);
      row = xn;
    }
    if (normed_out) memcpy(normed_out + r * d, row, sizeof(float) * d);
    for (int64_t e = 0; e < experts; ++e) logits[e] = DotBf16(w + e * d, row, d) + Bf16(b[e]);
    int32_t chosen[64];
    for (int64_t j = 0; j < top_k; ++j) {
      int64_t best = -1;
      for (int64_t e = 0; e < experts; ++e) {
        bool taken = false;
        for (int64_t i = 0; i < j; ++i) taken = taken || chosen[i] == e;
        if (!taken && (best < 0 || logits[e] > logits[best])) best = e;
      }
      chosen[j] = static_cast<int32_t>(best);
    }
    const float top = logits[chosen[0]];
    float sum = 0;
    for (int64_t j = 0; j < top_k; ++j) sum += expf(logits[chosen[j]] - top);
    for (int64_t j = 0; j < top_k; ++j) {
      routing_weights[r * top_k + j] = expf(logits[chosen[j]] - top) / sum;
      indices[r * top_k + j] = chosen[j];
    }
  }
}

// YaRN RoPE, half-split pairs, in place on a copy: out = rotate(x) for each
// head of each row; rows with a negative position are copied unchanged.
UK_EXPORT void moec_uk_rope(const float* x, const int32_t* positions, float* out, int64_t rows, int64_t width,
                            int64_t head_dim, const float* inv_freq, float concentration, const int32_t* live,
                            int64_t workgroup, int64_t workgroups) {
  int64_t begin, end;
  Slice(MoecLiveRows(live, rows), 1, workgroup, workgroups, &begin, &end);
  const int64_t half = head_dim / 2;
  for (int64_t r = begin; r < end; ++r) {
    const int32_t p = positions[r];
    if (p < 0) {
      memcpy(out + r * width, x + r * width, sizeof(float) * width);
      continue;
    }
    for (int64_t i = 0; i < half; ++i) {
      // Angles in double: p * inv_freq reaches 1e5 radians at long contexts.
      const double angle = static_cast<double>(p) * inv_freq[i];
      const float c = static_cast<float>(cos(angle)) * concentration;
      const float s = static_cast<float>(sin(angle)) * concentration;
      for (int64_t h = 0; h < width / head_dim; ++h) {
        const float* v = x + r * width + h * head_dim;
        float* o = out + r * width + h * head_dim;
        const float x1 = v[i], x2 = v[i + half];
        o[i] = x1 * c - x2 * s;
        o[i + half] = x2 * c + x1 * s;
      }
    }
  }
}

// The two KV cache element types: f32 as computed, or bf16 (rounded to
// nearest even when appended). Keys and values of the call's own rows are
// read through Round, so they match what the cache will hold.
struct F32Cache {
  typedef float Element;
  static float Load(const float* p) { return *p; }
  static float Round(float x) { return x; }
  static void Store(float* p, float x) { *p = x; }
};
struct Bf16Cache {
  typedef uint16_t Element;
  static uint16_t ToBits(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1)) >> 16);
  }
  static float Load(const uint16_t* p) { return Bf16(*p); }
  static float Round(float x) { return Bf16(ToBits(x)); }
  static void Store(uint16_t* p, float x) { *p = ToBits(x); }
};

// Attention with sinks, an optional sliding window (0 = none) and GQA over a
// KV cache [slots, capacity, G, d] kept as a ring (position p at p mod
// capacity; the compiler sizes windowed rings so that no append of this call
// overwrites a key it still reads). One workgroup per (row, KV head): it
// appends its row's key and value for that head to the cache, and reads the
// keys of the other rows of the same chunk (rows of one sequence are
// consecutive, with consecutive positions) from the key/value inputs, so no
// workgroup depends on another's cache writes. The exports' `one_sequence`
// (the prefill entry point's rows are one sequence) lets the GPU kernels
// tile the queries; the CPU has no use for it.
template <typename Cache>
UK_INLINE void Attention(const float* q, const float* k, const float* v, const uint16_t* sinks,
                         typename Cache::Element* key_cache, typename Cache::Element* value_cache,
                         const int32_t* slots, const int32_t* positions, float* out, int64_t rows, int64_t heads,
                         int64_t kv_heads, int64_t d, int64_t capacity, int64_t window, float scale,
                         const int32_t* live, int64_t workgroup, int64_t workgroups) {
  typedef typename Cache::Element Element;
  const int64_t group = heads / kv_heads;
  const int64_t live_rows = MoecLiveRows(live, rows);
  for (int64_t item = workgroup; item < live_rows * kv_heads; item += workgroups) {
    const int64_t r = item / kv_heads, g = item % kv_heads;
    const int32_t p = positions[r];
    if (p < 0 || (window == 0 && p >= capacity)) continue;
    const int64_t slot = slots[r];
    Element* kc = key_cache + ((slot * capacity) * kv_heads) * d;
    Element* vc = value_cache + ((slot * capacity) * kv_heads) * d;
    const int64_t at = static_cast<int64_t>(p) % capacity;
    for (int64_t i = 0; i < d; ++i) {
      Cache::Store(kc + (at * kv_heads + g) * d + i, k[(r * kv_heads + g) * d + i]);
      Cache::Store(vc + (at * kv_heads + g) * d + i, v[(r * kv_heads + g) * d + i]);
    }
    // Rows r - (p - j) hold positions j of this chunk; earlier ones are cached.
    const int64_t first_row = MoecChunkFirstRow(slots, positions, r);
    const int64_t chunk_start = p - (r - first_row);
    const int64_t lo = MoecFirstKey(p, window);
    for (int64_t hh = 0; hh < group; ++hh) {
      const int64_t h = g * group + hh;
      const float* qh = q + (r * heads + h) * d;
      // Online softmax seeded with the sink: it joins the max and adds
      // exp(sink - m) to the normaliser, but has no value vector.
      float m = Bf16(sinks[h]);
      float normaliser = 1.0f;
      float acc[512];
      for (int64_t i = 0; i < d; ++i) acc[i] = 0;
      for (int64_t j = lo; j <= p; ++j) {
        const bool in_chunk = j >= chunk_start;
        const int64_t ring = j % capacity;
        const float* kj = k + ((first_row + (j - chunk_start)) * kv_heads + g) * d;
        const float* vj = v + ((first_row + (j - chunk_start)) * kv_heads + g) * d;
        const Element* kcj = kc + (ring * kv_heads + g) * d;
        const Element* vcj = vc + (ring * kv_heads + g) * d;
        float dot = 0;
        if (in_chunk) {
          for (int64_t i = 0; i < d; ++i) dot += qh[i] * Cache::Round(kj[i]);
        } else {
          for (int64_t i = 0; i < d; ++i) dot += qh[i] * Cache::Load(kcj + i);
        }
        const float score = dot * scale;
        if (score > m) {
          const float rescale = expf(m - score);
          normaliser *= rescale;
          for (int64_t i = 0; i < d; ++i) acc[i] *= rescale;
          m = score;
        }
        const float weight = expf(score - m);
        normaliser += weight;
        if (in_chunk) {
          for (int64_t i = 0; i < d; ++i) acc[i] += weight * Cache::Round(vj[i]);
        } else {
          for (int64_t i = 0; i < d; ++i) acc[i] += weight * Cache::Load(vcj + i);
        }
      }
      float* oh = out + (r * heads + h) * d;
      for (int64_t i = 0; i < d; ++i) oh[i] = acc[i] / normaliser;
    }
  }
}

UK_EXPORT void moec_uk_attention(const float* q, const float* k, const float* v, const uint16_t* sinks,
                                 float* key_cache, float* value_cache, const int32_t* slots, const int32_t* positions,
                                 float* out, int64_t rows, int64_t heads, int64_t kv_heads, int64_t d,
                                 int64_t capacity, int64_t window, float scale, int64_t /*one_sequence*/,
                                 const int32_t* live, int64_t workgroup, int64_t workgroups) {
  Attention<F32Cache>(q, k, v, sinks, key_cache, value_cache, slots, positions, out, rows, heads, kv_heads, d,
                      capacity, window, scale, live, workgroup, workgroups);
}

// The same with bf16 caches.
UK_EXPORT void moec_uk_attention_bf16_cache(const float* q, const float* k, const float* v, const uint16_t* sinks,
                                            uint16_t* key_cache, uint16_t* value_cache, const int32_t* slots,
                                            const int32_t* positions, float* out, int64_t rows, int64_t heads,
                                            int64_t kv_heads, int64_t d, int64_t capacity, int64_t window,
                                            float scale, int64_t /*one_sequence*/, const int32_t* live,
                                            int64_t workgroup, int64_t workgroups) {
  Attention<Bf16Cache>(q, k, v, sinks, key_cache, value_cache, slots, positions, out, rows, heads, kv_heads, d,
                       capacity, window, scale, live, workgroup, workgroups);
}

// Routed gate_up with the clamped SwiGLU epilogue: activation[r, j, i] for
// this workgroup's slice of i (each i reads gate row 2i and linear row 2i+1).
UK_EXPORT void moec_uk_expert_gate_up(const float* x, const int32_t* indices, const uint8_t* weight,
                                      const uint16_t* bias, float* activation, int64_t rows, int64_t top_k,
                                      int64_t d, int64_t intermediate, int64_t experts, float limit, float alpha,
                                      const int32_t* live, int64_t workgroup, int64_t workgroups) {
  int64_t begin, end;
  Slice(intermediate, 8, workgroup, workgroups, &begin, &end);
  const int64_t out_rows = 2 * intermediate;
  const int64_t blocks_per_row = d / 32;
  const uint8_t* scales = weight + experts * out_rows * blocks_per_row * 16;
  const int64_t live_rows = MoecLiveRows(live, rows);
  for (int64_t r = 0; r < live_rows; ++r) {
    for (int64_t j = 0; j < top_k; ++j) {
      const int64_t e = indices[r * top_k + j];
      if (e < 0 || e >= experts) continue;
      for (int64_t i = begin; i < end; ++i) {
        const int64_t gate_row = e * out_rows + 2 * i, lin_row = gate_row + 1;
        float glu = DotMxfp4(weight + gate_row * blocks_per_row * 16, scales + gate_row * blocks_per_row, x + r * d, d) +
                    Bf16(bias[e * out_rows + 2 * i]);
        float lin = DotMxfp4(weight + lin_row * blocks_per_row * 16, scales + lin_row * blocks_per_row, x + r * d, d) +
                    Bf16(bias[e * out_rows + 2 * i + 1]);
        glu = glu < limit ? glu : limit;
        lin = lin < -limit ? -limit : (lin > limit ? limit : lin);
        const float swish = glu / (1.0f + expf(-alpha * glu));
        activation[(r * top_k + j) * intermediate + i] = swish * (lin + 1.0f);
      }
    }
  }
}

// Routed down with the bias and the weighted combine, plus the residual:
// out[r, c] = residual[r, c] + sum_j w[r, j] (down[e] a[r, j] + b[e])[c].
UK_EXPORT void moec_uk_expert_down(const float* activation, const float* routing_weights, const int32_t* indices,
                                   const uint8_t* weight, const uint16_t* bias, const float* residual, float* out,
                                   int64_t rows, int64_t top_k, int64_t intermediate, int64_t d, int64_t experts,
                                   const int32_t* live, int64_t workgroup, int64_t workgroups) {
  int64_t begin, end;
  Slice(d, 16, workgroup, workgroups, &begin, &end);
  const int64_t blocks_per_row = intermediate / 32;
  const uint8_t* scales = weight + experts * d * blocks_per_row * 16;
  const int64_t live_rows = MoecLiveRows(live, rows);
  for (int64_t r = 0; r < live_rows; ++r) {
    for (int64_t c = begin; c < end; ++c) {
      float sum = 0;
      for (int64_t j = 0; j < top_k; ++j) {
        const int64_t e = indices[r * top_k + j];
        if (e < 0 || e >= experts) continue;
        const int64_t row = e * d + c;
        const float y = DotMxfp4(weight + row * blocks_per_row * 16, scales + row * blocks_per_row,
                                 activation + (r * top_k + j) * intermediate, intermediate) +
                        Bf16(bias[e * d + c]);
        sum += routing_weights[r * top_k + j] * y;
      }
      out[r * d + c] = (residual ? residual[r * d + c] : 0.0f) + sum;
    }
  }
}

// out = a + b, elementwise over this workgroup's slice of the live rows
// (n elements in `rows` rows).
UK_EXPORT void moec_uk_add(const float* a, const float* b, float* out, int64_t n, int64_t rows,
                           const int32_t* live, int64_t workgroup, int64_t workgroups) {
  int64_t begin, end;
  Slice(n / rows * MoecLiveRows(live, rows), 16, workgroup, workgroups, &begin, &end);
  for (int64_t i = begin; i < end; ++i) out[i] = a[i] + b[i];
}
