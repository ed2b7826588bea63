//===- MoeDialect.td - gpt-oss at graph level ---------------*- tablegen -*-===//
//
// The moe dialect: the gpt-oss forward pass as a graph of tensor ops with value
// semantics, weights referenced by name, and kernel regions that record how
// passes group and schedule the ops.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_DIALECTS_MOE_MOEDIALECT_TD
#define MOEC_DIALECTS_MOE_MOEDIALECT_TD

include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/DialectBase.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

def Moe_Dialect : Dialect {
  let name = "moe";
  let cppNamespace = "::moec::moe";
  let summary = "The gpt-oss Mixture-of-Experts transformer at graph level";
  let description = [{
    Ops with exactly the semantics of the gpt-oss forward pass
    (`../shared/reference/gpt-oss-spec.md` §2): embedding, RMSNorm, biased
    linears, YaRN RoPE, attention with learned sinks, an optional sliding
    window, grouped KV heads and a KV cache, the top-k router, the MXFP4
    experts with clamped SwiGLU, the unembedding and sampling.

    Conventions:
    - Activations are `f32` tensors with the token (row) dimension first;
      weights keep their checkpoint precision (`bf16`, or MXFP4 through the
      `mx` dialect's `#mx.block_scaled` encoding).
    - Weights are never inlined: `moe.weight` names a tensor of the external
      weight store (the checkpoint index at import, the artifact after
      layout) and states its type.
    - Attention rows carry a sequence slot and an absolute position each;
      a row with a negative position is padding: it neither reads nor writes
      the cache and its outputs are unspecified. This lets one op serve a
      prefill chunk of one sequence and a decode batch of many.
    - `moe.kernel` groups ops into one future kernel; its `schedule`
      dictionary records the tiling decisions of later passes.
  }];
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::moec::mx::MxDialect"];
}

class Moe_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Moe_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Moe_YarnAttr : Moe_Attr<"Yarn", "yarn"> {
  let summary = "YaRN (NTK-by-parts) RoPE scaling parameters";
  let description = [{
    The rotary embedding of gpt-oss: base `theta`, context extension
    `factor` over `original_context` positions, and the correction range
    `beta_fast`/`beta_slow` (in rotations) between pure extrapolation and
    pure interpolation. With `truncate`, the range bounds are floored and
    ceiled (a newer Hugging Face option; gpt-oss uses `false`). The cos and
    sin tables are multiplied by `0.1 ln(factor) + 1`.

    ```mlir
    #moe.yarn<theta = 150000.0, factor = 32.0, beta_fast = 32.0, beta_slow = 1.0, original_context = 4096, truncate = false>
    ```
  }];
  let parameters = (ins
    APFloatParameter<"rotation base">:$theta,
    APFloatParameter<"context extension factor">:$factor,
    APFloatParameter<"correction range start, in rotations">:$beta_fast,
    APFloatParameter<"correction range end, in rotations">:$beta_slow,
    "int64_t":$original_context,
    "bool":$truncate
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif  // MOEC_DIALECTS_MOE_MOEDIALECT_TD
