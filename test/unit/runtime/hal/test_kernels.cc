// Kernels for the runtime tests, built as a real shared object
// (moert_test_kernels) whose bytes the tests load through the in-memory
// loader. Each follows the CPU kernel signature of moex.fbs:
//   void kernel(void* const* bindings, const uint32_t* constants,
//               uint32_t workgroup_x, uint32_t workgroup_y, uint32_t workgroup_z);
// and computes one workgroup. Plain C-style code: no libstdc++ needed.
#include <cstdint>

#define KERNEL extern "C" __attribute__((visibility("default"))) void

// out[i] = a[i] + b[i] for i in this workgroup's block.
// bindings: a f32[n], b f32[n], out f32[n]; constants: n, block.
KERNEL moert_test_vector_add(void* const* bindings, const uint32_t* constants, uint32_t x,
                             uint32_t, uint32_t) {
  const float* a = static_cast<const float*>(bindings[0]);
  const float* b = static_cast<const float*>(bindings[1]);
  float* out = static_cast<float*>(bindings[2]);
  const uint32_t n = constants[0], block = constants[1];
  for (uint32_t i = x * block; i < n && i < (x + 1) * block; ++i) out[i] = a[i] + b[i];
}

// out[row, :] = table[tokens[row], :] * scales[row]; workgroup x = row,
// workgroup y = a block of `block` columns.
// bindings: tokens i32[rows], table f32[vocab, dim], scales f32[rows],
// out f32[rows, dim]; constants: dim, block.
KERNEL moert_test_gather_scale(void* const* bindings, const uint32_t* constants, uint32_t x,
                               uint32_t y, uint32_t) {
  const int32_t* tokens = static_cast<const int32_t*>(bindings[0]);
  const float* table = static_cast<const float*>(bindings[1]);
  const float* scales = static_cast<const float*>(bindings[2]);
  float* out = static_cast<float*>(bindings[3]);
  const uint32_t dim = constants[0], block = constants[1];
  const float* src = table + static_cast<uint64_t>(tokens[x]) * dim;
  for (uint32_t c = y * block; c < dim && c < (y + 1) * block; ++c) {
    out[static_cast<uint64_t>(x) * dim + c] = src[c] * scales[x];
  }
}

// counts[(z * wy + y) * wx + x] += 1: shows which workgroups ran.
// bindings: counts u32[wx * wy * wz]; constants: wx, wy.
KERNEL moert_test_count_workgroups(void* const* bindings, const uint32_t* constants,
                                   uint32_t x, uint32_t y, uint32_t z) {
  uint32_t* counts = static_cast<uint32_t*>(bindings[0]);
  counts[(z * constants[1] + y) * constants[0] + x] += 1;
}

// --- A toy "model" for the session tests ---------------------------------
// Rows carry (token, position, slot); position -1 marks a padding row.
// KV cache: f32[num_slots, max_context, dim]. Hand-computable: with a one-hot
// embedding E[t] = (t + 1) * e_t, the hidden state of a row is the sum of the
// embeddings of its sequence up to and including its position, and
// logits[row, v] = hidden[row, v] * w[v].

// cache[slot, position, :] = embedding[token, :]; workgroup x = row.
// bindings: tokens, positions, slots (i32[rows]), embedding f32[vocab, dim],
// cache; constants: dim, max_context.
KERNEL moert_toy_kv_write(void* const* bindings, const uint32_t* constants, uint32_t x,
                          uint32_t, uint32_t) {
  const int32_t* tokens = static_cast<const int32_t*>(bindings[0]);
  const int32_t* positions = static_cast<const int32_t*>(bindings[1]);
  const int32_t* slots = static_cast<const int32_t*>(bindings[2]);
  const float* embedding = static_cast<const float*>(bindings[3]);
  float* cache = static_cast<float*>(bindings[4]);
  const uint32_t dim = constants[0], max_context = constants[1];
  if (positions[x] < 0) return;
  float* dst = cache + (static_cast<uint64_t>(slots[x]) * max_context + positions[x]) * dim;
  const float* src = embedding + static_cast<uint64_t>(tokens[x]) * dim;
  for (uint32_t c = 0; c < dim; ++c) dst[c] = src[c];
}

// hidden[row, :] = sum over p in [0, position] of cache[slot, p, :]; padding
// rows get zeros. workgroup x = row.
// bindings: positions, slots, cache, hidden f32[rows, dim]; constants: dim,
// max_context.
KERNEL moert_toy_attend(void* const* bindings, const uint32_t* constants, uint32_t x,
                        uint32_t, uint32_t) {
  const int32_t* positions = static_cast<const int32_t*>(bindings[0]);
  const int32_t* slots = static_cast<const int32_t*>(bindings[1]);
  const float* cache = static_cast<const float*>(bindings[2]);
  float* hidden = static_cast<float*>(bindings[3]) + static_cast<uint64_t>(x) * constants[0];
  const uint32_t dim = constants[0], max_context = constants[1];
  for (uint32_t c = 0; c < dim; ++c) hidden[c] = 0.0f;
  for (int32_t p = 0; p <= positions[x]; ++p) {
    const float* src = cache + (static_cast<uint64_t>(slots[x]) * max_context + p) * dim;
    for (uint32_t c = 0; c < dim; ++c) hidden[c] += src[c];
  }
}

// logits[row, v] = hidden[row, v] * w[v] for the v of this workgroup's half;
// workgroup x = row, y = half. bindings: hidden, w f32[vocab], logits
// f32[rows, vocab]; constants: vocab.
KERNEL moert_toy_logits(void* const* bindings, const uint32_t* constants, uint32_t x,
                        uint32_t y, uint32_t) {
  const float* hidden = static_cast<const float*>(bindings[0]);
  const float* w = static_cast<const float*>(bindings[1]);
  float* logits = static_cast<float*>(bindings[2]);
  const uint32_t vocab = constants[0];
  const uint32_t half = (vocab + 1) / 2;
  for (uint32_t v = y * half; v < vocab && v < (y + 1) * half; ++v) {
    logits[static_cast<uint64_t>(x) * vocab + v] = hidden[static_cast<uint64_t>(x) * vocab + v] * w[v];
  }
}
