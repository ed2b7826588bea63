// RUN: moec-opt %s --moe-split-experts | FileCheck %s

// CHECK-LABEL: func.func @split
// CHECK-SAME: (%[[X:.+]]: tensor<4x128xf32>, %[[W:.+]]: tensor<4x2xf32>, %[[I:.+]]: tensor<4x2xi32>, %[[GU:[^:]+]]: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, %[[GUB:[^:]+]]: tensor<8x192xbf16>, %[[DN:[^:]+]]: tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %[[DNB:[^:]+]]: tensor<8x128xbf16>)
// CHECK:   %[[A:.+]] = moe.expert_gate_up %[[X]] routed(%[[I]]) gate_up(%[[GU]], %[[GUB]]) swiglu_limit = 7.000000e+00 swiglu_alpha = 1.702000e+00 {moe.layer = 3 : i64} : ({{.*}}) -> tensor<4x2x96xf32>
// CHECK:   %[[Y:.+]] = moe.expert_down %[[A]] routed(%[[W]], %[[I]]) down(%[[DN]], %[[DNB]]) {moe.layer = 3 : i64} : ({{.*}}) -> tensor<4x128xf32>
// CHECK-NOT: moe.experts
// CHECK:   return %[[Y]]
func.func @split(%x: tensor<4x128xf32>, %w: tensor<4x2xf32>, %i: tensor<4x2xi32>,
                 %gu: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, %gub: tensor<8x192xbf16>,
                 %dn: tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x128xbf16>) -> tensor<4x128xf32> {
  %y = moe.experts %x routed(%w, %i) gate_up(%gu, %gub) down(%dn, %dnb) swiglu_limit = 7.0 swiglu_alpha = 1.702 {moe.layer = 3 : i64}
      : (tensor<4x128xf32>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x192xbf16>,
         tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}
