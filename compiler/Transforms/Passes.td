//===- Passes.td - moec's target-independent passes ---------*- tablegen -*-===//
//
// The fusion, scheduling and outlining passes of the default pipeline. Every
// pass name starts with "moe-"; each has a lit test under test/Transforms/
// named after its file.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_COMPILER_TRANSFORMS_PASSES_TD
#define MOEC_COMPILER_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def MoeAssignKvCacheType : Pass<"moe-assign-kv-cache-type", "::mlir::func::FuncOp"> {
  let summary = "Give the KV caches the element type the target's attention kernels keep";
  let description = [{
    Retypes the function's KV cache arguments (`moe.name` = `key_cache.L` /
    `value_cache.L`), the `moe.attention` ops that read and update them, and
    the returned caches to `element-type`, or to the target's choice
    (`targets/common/TargetDescription`) when that option is empty: f32 on
    CPUs, bf16 on GPUs, where it halves the bytes attention streams at long
    contexts. Keys and values are rounded to the cache type when appended;
    attention reads the keys of its own call rounded the same way, so results
    do not depend on how a prompt is split into calls.

    A cache that flows anywhere but between the function's arguments,
    `moe.attention` and `func.return` is an error (no other op reads caches).

    ```mlir
    // moe-assign-kv-cache-type{element-type=bf16}
    func.func @decode(..., %kc: tensor<1x64x2x32xf32> {moe.name = "key_cache.0"}, ...)
    // becomes
    func.func @decode(..., %kc: tensor<1x64x2x32xbf16> {moe.name = "key_cache.0"}, ...)
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"x86-64-v3\"",
           "target whose attention kernels keep the caches">,
    Option<"elementType", "element-type", "std::string", /*default=*/"\"\"",
           "f32 or bf16; empty: the target's choice">,
  ];
  let dependentDialects = ["::moec::moe::MoeDialect"];
}

def MoeSplitExperts : Pass<"moe-split-experts", "::mlir::func::FuncOp"> {
  let summary = "Split moe.experts into its gate_up and down halves";
  let description = [{
    Rewrites each `moe.experts` into `moe.expert_gate_up` (the routed gate_up
    matmuls with the clamped SwiGLU applied in their epilogue, producing the
    [rows, top_k, intermediate] activations) followed by `moe.expert_down`
    (the routed down matmuls with the bias and the weighted combine). The two
    halves stream different weights and want different schedules, and the
    residual add can then join the down kernel.
  }];
  let dependentDialects = ["::moec::moe::MoeDialect"];
}

def MoeFuseNormIntoLinear : Pass<"moe-fuse-norm-into-linear", "::mlir::func::FuncOp"> {
  let summary = "Fuse each RMSNorm into the prologue of the linears that read it";
  let description = [{
    Groups a `moe.rms_norm` with every `moe.linear`, `moe.router` and
    `moe.unembed` that consumes it into one `moe.kernel`: the normalised row
    is computed once in registers and never written out, unless another op
    (e.g. the experts, which read the same normalised rows as the router)
    still needs it, in which case the kernel also yields it. In gpt-oss this
    forms `rms_norm_qkv` (one norm, three projections), `rms_norm_router`
    and the final `rms_norm_unembed`.
  }];
  let dependentDialects = ["::moec::moe::MoeDialect"];
}

def MoeFuseResidualEpilogue : Pass<"moe-fuse-residual-epilogue", "::mlir::func::FuncOp"> {
  let summary = "Fuse residual adds into the epilogue of the op that produces the addend";
  let description = [{
    An `arith.addf` whose addend is produced by a `moe.linear` (the attention
    output projection) or a `moe.expert_down` (the expert combine), and used
    only there, joins that producer in one `moe.kernel`
    (`linear_residual`, `expert_down_residual`): the bias, the weighted
    combine and the residual are applied before the row leaves the kernel.
  }];
  let dependentDialects = ["::moec::moe::MoeDialect", "::mlir::arith::ArithDialect"];
}

def MoeFormKernels : Pass<"moe-form-kernels", "::mlir::func::FuncOp"> {
  let summary = "Give every remaining compute op a kernel of its own";
  let description = [{
    After the fusion passes, wraps each compute op that is not yet inside a
    `moe.kernel` (embedding, rope, attention, the router when not fused, the
    expert gate_up with its SwiGLU, a lone residual add) in a kernel named
    after it, so that everything outlining sees is a kernel. `moe.weight` ops
    stay outside: they only name buffers.
  }];
  let dependentDialects = ["::moec::moe::MoeDialect"];
}

def MoeScheduleKernels : Pass<"moe-schedule-kernels", "::mlir::func::FuncOp"> {
  let summary = "Choose each kernel's tiling from the target description";
  let description = [{
    Reads the target description (`targets/common/TargetDescription.h`:
    compute units, SIMD or warp width, shared memory, caches) named by the
    `target` option and fills each `moe.kernel`'s `schedule` dictionary:
    the shape class (`gemv` for decode-sized row counts, `gemm` for prefill
    chunks, `rowwise` for normalisations, `attention`), how many output
    columns (weight rows) and rows each workgroup computes, the number of
    workgroups, and the vector width. GEMVs are split along their weight rows
    so that every compute unit streams a disjoint slice of the weights, the
    unit of work never splits an MXFP4 block, and there are several
    workgroups per compute unit for balance. On GPUs, whose GEMVs give each
    warp a column, the column granule is the warps of a workgroup, and GEMMs
    take the microkernels' 64 x 64 matrix tiles, one per workgroup.

    Attention gets one workgroup per (row, KV head). On GPUs, when that
    leaves compute units idle (decode: one row, 8 KV heads, 132 SMs), the
    keys of each are split over `kv_splits` workgroups (split-KV, at least
    256 keys each, so a 128-key sliding window stays whole); the kernel
    recipe then picks the split microkernels, which combine the partial
    results through a WORKSPACE buffer. Attention in the `prefill` entry
    point gets `one_sequence = 1` and is never split: its rows are one
    sequence (the runtime's contract), so the GPU microkernel tiles the
    queries instead (flash style).
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"x86-64-v3\"",
           "target description to schedule for (x86-64-v3, x86-64-v4, sm_90a, gfx942)">,
    Option<"computeUnits", "compute-units", "int64_t", /*default=*/"0",
           "override the target's compute unit count (CPU cores); 0 keeps the target's">,
  ];
  let dependentDialects = ["::moec::moe::MoeDialect"];
}

def MoeAssignWeightLayouts : Pass<"moe-assign-weight-layouts", "::mlir::ModuleOp"> {
  let summary = "Choose the byte layout of every weight for the target's kernels";
  let description = [{
    Annotates each `moe.weight` with `moe.layout`, the packing the artifact
    writer repacks the checkpoint's bytes into and the kernels read:

    - `row_major`: dense weights as stored ([out, in] rows, bf16);
    - `mxfp4_blocks_then_scales`: an MXFP4 weight's packed 16-byte blocks for
      all rows, then its E8M0 scales for all rows (the CPU microkernels
      stream one row's blocks with one row's scales).

    Weights named in several entry points get one layout (they share one
    buffer); a conflict is an error. Targets with other kernels (tiled
    tensor-core layouts on GPUs) choose other layouts here.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"x86-64-v3\"", "target whose kernels read the weights">,
  ];
}

def MoeOutlineKernels : Pass<"moe-outline-kernels", "::mlir::ModuleOp"> {
  let summary = "Outline each moe.kernel into a private function and call it";
  let description = [{
    Moves the body of every `moe.kernel` into a new private `func.func`
    named `<entry point>.<index>.<kernel name>`, whose arguments are the
    values the body used from above (weights included, in first-use order)
    and whose results are the kernel's. The kernel becomes a `func.call`
    carrying the kernel's `schedule` as `moe.schedule`. The entry points are
    then host plans: a sequence of calls over named buffers.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def MoePlanMemory : Pass<"moe-plan-memory", "::mlir::ModuleOp"> {
  let summary = "Assign every value of the host plans a buffer: the memory plan";
  let description = [{
    Runs after `moe-outline-kernels`, on entry points that are sequences of
    kernel calls, and decides where each value lives. Every call gets a
    `moe.bindings` array with one buffer per operand and per result, in that
    order, as strings:

    - `input:<name>`: a runtime-filled argument (tokens, positions, slots);
    - `kv:<name>`: a KV cache, persistent across calls and shared by all
      entry points; results that are updated caches (of `moe.attention`)
      are bound to their cache, so the update is in place;
    - `weight:<name>`: a `moe.weight`;
    - `output:logits`: the entry point's logits, written in place by the
      kernel that produces them;
    - `arena:<offset>+<size>`: scratch in the activation arena. Offsets come
      from the values' live ranges (definition to last use, in call order):
      a first-fit allocator reuses the space of dead values, 64-byte aligned.

    The entry point gets `moe.arena_size`, the arena bytes it needs. This is
    bufferization for a fixed-shape model: every tensor has a static size,
    every kernel writes fresh buffers except the tied caches.
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", /*default=*/"64", "byte alignment of arena offsets">,
  ];
}

#endif  // MOEC_COMPILER_TRANSFORMS_PASSES_TD
