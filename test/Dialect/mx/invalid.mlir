// Every verifier message of the mx dialect, one case each.
// RUN: moec-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// #mx.block_scaled
//===----------------------------------------------------------------------===//

// expected-error @+1 {{block axis must be non-negative, got -1}}
func.func @axis_negative(%a: tensor<4x32xf4E2M1FN, #mx.block_scaled<axis = -1>>) {
  return
}

// -----

// expected-error @+1 {{block size must be a positive power of two, got 24}}
func.func @block_not_power_of_two(%a: tensor<4x48xf4E2M1FN, #mx.block_scaled<axis = 1, block = 24>>) {
  return
}

// -----

// expected-error @+1 {{block size must be a positive power of two, got 0}}
func.func @block_zero(%a: tensor<4x32xf4E2M1FN, #mx.block_scaled<axis = 1, block = 0>>) {
  return
}

// -----

// bf16 is not an MX element type (the scales would make no sense).
// expected-error @+1 {{#mx.block_scaled needs an MX element type (f4E2M1FN, f6E2M3FN, f6E3M2FN, f8E4M3FN or f8E5M2), got 'bf16'}}
func.func @element_type(%a: tensor<4x32xbf16, #mx.block_scaled<axis = 1>>) {
  return
}

// -----

// The E8M0 scale type is not a value type of the format.
// expected-error @+1 {{#mx.block_scaled needs an MX element type (f4E2M1FN, f6E2M3FN, f6E3M2FN, f8E4M3FN or f8E5M2), got 'f8E8M0FNU'}}
func.func @element_type_e8m0(%a: tensor<4x32xf8E8M0FNU, #mx.block_scaled<axis = 1>>) {
  return
}

// -----

// expected-error @+1 {{block axis 2 is out of range for a rank-2 tensor}}
func.func @axis_out_of_range(%a: tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>) {
  return
}

// -----

// expected-error @+1 {{blocked dimension 1 must be static}}
func.func @blocked_dynamic(%a: tensor<192x?xf4E2M1FN, #mx.block_scaled<axis = 1>>) {
  return
}

// -----

// expected-error @+1 {{blocked dimension 1 has 100 elements, not a multiple of the block size 32}}
func.func @blocked_partial(%a: tensor<192x100xf4E2M1FN, #mx.block_scaled<axis = 1>>) {
  return
}

// -----

// 96 is a multiple of 32 but not of an explicit block of 64.
// expected-error @+1 {{blocked dimension 0 has 96 elements, not a multiple of the block size 64}}
func.func @blocked_partial_explicit(%a: tensor<96x4xf8E5M2, #mx.block_scaled<axis = 0, block = 64>>) {
  return
}

//===----------------------------------------------------------------------===//
// mx.dequantize
//===----------------------------------------------------------------------===//

// -----

func.func @dequantize_plain_input(%q: tensor<192x128xbf16>) -> tensor<192x128xf32> {
  // expected-error @+1 {{'mx.dequantize' op operand #0 must be block-scaled (#mx.block_scaled) tensor, but got 'tensor<192x128xbf16>'}}
  %w = mx.dequantize %q : tensor<192x128xbf16> -> tensor<192x128xf32>
  return %w : tensor<192x128xf32>
}

// -----

func.func @dequantize_shape(%q: tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>>) -> tensor<192x4x32xf32> {
  // expected-error @+1 {{'mx.dequantize' op result shape 'tensor<192x4x32xf32>' differs from the input shape 'tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>>'}}
  %w = mx.dequantize %q : tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>> -> tensor<192x4x32xf32>
  return %w : tensor<192x4x32xf32>
}

// -----

func.func @dequantize_integer(%q: tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>>) -> tensor<192x128xi8> {
  // expected-error @+1 {{'mx.dequantize' op result must be a plain float tensor, got 'tensor<192x128xi8>'}}
  %w = mx.dequantize %q : tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>> -> tensor<192x128xi8>
  return %w : tensor<192x128xi8>
}

// -----

// Dequantising to another block-scaled tensor is a re-quantisation, not this op.
func.func @dequantize_encoded_result(%q: tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>>)
    -> tensor<192x128xf8E4M3FN, #mx.block_scaled<axis = 1>> {
  // expected-error @+1 {{'mx.dequantize' op result must be a plain float tensor, got 'tensor<192x128xf8E4M3FN, #mx.block_scaled<axis = 1>>'}}
  %w = mx.dequantize %q : tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>> -> tensor<192x128xf8E4M3FN, #mx.block_scaled<axis = 1>>
  return %w : tensor<192x128xf8E4M3FN, #mx.block_scaled<axis = 1>>
}

//===----------------------------------------------------------------------===//
// mx.matmul
//===----------------------------------------------------------------------===//

// -----

