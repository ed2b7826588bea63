//===- MxDialect.td - OCP microscaling formats -------------*- tablegen -*-===//
//
// The mx dialect: MXFP4 tensors as an encoding of builtin tensors, and the ops
// that consume them.
//
//===----------------------------------------------------------------------===//

#ifndef MOEC_DIALECTS_MX_MXDIALECT_TD
#define MOEC_DIALECTS_MX_MXDIALECT_TD

include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/DialectBase.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/TensorEncoding.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Mx_Dialect : Dialect {
  let name = "mx";
  let cppNamespace = "::moec::mx";
  let summary = "OCP microscaling (MX) block-scaled formats, MXFP4 first";
  let description = [{
    MXFP4 stores a tensor as blocks of 32 consecutive values along one axis;
    each value is a 4-bit E2M1 float (`f4E2M1FN`) and each block shares one
    8-bit power-of-two scale (E8M0: byte `s` means `2^(s-127)`; byte 0 means
    2^-127, not zero). gpt-oss stores its expert weights this way, blocked
    along the contraction (input) axis.

    This dialect makes the format part of the type: an MXFP4 tensor is a
    builtin tensor with element type `f4E2M1FN` and the encoding
    `#mx.block_scaled<axis = A, block = 32>`, whose logical shape is the
    shape of the decoded values. The blocked axis is explicit, so passes can
    check that a contraction runs along it and that tiles never split a
    block. Storage (packed nibbles, low nibble first, and a separate scale
    tensor) is the concern of the weight store and of code generation, not of
    the graph.
  }];
  let useDefaultAttributePrinterParser = 1;
}

class Mx_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Mx_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Mx_BlockScaledAttr : Mx_Attr<"BlockScaled", "block_scaled",
    [DeclareAttrInterfaceMethods<VerifiableTensorEncoding>]> {
  let summary = "Block-scaled (MX) tensor encoding";
  let description = [{
    Marks a tensor as block-scaled: the values along dimension `axis` are
    grouped into consecutive blocks of `block` elements that share one E8M0
    scale. With element type `f4E2M1FN` this is MXFP4.

    ```mlir
    // 32 experts, 5760 output rows, 2880 inputs blocked by 32 along the inputs.
    tensor<32x5760x2880xf4E2M1FN, #mx.block_scaled<axis = 2>>
    ```

    The tensor type verifies that `axis` names a dimension, that the
    dimension is static and a multiple of `block`, and that the element type
    is a 4-, 6- or 8-bit float of the MX family.
  }];
  let parameters = (ins
    "int64_t":$axis,
    DefaultValuedParameter<"int64_t", "32">:$block
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The number of scales along the blocked axis for `extent` values.
    int64_t getNumBlocks(int64_t extent) const { return extent / getBlock(); }
  }];
}

class Mx_Op<string mnemonic, list<Trait> traits = []>
    : Op<Mx_Dialect, mnemonic, traits>;

// A ranked tensor whose encoding is #mx.block_scaled.
def Mx_BlockScaledTensor : Type<
    And<[AnyRankedTensor.predicate,
         CPred<"::llvm::isa_and_nonnull<::moec::mx::BlockScaledAttr>("
               "::llvm::cast<::mlir::RankedTensorType>($_self).getEncoding())">]>,
    "block-scaled (#mx.block_scaled) tensor">;

def Mx_DequantizeOp : Mx_Op<"dequantize", [Pure]> {
  let summary = "Decodes a block-scaled tensor to ordinary floats";
  let description = [{
    Returns the decoded values of `input`: element `i` is
    `E2M1(code_i) * 2^(scale_block(i) - 127)`. Every MXFP4 value is exactly
    representable in bf16, so a bf16 or f32 result is exact.

    ```mlir
    %w = mx.dequantize %q : tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>> -> tensor<8x192x128xbf16>
    ```
  }];
  let arguments = (ins Mx_BlockScaledTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Mx_MatmulOp : Mx_Op<"matmul", [Pure]> {
  let summary = "Matrix product with a block-scaled weight: x W^T";
  let description = [{
    `result[m, n] = sum_k lhs[m, k] * W[n, k]` where `W` is the decoded
    `weight` ([N, K], blocked along K, the contraction axis). This is the
    GEMV of batch-1 decode and the GEMM of prefill: kernels decode the
    weight in registers and never materialise it.

    ```mlir
    %y = mx.matmul %x, %w : tensor<4x2880xf32>, tensor<5760x2880xf4E2M1FN, #mx.block_scaled<axis = 1>> -> tensor<4x5760xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$lhs, Mx_BlockScaledTensor:$weight);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $weight attr-dict `:` type($lhs) `,` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

#endif  // MOEC_DIALECTS_MX_MXDIALECT_TD
