// moe.kernel canonicalization: a kernel whose body only yields folds away.
// RUN: moec-opt %s -split-input-file -canonicalize | FileCheck %s

// The results become the yielded values, defined outside the kernel.

// CHECK-LABEL: func.func @fold_empty_kernel
// CHECK-SAME:    (%[[X:[^:]+]]: tensor<1x128xf32>, %[[Y:[^:]+]]: tensor<1x384xf32>)
// CHECK-NOT:     moe.kernel
// CHECK:         return %[[Y]], %[[X]] : tensor<1x384xf32>, tensor<1x128xf32>
func.func @fold_empty_kernel(%x: tensor<1x128xf32>, %y: tensor<1x384xf32>) -> (tensor<1x384xf32>, tensor<1x128xf32>) {
  %a, %b = moe.kernel "empty" schedule {rows_per_workgroup = 64 : i64} -> tensor<1x384xf32>, tensor<1x128xf32> {
    moe.yield %y, %x : tensor<1x384xf32>, tensor<1x128xf32>
  }
  return %a, %b : tensor<1x384xf32>, tensor<1x128xf32>
}

// -----

// A kernel with neither results nor ops disappears.

// CHECK-LABEL: func.func @fold_empty_kernel_no_results
// CHECK-NEXT:    return
func.func @fold_empty_kernel_no_results() {
  moe.kernel "nothing" {
    moe.yield
  }
  return
}

// -----

// A kernel that computes something stays, body and schedule intact.

// CHECK-LABEL: func.func @keep_kernel
// CHECK-SAME:    (%[[X:[^:]+]]: tensor<1x128xf32>, %[[G:[^:]+]]: tensor<128xbf16>, %[[W:[^:]+]]: tensor<384x128xbf16>)
// CHECK:         %[[K:.+]] = moe.kernel "rms_norm_qkv" schedule {rows_per_workgroup = 64 : i64} -> tensor<1x384xf32> {
// CHECK-NEXT:      %[[N:.+]] = moe.rms_norm %[[X]], %[[G]] epsilon = 1.000000e-05
// CHECK-NEXT:      %[[Q:.+]] = moe.linear %[[N]], %[[W]]
// CHECK-NEXT:      moe.yield %[[Q]] : tensor<1x384xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    return %[[K]]
func.func @keep_kernel(%x: tensor<1x128xf32>, %g: tensor<128xbf16>, %w: tensor<384x128xbf16>) -> tensor<1x384xf32> {
  %y = moe.kernel "rms_norm_qkv" schedule {rows_per_workgroup = 64 : i64} -> tensor<1x384xf32> {
    %n = moe.rms_norm %x, %g epsilon = 1.0e-05 : tensor<1x128xf32>, tensor<128xbf16> -> tensor<1x128xf32>
    %q = moe.linear %n, %w : tensor<1x128xf32>, tensor<384x128xbf16> -> tensor<1x384xf32>
    moe.yield %q : tensor<1x384xf32>
  }
  return %y : tensor<1x384xf32>
}

// -----

// A kernel whose ops are all dead: canonicalization erases the pure ops first,
// then the kernel is empty and folds.

// CHECK-LABEL: func.func @fold_kernel_with_dead_ops
// CHECK-SAME:    (%[[X:[^:]+]]: tensor<1x128xf32>
// CHECK-NOT:     moe.
// CHECK:         return %[[X]]
func.func @fold_kernel_with_dead_ops(%x: tensor<1x128xf32>, %g: tensor<128xbf16>) -> tensor<1x128xf32> {
  %y = moe.kernel "dead" -> tensor<1x128xf32> {
    %n = moe.rms_norm %x, %g epsilon = 1.0e-05 : tensor<1x128xf32>, tensor<128xbf16> -> tensor<1x128xf32>
    moe.yield %x : tensor<1x128xf32>
  }
  return %y : tensor<1x128xf32>
}

// -----

// Nested kernels: the empty inner one folds, the outer one keeps its work.

// CHECK-LABEL: func.func @fold_nested
// CHECK-SAME:    (%[[X:[^:]+]]: tensor<1x128xf32>, %[[W:[^:]+]]: tensor<384x128xbf16>)
// CHECK:         moe.kernel "outer" -> tensor<1x384xf32> {
// CHECK-NEXT:      %[[Q:.+]] = moe.linear %[[X]], %[[W]]
// CHECK-NEXT:      moe.yield %[[Q]]
// CHECK-NEXT:    }
func.func @fold_nested(%x: tensor<1x128xf32>, %w: tensor<384x128xbf16>) -> tensor<1x384xf32> {
  %y = moe.kernel "outer" -> tensor<1x384xf32> {
    %i = moe.kernel "inner" -> tensor<1x128xf32> {
      moe.yield %x : tensor<1x128xf32>
    }
    %q = moe.linear %i, %w : tensor<1x128xf32>, tensor<384x128xbf16> -> tensor<1x384xf32>
    moe.yield %q : tensor<1x384xf32>
  }
  return %y : tensor<1x384xf32>
}
