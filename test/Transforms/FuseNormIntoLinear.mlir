// RUN: moec-opt %s --split-input-file --moe-fuse-norm-into-linear | FileCheck %s

// One norm feeding q, k and v becomes one kernel; the normalised rows are not
// yielded because nothing else reads them.
// CHECK-LABEL: func.func @qkv
// CHECK:      %[[K:.+]]:3 = moe.kernel "rms_norm_qkv" -> tensor<4x256xf32>, tensor<4x64xf32>, tensor<4x64xf32> {
// CHECK-NEXT:   %[[N:.+]] = moe.rms_norm
// CHECK-NEXT:   %[[Q:.+]] = moe.linear %[[N]]
// CHECK-NEXT:   %[[KK:.+]] = moe.linear %[[N]]
// CHECK-NEXT:   %[[V:.+]] = moe.linear %[[N]]
// CHECK-NEXT:   moe.yield %[[Q]], %[[KK]], %[[V]]
// CHECK:      return %[[K]]#0, %[[K]]#1, %[[K]]#2
func.func @qkv(%x: tensor<4x128xf32>, %g: tensor<128xbf16>, %wq: tensor<256x128xbf16>, %bq: tensor<256xbf16>,
               %wk: tensor<64x128xbf16>, %bk: tensor<64xbf16>, %wv: tensor<64x128xbf16>, %bv: tensor<64xbf16>)
    -> (tensor<4x256xf32>, tensor<4x64xf32>, tensor<4x64xf32>) {
  %n = moe.rms_norm %x, %g epsilon = 1.0e-05 : tensor<4x128xf32>, tensor<128xbf16> -> tensor<4x128xf32>
  %q = moe.linear %n, %wq, %bq : tensor<4x128xf32>, tensor<256x128xbf16>, tensor<256xbf16> -> tensor<4x256xf32>
  %k = moe.linear %n, %wk, %bk : tensor<4x128xf32>, tensor<64x128xbf16>, tensor<64xbf16> -> tensor<4x64xf32>
  %v = moe.linear %n, %wv, %bv : tensor<4x128xf32>, tensor<64x128xbf16>, tensor<64xbf16> -> tensor<4x64xf32>
  return %q, %k, %v : tensor<4x256xf32>, tensor<4x64xf32>, tensor<4x64xf32>
}

// -----

// The router joins the norm; the experts still read the normalised rows, so
// the kernel yields them too.
// CHECK-LABEL: func.func @router
// CHECK:      %[[K:.+]]:3 = moe.kernel "rms_norm_router" -> tensor<4x128xf32>, tensor<4x4xf32>, tensor<4x4xi32> {
// CHECK-NEXT:   %[[N:.+]] = moe.rms_norm
// CHECK-NEXT:   %[[W:.+]], %[[I:.+]] = moe.router %[[N]]
// CHECK-NEXT:   moe.yield %[[N]], %[[W]], %[[I]]
// CHECK:      moe.experts %[[K]]#0 routed(%[[K]]#1, %[[K]]#2)
func.func @router(%x: tensor<4x128xf32>, %g: tensor<128xbf16>, %wr: tensor<8x128xbf16>, %br: tensor<8xbf16>,
                  %gu: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, %gub: tensor<8x192xbf16>,
                  %dn: tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x128xbf16>) -> tensor<4x128xf32> {
  %n = moe.rms_norm %x, %g epsilon = 1.0e-05 : tensor<4x128xf32>, tensor<128xbf16> -> tensor<4x128xf32>
  %w, %i = moe.router %n, %wr, %br top_k = 4 : tensor<4x128xf32>, tensor<8x128xbf16>, tensor<8xbf16> -> tensor<4x4xf32>, tensor<4x4xi32>
  %y = moe.experts %n routed(%w, %i) gate_up(%gu, %gub) down(%dn, %dnb) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<4x128xf32>, tensor<4x4xf32>, tensor<4x4xi32>, tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x192xbf16>,
         tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}

// -----

// The final norm fuses with the unembedding.
// CHECK-LABEL: func.func @unembed
// CHECK: moe.kernel "rms_norm_unembed" -> tensor<1x1024xf32>
func.func @unembed(%x: tensor<1x128xf32>, %g: tensor<128xbf16>, %w: tensor<1024x128xbf16>) -> tensor<1x1024xf32> {
  %n = moe.rms_norm %x, %g epsilon = 1.0e-05 : tensor<1x128xf32>, tensor<128xbf16> -> tensor<1x128xf32>
  %l = moe.unembed %n, %w : tensor<1x128xf32>, tensor<1024x128xbf16> -> tensor<1x1024xf32>
  return %l : tensor<1x1024xf32>
}

// -----

// A norm whose only users are not linears is left alone.
// CHECK-LABEL: func.func @no_linear
// CHECK-NOT: moe.kernel
func.func @no_linear(%x: tensor<4x128xf32>, %g: tensor<128xbf16>) -> tensor<4x128xf32> {
  %n = moe.rms_norm %x, %g epsilon = 1.0e-05 : tensor<4x128xf32>, tensor<128xbf16> -> tensor<4x128xf32>
  return %n : tensor<4x128xf32>
}