func.func @matmul_plain_weight(%x: tensor<4x128xf32>, %w: tensor<192x128xbf16>) -> tensor<4x192xf32> {
  // expected-error @+1 {{'mx.matmul' op operand #1 must be block-scaled (#mx.block_scaled) tensor, but got 'tensor<192x128xbf16>'}}
  %y = mx.matmul %x, %w : tensor<4x128xf32>, tensor<192x128xbf16> -> tensor<4x192xf32>
  return %y : tensor<4x192xf32>
}

// -----

// MXFP8 weights are block-scaled but the op takes MXFP4.
func.func @matmul_mxfp8_weight(%x: tensor<4x128xf32>, %w: tensor<192x128xf8E4M3FN, #mx.block_scaled<axis = 1>>) -> tensor<4x192xf32> {
  // expected-error @+1 {{'mx.matmul' op weight must be an MXFP4 tensor (f4E2M1FN with #mx.block_scaled), got 'tensor<192x128xf8E4M3FN, #mx.block_scaled<axis = 1>>'}}
  %y = mx.matmul %x, %w : tensor<4x128xf32>, tensor<192x128xf8E4M3FN, #mx.block_scaled<axis = 1>> -> tensor<4x192xf32>
  return %y : tensor<4x192xf32>
}

// -----

// The stacked expert weight needs moe.experts, not a plain matmul.
func.func @matmul_weight_rank(%x: tensor<4x128xf32>, %w: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>) -> tensor<4x192xf32> {
  // expected-error @+1 {{'mx.matmul' op weight must have rank 2, got 3}}
  %y = mx.matmul %x, %w : tensor<4x128xf32>, tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>> -> tensor<4x192xf32>
  return %y : tensor<4x192xf32>
}

// -----

// Blocks must run along K, the contraction axis.
func.func @matmul_weight_axis(%x: tensor<4x128xf32>, %w: tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 0>>) -> tensor<4x192xf32> {
  // expected-error @+1 {{'mx.matmul' op weight must be blocked along dimension 1 (its contraction axis), got axis 0}}
  %y = mx.matmul %x, %w : tensor<4x128xf32>, tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 0>> -> tensor<4x192xf32>
  return %y : tensor<4x192xf32>
}

// -----

func.func @matmul_lhs_rank(%x: tensor<128xf32>, %w: tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>>) -> tensor<4x192xf32> {
  // expected-error @+1 {{'mx.matmul' op lhs must be [M, K], got 'tensor<128xf32>'}}
  %y = mx.matmul %x, %w : tensor<128xf32>, tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>> -> tensor<4x192xf32>
  return %y : tensor<4x192xf32>
}

// -----

func.func @matmul_lhs_integer(%x: tensor<4x128xi32>, %w: tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>>) -> tensor<4x192xf32> {
  // expected-error @+1 {{'mx.matmul' op lhs must be a plain float tensor, got 'tensor<4x128xi32>'}}
  %y = mx.matmul %x, %w : tensor<4x128xi32>, tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>> -> tensor<4x192xf32>
  return %y : tensor<4x192xf32>
}

// -----

func.func @matmul_contraction(%x: tensor<4x96xf32>, %w: tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>>) -> tensor<4x192xf32> {
  // expected-error @+1 {{'mx.matmul' op contraction sizes differ: lhs has K = 96, weight has K = 128}}
  %y = mx.matmul %x, %w : tensor<4x96xf32>, tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>> -> tensor<4x192xf32>
  return %y : tensor<4x192xf32>
}

// -----

func.func @matmul_contraction_dynamic(%x: tensor<4x?xf32>, %w: tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>>) -> tensor<4x192xf32> {
  // expected-error @+1 {{'mx.matmul' op contraction sizes differ: lhs has K = ?, weight has K = 128}}
  %y = mx.matmul %x, %w : tensor<4x?xf32>, tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>> -> tensor<4x192xf32>
  return %y : tensor<4x192xf32>
}

// -----

func.func @matmul_result_integer(%x: tensor<4x128xf32>, %w: tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>>) -> tensor<4x192xi32> {
  // expected-error @+1 {{'mx.matmul' op result must be a plain float tensor, got 'tensor<4x192xi32>'}}
  %y = mx.matmul %x, %w : tensor<4x128xf32>, tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>> -> tensor<4x192xi32>
  return %y : tensor<4x192xi32>
}

// -----

// The result is [M, N] (x W^T), not [M, K].
func.func @matmul_result_shape(%x: tensor<4x128xf32>, %w: tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>>) -> tensor<4x128xf32> {
  // expected-error @+1 {{'mx.matmul' op result must be [4, 192], got 'tensor<4x128xf32>'}}
  %y = mx.matmul %x, %w : tensor<4x128xf32>, tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>> -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}

// -----

func.func @matmul_result_dynamic_rows(%x: tensor<?x128xf32>, %w: tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>>) -> tensor<4x192xf32> {
  // expected-error @+1 {{'mx.matmul' op result must be [?, 192], got 'tensor<4x192xf32>'}}
  %y = mx.matmul %x, %w : tensor<?x128xf32>, tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>> -> tensor<4x192xf32>
  return %y : tensor<4x192xf32>
}
