// RUN: moec-opt %s --split-input-file --moe-assign-weight-layouts --verify-diagnostics | FileCheck %s

// Dense weights stay row-major; MXFP4 weights put all blocks before all scales.
// CHECK-LABEL: func.func @layouts
// CHECK: moe.weight "model.layers.0.self_attn.q_proj.weight" {moe.layout = "row_major"} : tensor<256x128xbf16>
// CHECK: moe.weight "model.layers.0.mlp.experts.gate_up_proj" {moe.layout = "mxfp4_blocks_then_scales"} : tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>
func.func @layouts() {
  %q = moe.weight "model.layers.0.self_attn.q_proj.weight" : tensor<256x128xbf16>
  %g = moe.weight "model.layers.0.mlp.experts.gate_up_proj" : tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>
  return
}

// -----

// One name, two incompatible types: the weight cannot have one layout.
func.func @a() {
  %w = moe.weight "w" : tensor<8x64xbf16>
  return
}
func.func @b() {
  // expected-error @+1 {{weight "w" needs layout "mxfp4_blocks_then_scales" here but "row_major" elsewhere}}
  %w = moe.weight "w" : tensor<8x64xf4E2M1FN, #mx.block_scaled<axis = 1>>
  return
}
