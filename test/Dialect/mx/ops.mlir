// Round trip of the mx ops and the #mx.block_scaled encoding, custom and
// generic form.
// RUN: moec-opt %s -split-input-file | moec-opt -split-input-file | FileCheck %s
// RUN: moec-opt %s -split-input-file --mlir-print-op-generic | moec-opt -split-input-file | FileCheck %s

// The default block of 32 is elided when printed.

// CHECK-LABEL: func.func @encoding_default_block
// CHECK-SAME:    (%[[A:.+]]: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>)
// CHECK-SAME:    -> tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>
func.func @encoding_default_block(%a: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2, block = 32>>)
    -> tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>> {
  return %a : tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>
}

// -----

// CHECK-LABEL: func.func @encoding_explicit_block
// CHECK-SAME:    tensor<96x64xf4E2M1FN, #mx.block_scaled<axis = 0, block = 16>>
// CHECK-SAME:    tensor<4x?x64xf8E4M3FN, #mx.block_scaled<axis = 2, block = 64>>
// CHECK-SAME:    tensor<128xf8E5M2, #mx.block_scaled<axis = 0>>
// CHECK-SAME:    tensor<2x32xf6E2M3FN, #mx.block_scaled<axis = 1>>
// CHECK-SAME:    tensor<2x32xf6E3M2FN, #mx.block_scaled<axis = 1, block = 8>>
func.func @encoding_explicit_block(%a: tensor<96x64xf4E2M1FN, #mx.block_scaled<axis = 0, block = 16>>,
                                   %b: tensor<4x?x64xf8E4M3FN, #mx.block_scaled<axis = 2, block = 64>>,
                                   %c: tensor<128xf8E5M2, #mx.block_scaled<axis = 0>>,
                                   %d: tensor<2x32xf6E2M3FN, #mx.block_scaled<axis = 1>>,
                                   %e: tensor<2x32xf6E3M2FN, #mx.block_scaled<axis = 1, block = 8>>) {
  return
}

// -----

// An alias for the encoding, as an importer would print it.
#mxfp4 = #mx.block_scaled<axis = 1>

// CHECK-LABEL: func.func @encoding_alias
// CHECK-SAME:    tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>>
func.func @encoding_alias(%a: tensor<192x128xf4E2M1FN, #mxfp4>) -> tensor<192x128xf4E2M1FN, #mxfp4> {
  return %a : tensor<192x128xf4E2M1FN, #mxfp4>
}

// -----

// CHECK-LABEL: func.func @dequantize_mxfp4
// CHECK-SAME:    (%[[Q:.+]]: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>)
// CHECK:         %[[W:.+]] = mx.dequantize %[[Q]] : tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>> -> tensor<8x192x128xbf16>
// CHECK:         return %[[W]]
func.func @dequantize_mxfp4(%q: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>) -> tensor<8x192x128xbf16> {
  %w = mx.dequantize %q : tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>> -> tensor<8x192x128xbf16>
  return %w : tensor<8x192x128xbf16>
}

// -----

// A weight from the store, dequantised to f32.

// CHECK-LABEL: func.func @dequantize_weight
// CHECK:         %[[Q:.+]] = moe.weight "model.layers.0.mlp.experts.down_proj" : tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>
// CHECK:         mx.dequantize %[[Q]] : tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>> -> tensor<8x128x96xf32>
func.func @dequantize_weight() -> tensor<8x128x96xf32> {
  %q = moe.weight "model.layers.0.mlp.experts.down_proj" : tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>
  %w = mx.dequantize %q : tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>> -> tensor<8x128x96xf32>
  return %w : tensor<8x128x96xf32>
}

// -----

// MXFP8 (E4M3 values) with an explicit block, blocked along the rows.

// CHECK-LABEL: func.func @dequantize_mxfp8
// CHECK:         mx.dequantize %{{.+}} : tensor<64x16xf8E4M3FN, #mx.block_scaled<axis = 0, block = 64>> -> tensor<64x16xf32>
func.func @dequantize_mxfp8(%q: tensor<64x16xf8E4M3FN, #mx.block_scaled<axis = 0, block = 64>>) -> tensor<64x16xf32> {
  %w = mx.dequantize %q : tensor<64x16xf8E4M3FN, #mx.block_scaled<axis = 0, block = 64>> -> tensor<64x16xf32>
  return %w : tensor<64x16xf32>
}

// -----

// GEMV of batch-1 decode (tiny model: gate_up of one expert, 192 x 128).

// CHECK-LABEL: func.func @matmul_gemv
// CHECK-SAME:    (%[[X:[^:]+]]: tensor<1x128xf32>, %[[W:[^:]+]]: tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>>)
// CHECK:         %[[Y:.+]] = mx.matmul %[[X]], %[[W]] : tensor<1x128xf32>, tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>> -> tensor<1x192xf32>
// CHECK:         return %[[Y]]
func.func @matmul_gemv(%x: tensor<1x128xf32>, %w: tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>>) -> tensor<1x192xf32> {
  %y = mx.matmul %x, %w : tensor<1x128xf32>, tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>> -> tensor<1x192xf32>
  return %y : tensor<1x192xf32>
}

// -----

// GEMM of prefill at the gpt-oss-20b shape (gate_up of one expert, 5760 x 2880),
// with a dynamic row count and a bf16 activation.

// CHECK-LABEL: func.func @matmul_gemm_20b
// CHECK:         mx.matmul %{{.+}}, %{{.+}} : tensor<?x2880xbf16>, tensor<5760x2880xf4E2M1FN, #mx.block_scaled<axis = 1>> -> tensor<?x5760xf32>
func.func @matmul_gemm_20b(%x: tensor<?x2880xbf16>, %w: tensor<5760x2880xf4E2M1FN, #mx.block_scaled<axis = 1>>) -> tensor<?x5760xf32> {
  %y = mx.matmul %x, %w : tensor<?x2880xbf16>, tensor<5760x2880xf4E2M1FN, #mx.block_scaled<axis = 1>> -> tensor<?x5760xf32>
  return %y : tensor<?x5760xf32>
}
