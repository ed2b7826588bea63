// The GPU microkernels as CPU microkernels, for the CPU levels
// x86-64-emulated-sm_90a and x86-64-emulated-gfx942: each CPU entry point
// (bindings + workgroup index, targets/common/EntryPoints) calls the GPU
// kernel body under the SIMT emulator (simt_host.h), with 32- or 64-lane
// warps, so a whole model runs through the GPU kernels' code on the CPU and
// can be compared with the golden logits. For tests: a kernel runs its whole
// grid in workgroup 0 (the other workgroups return at once), one GPU thread
// at a time, so it is slow.
//
// Built per warp width with MOEC_UK_SIMT_HOST=gpu and MOEC_UK_SIMT_WARP_SIZE
// (targets/cpu/CMakeLists.txt), linked with simt_host.cc into one bitcode
// file that the CPU code generator uses in place of the CPU microkernels.
#include <stdio.h>
#include <stdlib.h>

#include "ukernels.cpp"

namespace {

// A grid like the GPU code generator's: blocks of 256 threads; several
// blocks, so the grid-stride loops and cross-block paths run.
constexpr int64_t kBlocks = 4;
constexpr int64_t kThreadsPerBlock = 256;

template <typename Body>
void RunGrid(const char* kernel, int64_t workgroup, Body body) {
  if (workgroup != 0) return;
  const char* error = moec::simt::Launch(
      kBlocks, kThreadsPerBlock, MOEC_UK_SIMT_WARP_SIZE, [](void* context) { (*static_cast<Body*>(context))(); },
      &body);
  if (error[0] != '\0') {
    fprintf(stderr, "moert: emulated GPU kernel %s: %s\n", kernel, error);
    abort();
  }
}

}  // namespace

#define MOEC_SIMT_ENTRY(name, params, args)                                               \
  extern "C" __attribute__((visibility("default"))) void name params {                   \
    RunGrid(#name, workgroup, [&] { gpu::name args; });                                   \
  }

MOEC_SIMT_ENTRY(moec_uk_embedding,
                (const uint16_t* table, const int32_t* tokens, float* out, int64_t rows, int64_t hidden,
                 int64_t vocab, const int32_t* live, int64_t workgroup, int64_t),
                (table, tokens, out, rows, hidden, vocab, live))
MOEC_SIMT_ENTRY(moec_uk_linear3,
                (const float* x, const uint16_t* gain, float eps, int64_t rows, int64_t k, const uint16_t* w0,
                 const uint16_t* b0, const float* res0, float* out0, int64_t n0, const uint16_t* w1,
                 const uint16_t* b1, float* out1, int64_t n1, const uint16_t* w2, const uint16_t* b2, float* out2,
                 int64_t n2, float* normed_out, int64_t logits_only, const int32_t* live, int64_t workgroup, int64_t),
                (x, gain, eps, rows, k, w0, b0, res0, out0, n0, w1, b1, out1, n1, w2, b2, out2, n2, normed_out,
                 logits_only, live))
MOEC_SIMT_ENTRY(moec_uk_router,
                (const float* x, const uint16_t* gain, float eps, const uint16_t* w, const uint16_t* b,
                 float* routing_weights, int32_t* indices, float* normed_out, int64_t rows, int64_t d,
                 int64_t experts, int64_t top_k, const int32_t* live, int64_t workgroup, int64_t),
                (x, gain, eps, w, b, routing_weights, indices, normed_out, rows, d, experts, top_k, live))
MOEC_SIMT_ENTRY(moec_uk_rope,
                (const float* x, const int32_t* positions, float* out, int64_t rows, int64_t width,
                 int64_t head_dim, const float* inv_freq, float concentration, const int32_t* live, int64_t workgroup,
                 int64_t),
                (x, positions, out, rows, width, head_dim, inv_freq, concentration, live))
// The four attention entries differ in the cache element and in the
// split-KV parameters: SPLIT_PARAMS / SPLIT_ARGS, parenthesised lists that
// are empty or hold the workspace and the split count (with a trailing comma).
#define MOEC_SIMT_UNPAREN(...) __VA_ARGS__
#define MOEC_SIMT_ATTENTION(name, Element, SPLIT_PARAMS, SPLIT_ARGS)                                                \
  MOEC_SIMT_ENTRY(name,                                                                                            \
                  (const float* q, const float* k, const float* v, const uint16_t* sinks, Element* key_cache,       \
                   Element* value_cache, const int32_t* slots, const int32_t* positions, float* out, int64_t rows,  \
                   int64_t heads, int64_t kv_heads, int64_t d, int64_t capacity, int64_t window, float scale,       \
                   int64_t one_sequence, MOEC_SIMT_UNPAREN SPLIT_PARAMS const int32_t* live, int64_t workgroup,     \
                   int64_t),                                                                                        \
                  (q, k, v, sinks, key_cache, value_cache, slots, positions, out, rows, heads, kv_heads, d,         \
                   capacity, window, scale, one_sequence, MOEC_SIMT_UNPAREN SPLIT_ARGS live))
MOEC_SIMT_ATTENTION(moec_uk_attention, float, (), ())
MOEC_SIMT_ATTENTION(moec_uk_attention_bf16_cache, uint16_t, (), ())
MOEC_SIMT_ATTENTION(moec_uk_attention_split, float, (float* workspace, int64_t splits, ), (workspace, splits, ))
MOEC_SIMT_ATTENTION(moec_uk_attention_bf16_cache_split, uint16_t, (float* workspace, int64_t splits, ),
                    (workspace, splits, ))
MOEC_SIMT_ENTRY(moec_uk_expert_gate_up,
                (const float* x, const int32_t* indices, const uint8_t* weight, const uint16_t* bias,
                 float* activation, int64_t rows, int64_t top_k, int64_t d, int64_t intermediate, int64_t experts,
                 float limit, float alpha, const int32_t* live, int64_t workgroup, int64_t),
                (x, indices, weight, bias, activation, rows, top_k, d, intermediate, experts, limit, alpha, live))
MOEC_SIMT_ENTRY(moec_uk_expert_down,
                (const float* activation, const float* routing_weights, const int32_t* indices,
                 const uint8_t* weight, const uint16_t* bias, const float* residual, float* out, int64_t rows,
                 int64_t top_k, int64_t intermediate, int64_t d, int64_t experts, const int32_t* live,
                 int64_t workgroup, int64_t),
                (activation, routing_weights, indices, weight, bias, residual, out, rows, top_k, intermediate, d,
                 experts, live))
MOEC_SIMT_ENTRY(moec_uk_add,
                (const float* a, const float* b, float* out, int64_t n, int64_t rows, const int32_t* live,
                 int64_t workgroup, int64_t),
                (a, b, out, n, rows, live))
