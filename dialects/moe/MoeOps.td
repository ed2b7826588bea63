//===- MoeOps.td - gpt-oss graph-level ops ------------------*- tablegen -*-===//

#ifndef MOEC_DIALECTS_MOE_MOEOPS_TD
#define MOEC_DIALECTS_MOE_MOEOPS_TD

include "dialects/moe/MoeDialect.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"

class Moe_Op<string mnemonic, list<Trait> traits = []>
    : Op<Moe_Dialect, mnemonic, traits>;

def Moe_F32Tensor : RankedTensorOf<[F32]>;
// KV caches: f32, or bf16 where the target keeps them so (moe-assign-kv-cache-type).
def Moe_CacheTensor : RankedTensorOf<[F32, BF16]>;
def Moe_I32Tensor : RankedTensorOf<[I32]>;
// A dense weight of any float precision (bf16 in the checkpoints).
def Moe_FloatTensor : RankedTensorOf<[AnyFloat]>;

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def Moe_WeightOp : Moe_Op<"weight", [Pure]> {
  let summary = "A weight of the external store, by name";
  let description = [{
    Returns the weight named `name` in the weight store, with the stated
    type. The IR never holds weight bytes: a 120b model imports in
    milliseconds and its IR stays small. Names are the Hugging Face tensor
    names; an MXFP4 weight (`#mx.block_scaled` type) names the pair
    `<name>_blocks` / `<name>_scales` of the store.

    ```mlir
    %w = moe.weight "model.layers.0.self_attn.q_proj.weight" : tensor<4096x2880xbf16>
    %e = moe.weight "model.layers.0.mlp.experts.gate_up_proj" : tensor<32x5760x2880xf4E2M1FN, #mx.block_scaled<axis = 2>>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Token-wise ops
//===----------------------------------------------------------------------===//

def Moe_EmbeddingOp : Moe_Op<"embedding", [Pure]> {
  let summary = "Gathers embedding rows for token ids";
  let description = [{
    `result[t, :] = table[tokens[t], :]`, widened to f32. Ids outside
    `[0, V)` are the caller's error (the runtime checks them at the boundary).

    ```mlir
    %x = moe.embedding %table[%tokens] : tensor<201088x2880xbf16>, tensor<16xi32> -> tensor<16x2880xf32>
    ```
  }];
  let arguments = (ins Moe_FloatTensor:$table, Moe_I32Tensor:$tokens);
  let results = (outs Moe_F32Tensor:$result);
  let assemblyFormat = [{
    $table `[` $tokens `]` attr-dict `:` type($table) `,` type($tokens) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Moe_RmsNormOp : Moe_Op<"rms_norm", [Pure]> {
  let summary = "RMS normalisation with a multiplicative gain";
  let description = [{
    `result[t, i] = input[t, i] / sqrt(mean_j(input[t, j]^2) + epsilon) * gain[i]`
    (no `1 + gain`, no bias).

    ```mlir
    %n = moe.rms_norm %x, %g epsilon = 1.0e-05 : tensor<16x2880xf32>, tensor<2880xbf16> -> tensor<16x2880xf32>
    ```
  }];
  let arguments = (ins Moe_F32Tensor:$input, Moe_FloatTensor:$gain, F64Attr:$epsilon);
  let results = (outs Moe_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $gain `epsilon` `=` $epsilon attr-dict `:` type($input) `,` type($gain) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Moe_LinearOp : Moe_Op<"linear", [Pure]> {
  let summary = "Dense linear layer: input W^T (+ bias)";
  let description = [{
    `result[t, n] = sum_k input[t, k] * weight[n, k] + bias[n]`, the weight
    stored [out, in] as in the checkpoints; the bias is optional.

    ```mlir
    %q = moe.linear %n, %wq, %bq : tensor<16x2880xf32>, tensor<4096x2880xbf16>, tensor<4096xbf16> -> tensor<16x4096xf32>
    ```
  }];
  let arguments = (ins Moe_F32Tensor:$input, Moe_FloatTensor:$weight, Optional<Moe_FloatTensor>:$bias);
  let results = (outs Moe_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,` type($weight) (`,` type($bias)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def Moe_RopeOp : Moe_Op<"rope", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Rotary position embedding with YaRN scaling";
  let description = [{
    Rotates each `head_dim`-wide head of every row by its absolute position,
    half-split (NeoX) pairs `(i, i + head_dim/2)`:
    `out[i] = x[i] cos - x[i + d/2] sin`, `out[i + d/2] = x[i + d/2] cos + x[i] sin`,
    with `cos`/`sin` of `position * inv_freq_i` from the `scaling`
    parameters, both multiplied by the YaRN concentration. Rows with a
    negative position are padding and pass through unchanged.

    ```mlir
    %qr = moe.rope %q, %pos head_dim = 64 scaling(#moe.yarn<...>) : tensor<16x4096xf32>, tensor<16xi32>
    ```
  }];
  let arguments = (ins Moe_F32Tensor:$input, Moe_I32Tensor:$positions,
                       ConfinedAttr<I64Attr, [IntPositive]>:$head_dim, Moe_YarnAttr:$scaling);
  let results = (outs Moe_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $positions `head_dim` `=` $head_dim `scaling` `(` qualified($scaling) `)` attr-dict `:` type($input) `,` type($positions)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

def Moe_AttentionOp : Moe_Op<"attention", [Pure]> {
  let summary = "Grouped-query attention with sinks, an optional sliding window and a KV cache";
  let description = [{
    For each row `r` (sequence slot `s = slots[r]`, position `p = positions[r]`):
    first every row's `key`/`value` ([G * d] per row) is written to
    `cache[s, p]`; then query head `h` (KV head `g = h / (H / G)`) of row `r`
    attends to the cached positions `j` of slot `s` with
    `max(0, p - sliding_window + 1) <= j <= p` (no lower bound without a
    window):

    ```
    score_j = scale * q_h . k_g(j)
    m       = max(max_j score_j, sinks[h])
    w_j     = exp(score_j - m) / (sum_j exp(score_j - m) + exp(sinks[h] - m))
    out_h   = sum_j w_j v_g(j)
    ```

    The sink is a raw logit with no value vector; its probability mass is
    dropped. The results are the attention output ([rows, H * d], head-major)
    and the updated caches. Caches are `[slots, capacity, G, d]` rings:
    position `p` lives at index `p mod capacity`. Without a window, positions
    must stay below the capacity; with one, the capacity must be at least
    `window + rows - 1` (or hold the whole context) so that no row's append
    overwrites a key another row of the same call still reads; a sliding
    layer's cache then stays small at any context length. Rows with a negative position are padding: they write
    nothing and their output is unspecified.

    Caches hold f32 or bf16 (both caches alike). With bf16 caches, keys and
    values are rounded to bf16 (to nearest even) as they are appended, and the
    keys and values of the call's own rows are read rounded the same way, so
    the result does not depend on how a sequence was split into calls.

    ```mlir
    %o, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
        {num_heads = 64, num_kv_heads = 8, head_dim = 64, scale = 0.125, sliding_window = 128}
        : (tensor<16x4096xf32>, tensor<16x512xf32>, tensor<16x512xf32>, tensor<64xbf16>,
           tensor<1x4096x8x64xf32>, tensor<1x4096x8x64xf32>, tensor<16xi32>, tensor<16xi32>)
        -> (tensor<16x4096xf32>, tensor<1x4096x8x64xf32>, tensor<1x4096x8x64xf32>)
    ```
  }];
  let arguments = (ins
    Moe_F32Tensor:$query, Moe_F32Tensor:$key, Moe_F32Tensor:$value, Moe_FloatTensor:$sinks,
    Moe_CacheTensor:$key_cache, Moe_CacheTensor:$value_cache, Moe_I32Tensor:$slots, Moe_I32Tensor:$positions,
    ConfinedAttr<I64Attr, [IntPositive]>:$num_heads,
    ConfinedAttr<I64Attr, [IntPositive]>:$num_kv_heads,
    ConfinedAttr<I64Attr, [IntPositive]>:$head_dim,
    F64Attr:$scale,
    OptionalAttr<I64Attr>:$sliding_window
  );
  let results = (outs Moe_F32Tensor:$result, Moe_CacheTensor:$new_key_cache, Moe_CacheTensor:$new_value_cache);
  let assemblyFormat = [{
    $query `,` $key `,` $value `sinks` `(` $sinks `)` `cache` `(` $key_cache `,` $value_cache `)`
    `at` `(` $slots `,` $positions `)` attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Mixture of experts
//===----------------------------------------------------------------------===//

def Moe_RouterOp : Moe_Op<"router", [Pure]> {
  let summary = "Router logits, top-k, then a softmax over the k selected";
  let description = [{
    `logits = input W^T + bias` ([rows, E]); per row the `top_k` largest
    logits (highest first, the lowest expert index among equals) and a
    softmax over those k logits only. Results: the routing weights
    ([rows, k], f32, summing to 1) and the expert indices ([rows, k], i32).

    ```mlir
    %w, %i = moe.router %n, %wr, %br top_k = 4 : tensor<16x2880xf32>, tensor<32x2880xbf16>, tensor<32xbf16> -> tensor<16x4xf32>, tensor<16x4xi32>
    ```
  }];
  let arguments = (ins Moe_F32Tensor:$input, Moe_FloatTensor:$weight, Moe_FloatTensor:$bias,
                       ConfinedAttr<I64Attr, [IntPositive]>:$top_k);
  let results = (outs Moe_F32Tensor:$routing_weights, Moe_I32Tensor:$expert_indices);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias `top_k` `=` $top_k attr-dict `:` type($input) `,` type($weight) `,` type($bias)
    `->` type($routing_weights) `,` type($expert_indices)
  }];
  let hasVerifier = 1;
}

def Moe_ExpertsOp : Moe_Op<"experts", [Pure]> {
  let summary = "Routed MXFP4 experts with clamped SwiGLU and the weighted combine";
  let description = [{
    For each row and each of its k routed experts `e` with weight `w`:

    ```
    h     = gate_up[e] x + gate_up_bias[e]            // [2I]; rows 2i gate, 2i+1 linear
    glu   = min(h[2i], limit);  lin = clamp(h[2i+1], -limit, limit)
    a[i]  = glu * sigmoid(alpha * glu) * (lin + 1)     // [I]
    y     = down[e] a + down_bias[e]                   // [D]
    out  += w * y
    ```

    `gate_up` is MXFP4 [E, 2I, D] and `down` MXFP4 [E, D, I], both blocked
    along their input (last) axis. The residual add is not part of the op.

    ```mlir
    %y = moe.experts %n routed(%w, %i) gate_up(%gu, %gub) down(%dn, %dnb) swiglu_limit = 7.0 swiglu_alpha = 1.702
        : (tensor<16x2880xf32>, tensor<16x4xf32>, tensor<16x4xi32>,
           tensor<32x5760x2880xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<32x5760xbf16>,
           tensor<32x2880x2880xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<32x2880xbf16>) -> tensor<16x2880xf32>
    ```
  }];
  let arguments = (ins
    Moe_F32Tensor:$input, Moe_F32Tensor:$routing_weights, Moe_I32Tensor:$expert_indices,
    AnyRankedTensor:$gate_up, Moe_FloatTensor:$gate_up_bias,
    AnyRankedTensor:$down, Moe_FloatTensor:$down_bias,
    F64Attr:$swiglu_limit, F64Attr:$swiglu_alpha
  );
  let results = (outs Moe_F32Tensor:$result);
  let assemblyFormat = [{
    $input `routed` `(` $routing_weights `,` $expert_indices `)` `gate_up` `(` $gate_up `,` $gate_up_bias `)`
    `down` `(` $down `,` $down_bias `)` `swiglu_limit` `=` $swiglu_limit `swiglu_alpha` `=` $swiglu_alpha
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Moe_ExpertGateUpOp : Moe_Op<"expert_gate_up", [Pure]> {
  let summary = "First half of the routed experts: gate_up matmul with the clamped SwiGLU epilogue";
  let description = [{
    For each row `r` and routed slot `j` (expert `e = expert_indices[r, j]`):

    ```
    h                 = gate_up[e] input[r] + gate_up_bias[e]     // [2I]
    glu = min(h[2i], limit);  lin = clamp(h[2i+1], -limit, limit)
    result[r, j, i]   = glu * sigmoid(alpha * glu) * (lin + 1)   // [rows, k, I]
    ```

    `moe-split-experts` produces it from `moe.experts`; with `moe.expert_down`
    it computes the same thing. It is the kernel that streams the gate_up
    weights of the routed experts, with SwiGLU applied before anything leaves
    registers.
  }];
  let arguments = (ins
    Moe_F32Tensor:$input, Moe_I32Tensor:$expert_indices,
    AnyRankedTensor:$gate_up, Moe_FloatTensor:$gate_up_bias,
    F64Attr:$swiglu_limit, F64Attr:$swiglu_alpha
  );
  let results = (outs Moe_F32Tensor:$result);
  let assemblyFormat = [{
    $input `routed` `(` $expert_indices `)` `gate_up` `(` $gate_up `,` $gate_up_bias `)`
    `swiglu_limit` `=` $swiglu_limit `swiglu_alpha` `=` $swiglu_alpha
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Moe_ExpertDownOp : Moe_Op<"expert_down", [Pure]> {
  let summary = "Second half of the routed experts: down matmul with the weighted combine";
  let description = [{
    `result[r] = sum_j routing_weights[r, j] * (down[e] activation[r, j] + down_bias[e])`
    with `e = expert_indices[r, j]`: the down projection of every routed
    expert and their weighted sum, in one pass over the down weights.
  }];
  let arguments = (ins
    Moe_F32Tensor:$activation, Moe_F32Tensor:$routing_weights, Moe_I32Tensor:$expert_indices,
    AnyRankedTensor:$down, Moe_FloatTensor:$down_bias
  );
  let results = (outs Moe_F32Tensor:$result);
  let assemblyFormat = [{
    $activation `routed` `(` $routing_weights `,` $expert_indices `)` `down` `(` $down `,` $down_bias `)`
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Output
//===----------------------------------------------------------------------===//

def Moe_UnembedOp : Moe_Op<"unembed", [Pure]> {
  let summary = "Logits from the final hidden state";
  let description = [{
    `logits[t, v] = sum_i input[t, i] * weight[v, i]`: no bias, no scaling,
    no soft-capping. A separate op from `moe.linear` because passes treat it
    differently (it is the largest single weight read of a decode step, and
    fuses with the final norm and the sampler).

    ```mlir
    %l = moe.unembed %n, %wu : tensor<1x2880xf32>, tensor<201088x2880xbf16> -> tensor<1x201088xf32>
    ```
  }];
  let arguments = (ins Moe_F32Tensor:$input, Moe_FloatTensor:$weight);
  let results = (outs Moe_F32Tensor:$logits);
  let assemblyFormat = "$input `,` $weight attr-dict `:` type($input) `,` type($weight) `->` type($logits)";
  let hasVerifier = 1;
}

def Moe_SampleOp : Moe_Op<"sample", [Pure]> {
  let summary = "Picks one token per row of logits";
  let description = [{
    With `temperature` 0: the argmax (the lowest id among equals). Otherwise
    a draw from `softmax(logits / temperature)` restricted to the smallest
    set of most likely tokens whose probability reaches `top_p`, using a
    counter-based generator keyed by `seed` and the row: the same inputs
    give the same tokens.

    ```mlir
    %t = moe.sample %logits temperature(%temp) top_p(%p) seed(%seed) : tensor<4x201088xf32>, f32, f32, i64 -> tensor<4xi32>
    ```
  }];
  let arguments = (ins Moe_F32Tensor:$logits, F32:$temperature, F32:$top_p, I64:$seed);
  let results = (outs Moe_I32Tensor:$tokens);
  let assemblyFormat = [{
    $logits `temperature` `(` $temperature `)` `top_p` `(` $top_p `)` `seed` `(` $seed `)` attr-dict
    `:` type($logits) `,` type($temperature) `,` type($top_p) `,` type($seed) `->` type($tokens)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

def Moe_KernelOp : Moe_Op<"kernel", [
    SingleBlockImplicitTerminator<"YieldOp">, RecursiveMemoryEffects]> {
  let summary = "Groups ops into one kernel";
  let description = [{
    The ops of the body become one kernel: fusion passes move a producer and
    its consumers into a `moe.kernel`, and later passes outline each kernel
    into a device function. The body may use values from above; its
    `moe.yield` gives the results. `name` identifies the kernel in profiles;
    `schedule` records target-specific decisions (tile sizes, workgroup
    counts, split factors) as a dictionary the tiling passes fill in.

    ```mlir
    %y = moe.kernel "rms_norm_qkv" schedule {rows_per_workgroup = 64 : i64} -> tensor<1x5120xf32> {
      %n = moe.rms_norm %x, %g epsilon = 1.0e-05 : tensor<1x2880xf32>, tensor<2880xbf16> -> tensor<1x2880xf32>
      %q = moe.linear %n, %w, %b : tensor<1x2880xf32>, tensor<5120x2880xbf16>, tensor<5120xbf16> -> tensor<1x5120xf32>
      moe.yield %q : tensor<1x5120xf32>
    }
    ```
  }];
  let arguments = (ins StrAttr:$name, OptionalAttr<DictionaryAttr>:$schedule);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $name (`schedule` $schedule^)? (`->` type($results)^)? attr-dict-with-keyword $body
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "::mlir::TypeRange":$resultTypes, "::llvm::StringRef":$name)>
  ];
}

def Moe_YieldOp : Moe_Op<"yield", [Pure, Terminator, HasParent<"KernelOp">]> {
  let summary = "Returns the results of a moe.kernel";
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
  let builders = [OpBuilder<(ins), [{ build($_builder, $_state, ::mlir::ValueRange()); }]>];
}

#endif  // MOEC_DIALECTS_MOE_MOEOPS_TD
