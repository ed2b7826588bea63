// RUN: moec-opt %s --moe-form-kernels | FileCheck %s

// Every compute op ends up in a kernel of its own, named after it; weights
// and ops already in kernels stay where they are.
// CHECK-LABEL: func.func @form
// CHECK:      %[[T:.+]] = moe.weight "model.embed_tokens.weight"
// CHECK-NEXT: %[[E:.+]] = moe.kernel "embedding" -> tensor<4x128xf32> {
// CHECK-NEXT:   moe.embedding %[[T]]
// CHECK:      %[[R:.+]] = moe.kernel "rope" -> tensor<4x64xf32> {
// CHECK:      moe.kernel "already" -> tensor<4x128xf32> {
// CHECK-NEXT:   arith.addf
// CHECK-NEXT:   moe.yield
// CHECK-NEXT: }
// CHECK:      moe.kernel "residual_add" -> tensor<4x128xf32> {
// CHECK:      moe.kernel "expert_gate_up_swiglu" -> tensor<4x2x96xf32> {
// CHECK-NOT:  moe.kernel
// CHECK:      return
func.func @form(%tok: tensor<4xi32>, %pos: tensor<4xi32>, %k: tensor<4x64xf32>, %i: tensor<4x2xi32>,
                %gu: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, %gub: tensor<8x192xbf16>)
    -> (tensor<4x64xf32>, tensor<4x128xf32>, tensor<4x2x96xf32>) {
  %t = moe.weight "model.embed_tokens.weight" : tensor<1024x128xbf16>
  %e = moe.embedding %t[%tok] : tensor<1024x128xbf16>, tensor<4xi32> -> tensor<4x128xf32>
  %r = moe.rope %k, %pos head_dim = 32 scaling(#moe.yarn<theta = 150000.0, factor = 32.0, beta_fast = 32.0, beta_slow = 1.0, original_context = 4096, truncate = false>) : tensor<4x64xf32>, tensor<4xi32>
  %d = moe.kernel "already" -> tensor<4x128xf32> {
    %s = arith.addf %e, %e : tensor<4x128xf32>
    moe.yield %s : tensor<4x128xf32>
  }
  %s2 = arith.addf %d, %e : tensor<4x128xf32>
  %a = moe.expert_gate_up %s2 routed(%i) gate_up(%gu, %gub) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<4x128xf32>, tensor<4x2xi32>, tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x192xbf16>) -> tensor<4x2x96xf32>
  return %r, %s2, %a : tensor<4x64xf32>, tensor<4x128xf32>, tensor<4x2x96xf32>
}
