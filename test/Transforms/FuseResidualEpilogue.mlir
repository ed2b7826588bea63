// RUN: moec-opt %s --split-input-file --moe-fuse-residual-epilogue | FileCheck %s

// The attention output projection and its residual add.
// CHECK-LABEL: func.func @linear_residual
// CHECK:      %[[K:.+]] = moe.kernel "linear_residual" -> tensor<4x128xf32> {
// CHECK-NEXT:   %[[O:.+]] = moe.linear
// CHECK-NEXT:   %[[S:.+]] = arith.addf %{{.+}}, %[[O]]
// CHECK-NEXT:   moe.yield %[[S]]
// CHECK:      return %[[K]]
func.func @linear_residual(%x: tensor<4x128xf32>, %a: tensor<4x256xf32>, %w: tensor<128x256xbf16>, %b: tensor<128xbf16>) -> tensor<4x128xf32> {
  %o = moe.linear %a, %w, %b : tensor<4x256xf32>, tensor<128x256xbf16>, tensor<128xbf16> -> tensor<4x128xf32>
  %s = arith.addf %x, %o : tensor<4x128xf32>
  return %s : tensor<4x128xf32>
}

// -----

// The expert combine and its residual add.
// CHECK-LABEL: func.func @expert_down_residual
// CHECK:      moe.kernel "expert_down_residual" -> tensor<4x128xf32> {
// CHECK-NEXT:   moe.expert_down
// CHECK-NEXT:   arith.addf
func.func @expert_down_residual(%x: tensor<4x128xf32>, %a: tensor<4x2x96xf32>, %w: tensor<4x2xf32>, %i: tensor<4x2xi32>,
                                %dn: tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x128xbf16>) -> tensor<4x128xf32> {
  %y = moe.expert_down %a routed(%w, %i) down(%dn, %dnb) : (tensor<4x2x96xf32>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<4x128xf32>
  %s = arith.addf %x, %y : tensor<4x128xf32>
  return %s : tensor<4x128xf32>
}

// -----

// An addend used twice cannot be folded away into the add's kernel.
// CHECK-LABEL: func.func @shared_addend
// CHECK-NOT: moe.kernel
func.func @shared_addend(%x: tensor<4x128xf32>, %a: tensor<4x256xf32>, %w: tensor<128x256xbf16>) -> (tensor<4x128xf32>, tensor<4x128xf32>) {
  %o = moe.linear %a, %w : tensor<4x256xf32>, tensor<128x256xbf16> -> tensor<4x128xf32>
  %s = arith.addf %x, %o : tensor<4x128xf32>
  return %s, %o : tensor<4x128xf32>, tensor<4x128xf32>
}
