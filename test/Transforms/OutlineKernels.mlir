// RUN: moec-opt %s --moe-outline-kernels | FileCheck %s

// Each kernel becomes a private function of the values it used from above,
// in first-use order, and a call that keeps the schedule.
// CHECK-LABEL: func.func @decode
// CHECK-SAME: (%[[X:.+]]: tensor<1x128xf32>, %[[POS:.+]]: tensor<1xi32>)
// CHECK:      %[[W:.+]] = moe.weight "model.norm.weight"
// CHECK:      %[[A:.+]] = call @decode.0.norm(%[[X]], %[[W]]) {moe.kernel = "norm"} : (tensor<1x128xf32>, tensor<128xbf16>) -> tensor<1x128xf32>
// CHECK:      %[[B:.+]] = call @decode.1.double(%[[A]]) {moe.kernel = "double"}
// CHECK:      return %[[B]]
// CHECK:      func.func private @decode.0.norm(%[[AX:.+]]: tensor<1x128xf32>, %[[AW:.+]]: tensor<128xbf16>) -> tensor<1x128xf32> attributes {moe.schedule = {workgroups = 1 : i64}} {
// CHECK-NEXT:   %[[N:.+]] = moe.rms_norm %[[AX]], %[[AW]]
// CHECK-NEXT:   return %[[N]]
// CHECK:      func.func private @decode.1.double(%[[DX:.+]]: tensor<1x128xf32>) -> tensor<1x128xf32> {
// CHECK-NEXT:   %[[S:.+]] = arith.addf %[[DX]], %[[DX]]
// CHECK-NEXT:   return %[[S]]
// CHECK-NOT:  moe.kernel
func.func @decode(%x: tensor<1x128xf32>, %pos: tensor<1xi32>) -> tensor<1x128xf32> {
  %w = moe.weight "model.norm.weight" : tensor<128xbf16>
  %a = moe.kernel "norm" schedule {workgroups = 1 : i64} -> tensor<1x128xf32> {
    %n = moe.rms_norm %x, %w epsilon = 1.0e-05 : tensor<1x128xf32>, tensor<128xbf16> -> tensor<1x128xf32>
    moe.yield %n : tensor<1x128xf32>
  }
  %b = moe.kernel "double" -> tensor<1x128xf32> {
    %s = arith.addf %a, %a : tensor<1x128xf32>
    moe.yield %s : tensor<1x128xf32>
  }
  return %b : tensor<1x128xf32>
}
