// Every verifier message of the moe dialect, one case each.
// RUN: moec-opt %s -split-input-file -verify-diagnostics

// Shapes follow the tiny gpt-oss model: hidden 128, 8 query and 2 KV heads of
// 32, 8 experts with top-4, intermediate 96, vocabulary 1024.

//===----------------------------------------------------------------------===//
// #moe.yarn
//===----------------------------------------------------------------------===//

// expected-error @+1 {{rope theta must be > 1, got 1.000000e+00}}
#yarn = #moe.yarn<theta = 1.0, factor = 32.0, beta_fast = 32.0, beta_slow = 1.0, original_context = 4096, truncate = false>
func.func @yarn_theta(%q: tensor<4x64xf32>, %pos: tensor<4xi32>) -> tensor<4x64xf32> {
  %r = moe.rope %q, %pos head_dim = 32 scaling(#yarn) : tensor<4x64xf32>, tensor<4xi32>
  return %r : tensor<4x64xf32>
}

// -----

// expected-error @+1 {{YaRN factor must be >= 1, got 5.000000e-01}}
#yarn = #moe.yarn<theta = 150000.0, factor = 0.5, beta_fast = 32.0, beta_slow = 1.0, original_context = 4096, truncate = false>
func.func @yarn_factor(%q: tensor<4x64xf32>, %pos: tensor<4xi32>) -> tensor<4x64xf32> {
  %r = moe.rope %q, %pos head_dim = 32 scaling(#yarn) : tensor<4x64xf32>, tensor<4xi32>
  return %r : tensor<4x64xf32>
}

// -----

// beta_fast and beta_slow swapped.
// expected-error @+1 {{YaRN needs beta_fast > beta_slow > 0, got beta_fast = 1.000000e+00 and beta_slow = 3.200000e+01}}
#yarn = #moe.yarn<theta = 150000.0, factor = 32.0, beta_fast = 1.0, beta_slow = 32.0, original_context = 4096, truncate = false>
func.func @yarn_beta(%q: tensor<4x64xf32>, %pos: tensor<4xi32>) -> tensor<4x64xf32> {
  %r = moe.rope %q, %pos head_dim = 32 scaling(#yarn) : tensor<4x64xf32>, tensor<4xi32>
  return %r : tensor<4x64xf32>
}

// -----

// expected-error @+1 {{original_context must be positive, got 0}}
#yarn = #moe.yarn<theta = 150000.0, factor = 32.0, beta_fast = 32.0, beta_slow = 1.0, original_context = 0, truncate = false>
func.func @yarn_original_context(%q: tensor<4x64xf32>, %pos: tensor<4xi32>) -> tensor<4x64xf32> {
  %r = moe.rope %q, %pos head_dim = 32 scaling(#yarn) : tensor<4x64xf32>, tensor<4xi32>
  return %r : tensor<4x64xf32>
}

//===----------------------------------------------------------------------===//
// moe.weight
//===----------------------------------------------------------------------===//

// -----

func.func @weight_empty_name() -> tensor<128xbf16> {
  // expected-error @+1 {{'moe.weight' op needs a non-empty weight name}}
  %w = moe.weight "" : tensor<128xbf16>
  return %w : tensor<128xbf16>
}

// -----

func.func @weight_dynamic() -> tensor<?x128xbf16> {
  // expected-error @+1 {{'moe.weight' op weight "lm_head.weight" must have a static shape, got 'tensor<?x128xbf16>'}}
  %w = moe.weight "lm_head.weight" : tensor<?x128xbf16>
  return %w : tensor<?x128xbf16>
}

//===----------------------------------------------------------------------===//
// moe.embedding
//===----------------------------------------------------------------------===//

// -----

func.func @embedding_table_rank(%table: tensor<1024xbf16>, %tokens: tensor<16xi32>) -> tensor<16x128xf32> {
  // expected-error @+1 {{'moe.embedding' op table must be rank 2 ([vocab, hidden]), got 'tensor<1024xbf16>'}}
  %x = moe.embedding %table[%tokens] : tensor<1024xbf16>, tensor<16xi32> -> tensor<16x128xf32>
  return %x : tensor<16x128xf32>
}

// -----

func.func @embedding_result(%table: tensor<1024x128xbf16>, %tokens: tensor<16xi32>) -> tensor<8x128xf32> {
  // expected-error @+1 {{'moe.embedding' op result must have shape [16, 128], got [8, 128]}}
  %x = moe.embedding %table[%tokens] : tensor<1024x128xbf16>, tensor<16xi32> -> tensor<8x128xf32>
  return %x : tensor<8x128xf32>
}

//===----------------------------------------------------------------------===//
// moe.rms_norm
//===----------------------------------------------------------------------===//

// -----

func.func @rms_norm_gain(%x: tensor<16x128xf32>, %g: tensor<96xbf16>) -> tensor<16x128xf32> {
  // expected-error @+1 {{'moe.rms_norm' op gain must have shape [128], got [96]}}
  %n = moe.rms_norm %x, %g epsilon = 1.0e-05 : tensor<16x128xf32>, tensor<96xbf16> -> tensor<16x128xf32>
  return %n : tensor<16x128xf32>
}

// -----

func.func @rms_norm_epsilon(%x: tensor<16x128xf32>, %g: tensor<128xbf16>) -> tensor<16x128xf32> {
  // expected-error @+1 {{'moe.rms_norm' op epsilon must be positive, got 0.000000e+00}}
  %n = moe.rms_norm %x, %g epsilon = 0.0 : tensor<16x128xf32>, tensor<128xbf16> -> tensor<16x128xf32>
  return %n : tensor<16x128xf32>
}

//===----------------------------------------------------------------------===//
// moe.linear
//===----------------------------------------------------------------------===//

// -----

// The weight is stored [out, in]; here it is transposed.
func.func @linear_features(%x: tensor<16x128xf32>, %w: tensor<128x256xbf16>) -> tensor<16x256xf32> {
  // expected-error @+1 {{'moe.linear' op input has 128 features but the weight expects 256}}
  %y = moe.linear %x, %w : tensor<16x128xf32>, tensor<128x256xbf16> -> tensor<16x256xf32>
  return %y : tensor<16x256xf32>
}

// -----

// A dynamic feature count cannot match the weight's.
func.func @linear_dynamic_features(%x: tensor<16x?xf32>, %w: tensor<256x128xbf16>) -> tensor<16x256xf32> {
  // expected-error @+1 {{'moe.linear' op input has ? features but the weight expects 128}}
  %y = moe.linear %x, %w : tensor<16x?xf32>, tensor<256x128xbf16> -> tensor<16x256xf32>
  return %y : tensor<16x256xf32>
}

// -----

func.func @linear_bias(%x: tensor<16x128xf32>, %w: tensor<256x128xbf16>, %b: tensor<128xbf16>) -> tensor<16x256xf32> {
  // expected-error @+1 {{'moe.linear' op bias must have shape [256], got [128]}}
  %y = moe.linear %x, %w, %b : tensor<16x128xf32>, tensor<256x128xbf16>, tensor<128xbf16> -> tensor<16x256xf32>
  return %y : tensor<16x256xf32>
}

// -----

func.func @linear_weight_rank(%x: tensor<16x128xf32>, %w: tensor<8x256x128xbf16>) -> tensor<16x256xf32> {
  // expected-error @+1 {{'moe.linear' op weight must be rank 2 ([out, in]), got 'tensor<8x256x128xbf16>'}}
  %y = moe.linear %x, %w : tensor<16x128xf32>, tensor<8x256x128xbf16> -> tensor<16x256xf32>
  return %y : tensor<16x256xf32>
}

// -----

// Activations are f32 (ODS type constraint).
func.func @linear_bf16_input(%x: tensor<16x128xbf16>, %w: tensor<256x128xbf16>) -> tensor<16x256xf32> {
  // expected-error @+1 {{'moe.linear' op operand #0 must be ranked tensor of 32-bit float values}}
  %y = moe.linear %x, %w : tensor<16x128xbf16>, tensor<256x128xbf16> -> tensor<16x256xf32>
  return %y : tensor<16x256xf32>
}

//===----------------------------------------------------------------------===//
// moe.rope
//===----------------------------------------------------------------------===//

// -----

#yarn = #moe.yarn<theta = 150000.0, factor = 32.0, beta_fast = 32.0, beta_slow = 1.0, original_context = 4096, truncate = false>
func.func @rope_odd_head_dim(%q: tensor<4x63xf32>, %pos: tensor<4xi32>) -> tensor<4x63xf32> {
  // expected-error @+1 {{'moe.rope' op head_dim must be even, got 21}}
  %r = moe.rope %q, %pos head_dim = 21 scaling(#yarn) : tensor<4x63xf32>, tensor<4xi32>
  return %r : tensor<4x63xf32>
}

// -----

#yarn = #moe.yarn<theta = 150000.0, factor = 32.0, beta_fast = 32.0, beta_slow = 1.0, original_context = 4096, truncate = false>
func.func @rope_width(%q: tensor<4x80xf32>, %pos: tensor<4xi32>) -> tensor<4x80xf32> {
  // expected-error @+1 {{'moe.rope' op row width 80 is not a whole number of heads of 32}}
  %r = moe.rope %q, %pos head_dim = 32 scaling(#yarn) : tensor<4x80xf32>, tensor<4xi32>
  return %r : tensor<4x80xf32>
}

// -----

#yarn = #moe.yarn<theta = 150000.0, factor = 32.0, beta_fast = 32.0, beta_slow = 1.0, original_context = 4096, truncate = false>
func.func @rope_positions(%q: tensor<4x64xf32>, %pos: tensor<8xi32>) -> tensor<4x64xf32> {
  // expected-error @+1 {{'moe.rope' op positions must have shape [4], got [8]}}
  %r = moe.rope %q, %pos head_dim = 32 scaling(#yarn) : tensor<4x64xf32>, tensor<8xi32>
  return %r : tensor<4x64xf32>
}

//===----------------------------------------------------------------------===//
// moe.attention
//===----------------------------------------------------------------------===//

// -----

func.func @attention_heads(%q: tensor<4x256xf32>, %k: tensor<4x96xf32>, %v: tensor<4x96xf32>, %s: tensor<8xbf16>,
                           %kc: tensor<2x64x3x32xf32>, %vc: tensor<2x64x3x32xf32>, %slots: tensor<4xi32>, %pos: tensor<4xi32>) {
  // expected-error @+1 {{'moe.attention' op num_heads (8) is not a multiple of num_kv_heads (3)}}
  %o, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
      {num_heads = 8, num_kv_heads = 3, head_dim = 32, scale = 0.17677669529663687}
      : (tensor<4x256xf32>, tensor<4x96xf32>, tensor<4x96xf32>, tensor<8xbf16>,
         tensor<2x64x3x32xf32>, tensor<2x64x3x32xf32>, tensor<4xi32>, tensor<4xi32>)
      -> (tensor<4x256xf32>, tensor<2x64x3x32xf32>, tensor<2x64x3x32xf32>)
  return
}

// -----

func.func @attention_query_rank(%q: tensor<4x8x32xf32>, %k: tensor<4x64xf32>, %v: tensor<4x64xf32>, %s: tensor<8xbf16>,
                                %kc: tensor<2x64x2x32xf32>, %vc: tensor<2x64x2x32xf32>, %slots: tensor<4xi32>, %pos: tensor<4xi32>) {
  // expected-error @+1 {{'moe.attention' op query must be rank 2 ([rows, num_heads * head_dim]), got 'tensor<4x8x32xf32>'}}
  %o, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
      {num_heads = 8, num_kv_heads = 2, head_dim = 32, scale = 0.17677669529663687}
      : (tensor<4x8x32xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<8xbf16>,
         tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>, tensor<4xi32>, tensor<4xi32>)
      -> (tensor<4x256xf32>, tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>)
  return
}

// -----

// The key is projected to all 8 heads instead of the 2 KV heads.
func.func @attention_key(%q: tensor<4x256xf32>, %k: tensor<4x256xf32>, %v: tensor<4x64xf32>, %s: tensor<8xbf16>,
                         %kc: tensor<2x64x2x32xf32>, %vc: tensor<2x64x2x32xf32>, %slots: tensor<4xi32>, %pos: tensor<4xi32>) {
  // expected-error @+1 {{'moe.attention' op key must have shape [4, 64], got [4, 256]}}
  %o, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
      {num_heads = 8, num_kv_heads = 2, head_dim = 32, scale = 0.17677669529663687}
      : (tensor<4x256xf32>, tensor<4x256xf32>, tensor<4x64xf32>, tensor<8xbf16>,
         tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>, tensor<4xi32>, tensor<4xi32>)
      -> (tensor<4x256xf32>, tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>)
  return
}

// -----

// One sink per query head, not per KV head.
func.func @attention_sinks(%q: tensor<4x256xf32>, %k: tensor<4x64xf32>, %v: tensor<4x64xf32>, %s: tensor<2xbf16>,
                           %kc: tensor<2x64x2x32xf32>, %vc: tensor<2x64x2x32xf32>, %slots: tensor<4xi32>, %pos: tensor<4xi32>) {
  // expected-error @+1 {{'moe.attention' op sinks must have shape [8], got [2]}}
  %o, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
      {num_heads = 8, num_kv_heads = 2, head_dim = 32, scale = 0.17677669529663687}
      : (tensor<4x256xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<2xbf16>,
         tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>, tensor<4xi32>, tensor<4xi32>)
      -> (tensor<4x256xf32>, tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>)
  return
}

// -----

// Every row carries a slot.
func.func @attention_slots(%q: tensor<4x256xf32>, %k: tensor<4x64xf32>, %v: tensor<4x64xf32>, %s: tensor<8xbf16>,
                           %kc: tensor<2x64x2x32xf32>, %vc: tensor<2x64x2x32xf32>, %slots: tensor<1xi32>, %pos: tensor<4xi32>) {
  // expected-error @+1 {{'moe.attention' op slots must have shape [4], got [1]}}
  %o, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
      {num_heads = 8, num_kv_heads = 2, head_dim = 32, scale = 0.17677669529663687}
      : (tensor<4x256xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<8xbf16>,
         tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>, tensor<1xi32>, tensor<4xi32>)
      -> (tensor<4x256xf32>, tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>)
  return
}

// -----

func.func @attention_cache_rank(%q: tensor<4x256xf32>, %k: tensor<4x64xf32>, %v: tensor<4x64xf32>, %s: tensor<8xbf16>,
                                %kc: tensor<64x2x32xf32>, %vc: tensor<64x2x32xf32>, %slots: tensor<4xi32>, %pos: tensor<4xi32>) {
  // expected-error @+1 {{'moe.attention' op key_cache must be rank 4 ([slots, capacity, num_kv_heads, head_dim]), got 'tensor<64x2x32xf32>'}}
  %o, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
      {num_heads = 8, num_kv_heads = 2, head_dim = 32, scale = 0.17677669529663687}
      : (tensor<4x256xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<8xbf16>,
         tensor<64x2x32xf32>, tensor<64x2x32xf32>, tensor<4xi32>, tensor<4xi32>)
      -> (tensor<4x256xf32>, tensor<64x2x32xf32>, tensor<64x2x32xf32>)
  return
}

// -----

func.func @attention_cache_dynamic(%q: tensor<4x256xf32>, %k: tensor<4x64xf32>, %v: tensor<4x64xf32>, %s: tensor<8xbf16>,
                                   %kc: tensor<2x?x2x32xf32>, %vc: tensor<2x?x2x32xf32>, %slots: tensor<4xi32>, %pos: tensor<4xi32>) {
  // expected-error @+1 {{'moe.attention' op key_cache must have a static shape, got 'tensor<2x?x2x32xf32>'}}
  %o, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
      {num_heads = 8, num_kv_heads = 2, head_dim = 32, scale = 0.17677669529663687}
      : (tensor<4x256xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<8xbf16>,
         tensor<2x?x2x32xf32>, tensor<2x?x2x32xf32>, tensor<4xi32>, tensor<4xi32>)
      -> (tensor<4x256xf32>, tensor<2x?x2x32xf32>, tensor<2x?x2x32xf32>)
  return
}

// -----

// The cache is laid out [slots, capacity, heads, head_dim], not head-major.
func.func @attention_cache_layout(%q: tensor<4x256xf32>, %k: tensor<4x64xf32>, %v: tensor<4x64xf32>, %s: tensor<8xbf16>,
                                  %kc: tensor<2x2x64x32xf32>, %vc: tensor<2x2x64x32xf32>, %slots: tensor<4xi32>, %pos: tensor<4xi32>) {
  // expected-error @+1 {{'moe.attention' op key_cache must be [slots, capacity, 2, 32], got [2, 2, 64, 32]}}
  %o, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
      {num_heads = 8, num_kv_heads = 2, head_dim = 32, scale = 0.17677669529663687}
      : (tensor<4x256xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<8xbf16>,
         tensor<2x2x64x32xf32>, tensor<2x2x64x32xf32>, tensor<4xi32>, tensor<4xi32>)
      -> (tensor<4x256xf32>, tensor<2x2x64x32xf32>, tensor<2x2x64x32xf32>)
  return
}

// -----

func.func @attention_value_cache(%q: tensor<4x256xf32>, %k: tensor<4x64xf32>, %v: tensor<4x64xf32>, %s: tensor<8xbf16>,
                                 %kc: tensor<2x64x2x32xf32>, %vc: tensor<2x32x2x32xf32>, %slots: tensor<4xi32>, %pos: tensor<4xi32>) {
  // expected-error @+1 {{'moe.attention' op value_cache type 'tensor<2x32x2x32xf32>' differs from key_cache type 'tensor<2x64x2x32xf32>'}}
  %o, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
      {num_heads = 8, num_kv_heads = 2, head_dim = 32, scale = 0.17677669529663687}
      : (tensor<4x256xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<8xbf16>,
         tensor<2x64x2x32xf32>, tensor<2x32x2x32xf32>, tensor<4xi32>, tensor<4xi32>)
      -> (tensor<4x256xf32>, tensor<2x64x2x32xf32>, tensor<2x32x2x32xf32>)
  return
}

// -----

// Caches are f32 or bf16, both alike.
func.func @attention_cache_types(%q: tensor<4x256xf32>, %k: tensor<4x64xf32>, %v: tensor<4x64xf32>, %s: tensor<8xbf16>,
                                 %kc: tensor<2x64x2x32xbf16>, %vc: tensor<2x64x2x32xf32>, %slots: tensor<4xi32>, %pos: tensor<4xi32>) {
  // expected-error @+1 {{'moe.attention' op value_cache type 'tensor<2x64x2x32xf32>' differs from key_cache type 'tensor<2x64x2x32xbf16>'}}
  %o, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
      {num_heads = 8, num_kv_heads = 2, head_dim = 32, scale = 0.17677669529663687}
      : (tensor<4x256xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<8xbf16>,
         tensor<2x64x2x32xbf16>, tensor<2x64x2x32xf32>, tensor<4xi32>, tensor<4xi32>)
      -> (tensor<4x256xf32>, tensor<2x64x2x32xbf16>, tensor<2x64x2x32xf32>)
  return
}

// -----

func.func @attention_f16_cache(%q: tensor<4x256xf32>, %k: tensor<4x64xf32>, %v: tensor<4x64xf32>, %s: tensor<8xbf16>,
                               %kc: tensor<2x64x2x32xf16>, %slots: tensor<4xi32>, %pos: tensor<4xi32>) {
  // expected-error @+1 {{'moe.attention' op operand #4 must be ranked tensor of 32-bit float or bfloat16 type values, but got 'tensor<2x64x2x32xf16>'}}
  %o, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %kc) at(%slots, %pos)
      {num_heads = 8, num_kv_heads = 2, head_dim = 32, scale = 0.17677669529663687}
      : (tensor<4x256xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<8xbf16>,
         tensor<2x64x2x32xf16>, tensor<2x64x2x32xf16>, tensor<4xi32>, tensor<4xi32>)
      -> (tensor<4x256xf32>, tensor<2x64x2x32xf16>, tensor<2x64x2x32xf16>)
  return
}

// -----

func.func @attention_updated_cache(%q: tensor<4x256xf32>, %k: tensor<4x64xf32>, %v: tensor<4x64xf32>, %s: tensor<8xbf16>,
                                   %kc: tensor<2x64x2x32xf32>, %vc: tensor<2x64x2x32xf32>, %slots: tensor<4xi32>, %pos: tensor<4xi32>) {
  // expected-error @+1 {{'moe.attention' op updated caches must have the cache type 'tensor<2x64x2x32xf32>'}}
  %o, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
      {num_heads = 8, num_kv_heads = 2, head_dim = 32, scale = 0.17677669529663687}
      : (tensor<4x256xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<8xbf16>,
         tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>, tensor<4xi32>, tensor<4xi32>)
      -> (tensor<4x256xf32>, tensor<2x64x2x32xf32>, tensor<2x65x2x32xf32>)
  return
}

// -----

func.func @attention_window_negative(%q: tensor<4x256xf32>, %k: tensor<4x64xf32>, %v: tensor<4x64xf32>, %s: tensor<8xbf16>,
                                     %kc: tensor<2x64x2x32xf32>, %vc: tensor<2x64x2x32xf32>, %slots: tensor<4xi32>, %pos: tensor<4xi32>) {
  // expected-error @+1 {{'moe.attention' op sliding_window must be positive, got -1}}
  %o, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
      {num_heads = 8, num_kv_heads = 2, head_dim = 32, scale = 0.17677669529663687, sliding_window = -1}
      : (tensor<4x256xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<8xbf16>,
         tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>, tensor<4xi32>, tensor<4xi32>)
      -> (tensor<4x256xf32>, tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>)
  return
}

// -----

func.func @attention_scale(%q: tensor<4x256xf32>, %k: tensor<4x64xf32>, %v: tensor<4x64xf32>, %s: tensor<8xbf16>,
                           %kc: tensor<2x64x2x32xf32>, %vc: tensor<2x64x2x32xf32>, %slots: tensor<4xi32>, %pos: tensor<4xi32>) {
  // expected-error @+1 {{'moe.attention' op scale must be positive, got -1.250000e-01}}
  %o, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
      {num_heads = 8, num_kv_heads = 2, head_dim = 32, scale = -0.125}
      : (tensor<4x256xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<8xbf16>,
         tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>, tensor<4xi32>, tensor<4xi32>)
      -> (tensor<4x256xf32>, tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>)
  return
}

// -----

func.func @attention_result(%q: tensor<4x256xf32>, %k: tensor<4x64xf32>, %v: tensor<4x64xf32>, %s: tensor<8xbf16>,
                            %kc: tensor<2x64x2x32xf32>, %vc: tensor<2x64x2x32xf32>, %slots: tensor<4xi32>, %pos: tensor<4xi32>) {
  // expected-error @+1 {{'moe.attention' op result must have shape [4, 256], got [4, 64]}}
  %o, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
      {num_heads = 8, num_kv_heads = 2, head_dim = 32, scale = 0.17677669529663687}
      : (tensor<4x256xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<8xbf16>,
         tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>, tensor<4xi32>, tensor<4xi32>)
      -> (tensor<4x64xf32>, tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>)
  return
}

//===----------------------------------------------------------------------===//
// moe.router
//===----------------------------------------------------------------------===//

// -----

func.func @router_features(%x: tensor<16x128xf32>, %w: tensor<8x96xbf16>, %b: tensor<8xbf16>) {
  // expected-error @+1 {{'moe.router' op input has 128 features but the router weight expects 96}}
  %rw, %ri = moe.router %x, %w, %b top_k = 4 : tensor<16x128xf32>, tensor<8x96xbf16>, tensor<8xbf16> -> tensor<16x4xf32>, tensor<16x4xi32>
  return
}

// -----

func.func @router_bias(%x: tensor<16x128xf32>, %w: tensor<8x128xbf16>, %b: tensor<128xbf16>) {
  // expected-error @+1 {{'moe.router' op bias must have shape [8], got [128]}}
  %rw, %ri = moe.router %x, %w, %b top_k = 4 : tensor<16x128xf32>, tensor<8x128xbf16>, tensor<128xbf16> -> tensor<16x4xf32>, tensor<16x4xi32>
  return
}

// -----

func.func @router_top_k(%x: tensor<16x128xf32>, %w: tensor<8x128xbf16>, %b: tensor<8xbf16>) {
  // expected-error @+1 {{'moe.router' op top_k (9) exceeds the number of experts (8)}}
  %rw, %ri = moe.router %x, %w, %b top_k = 9 : tensor<16x128xf32>, tensor<8x128xbf16>, tensor<8xbf16> -> tensor<16x9xf32>, tensor<16x9xi32>
  return
}

// -----

func.func @router_top_k_zero(%x: tensor<16x128xf32>, %w: tensor<8x128xbf16>, %b: tensor<8xbf16>) {
  // expected-error @+1 {{'moe.router' op attribute 'top_k' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %rw, %ri = moe.router %x, %w, %b top_k = 0 : tensor<16x128xf32>, tensor<8x128xbf16>, tensor<8xbf16> -> tensor<16x0xf32>, tensor<16x0xi32>
  return
}

// -----

func.func @router_weights(%x: tensor<16x128xf32>, %w: tensor<8x128xbf16>, %b: tensor<8xbf16>) {
  // expected-error @+1 {{'moe.router' op routing_weights must have shape [16, 4], got [16, 8]}}
  %rw, %ri = moe.router %x, %w, %b top_k = 4 : tensor<16x128xf32>, tensor<8x128xbf16>, tensor<8xbf16> -> tensor<16x8xf32>, tensor<16x4xi32>
  return
}

// -----

func.func @router_indices(%x: tensor<16x128xf32>, %w: tensor<8x128xbf16>, %b: tensor<8xbf16>) {
  // expected-error @+1 {{'moe.router' op expert_indices must have shape [16, 4], got [4, 16]}}
  %rw, %ri = moe.router %x, %w, %b top_k = 4 : tensor<16x128xf32>, tensor<8x128xbf16>, tensor<8xbf16> -> tensor<16x4xf32>, tensor<4x16xi32>
  return
}

//===----------------------------------------------------------------------===//
// moe.experts
//===----------------------------------------------------------------------===//

// -----

// A bf16 (not yet quantised) gate_up.
func.func @experts_not_mxfp4(%x: tensor<16x128xf32>, %rw: tensor<16x4xf32>, %ri: tensor<16x4xi32>,
                             %gu: tensor<8x192x128xbf16>, %gub: tensor<8x192xbf16>,
                             %dn: tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x128xbf16>) -> tensor<16x128xf32> {
  // expected-error @+1 {{'moe.experts' op gate_up must be an MXFP4 tensor (f4E2M1FN with #mx.block_scaled), got 'tensor<8x192x128xbf16>'}}
  %y = moe.experts %x routed(%rw, %ri) gate_up(%gu, %gub) down(%dn, %dnb) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<16x128xf32>, tensor<16x4xf32>, tensor<16x4xi32>, tensor<8x192x128xbf16>, tensor<8x192xbf16>,
         tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<16x128xf32>
  return %y : tensor<16x128xf32>
}

// -----

// MXFP8 is block-scaled but not MXFP4.
func.func @experts_mxfp8(%x: tensor<16x128xf32>, %rw: tensor<16x4xf32>, %ri: tensor<16x4xi32>,
                         %gu: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, %gub: tensor<8x192xbf16>,
                         %dn: tensor<8x128x96xf8E4M3FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x128xbf16>) -> tensor<16x128xf32> {
  // expected-error @+1 {{'moe.experts' op down must be an MXFP4 tensor (f4E2M1FN with #mx.block_scaled), got 'tensor<8x128x96xf8E4M3FN, #mx.block_scaled<axis = 2>>'}}
  %y = moe.experts %x routed(%rw, %ri) gate_up(%gu, %gub) down(%dn, %dnb) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<16x128xf32>, tensor<16x4xf32>, tensor<16x4xi32>, tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x192xbf16>,
         tensor<8x128x96xf8E4M3FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<16x128xf32>
  return %y : tensor<16x128xf32>
}

// -----

// One expert's weight where the stacked [experts, out, in] weight belongs.
func.func @experts_rank(%x: tensor<16x128xf32>, %rw: tensor<16x4xf32>, %ri: tensor<16x4xi32>,
                        %gu: tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>>, %gub: tensor<8x192xbf16>,
                        %dn: tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x128xbf16>) -> tensor<16x128xf32> {
  // expected-error @+1 {{'moe.experts' op gate_up must have rank 3, got 2}}
  %y = moe.experts %x routed(%rw, %ri) gate_up(%gu, %gub) down(%dn, %dnb) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<16x128xf32>, tensor<16x4xf32>, tensor<16x4xi32>, tensor<192x128xf4E2M1FN, #mx.block_scaled<axis = 1>>, tensor<8x192xbf16>,
         tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<16x128xf32>
  return %y : tensor<16x128xf32>
}

// -----

// Blocked along the output rows instead of the contraction axis.
func.func @experts_axis(%x: tensor<16x128xf32>, %rw: tensor<16x4xf32>, %ri: tensor<16x4xi32>,
                        %gu: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 1>>, %gub: tensor<8x192xbf16>,
                        %dn: tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x128xbf16>) -> tensor<16x128xf32> {
  // expected-error @+1 {{'moe.experts' op gate_up must be blocked along dimension 2 (its contraction axis), got axis 1}}
  %y = moe.experts %x routed(%rw, %ri) gate_up(%gu, %gub) down(%dn, %dnb) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<16x128xf32>, tensor<16x4xf32>, tensor<16x4xi32>, tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 1>>, tensor<8x192xbf16>,
         tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<16x128xf32>
  return %y : tensor<16x128xf32>
}

// -----

func.func @experts_gate_up_inputs(%x: tensor<16x128xf32>, %rw: tensor<16x4xf32>, %ri: tensor<16x4xi32>,
                                  %gu: tensor<8x192x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %gub: tensor<8x192xbf16>,
                                  %dn: tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x128xbf16>) -> tensor<16x128xf32> {
  // expected-error @+1 {{'moe.experts' op gate_up takes 96 inputs but the rows have 128}}
  %y = moe.experts %x routed(%rw, %ri) gate_up(%gu, %gub) down(%dn, %dnb) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<16x128xf32>, tensor<16x4xf32>, tensor<16x4xi32>, tensor<8x192x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x192xbf16>,
         tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<16x128xf32>
  return %y : tensor<16x128xf32>
}

// -----

// gate_up without the linear half: SwiGLU needs 2 * intermediate outputs.
func.func @experts_gate_up_outputs(%x: tensor<16x128xf32>, %rw: tensor<16x4xf32>, %ri: tensor<16x4xi32>,
                                   %gu: tensor<8x96x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, %gub: tensor<8x96xbf16>,
                                   %dn: tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x128xbf16>) -> tensor<16x128xf32> {
  // expected-error @+1 {{'moe.experts' op gate_up has 96 outputs; SwiGLU over down's 96 inputs needs 192 (gate and linear interleaved)}}
  %y = moe.experts %x routed(%rw, %ri) gate_up(%gu, %gub) down(%dn, %dnb) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<16x128xf32>, tensor<16x4xf32>, tensor<16x4xi32>, tensor<8x96x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x96xbf16>,
         tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<16x128xf32>
  return %y : tensor<16x128xf32>
}

// -----

// down with a different number of experts than gate_up.
func.func @experts_down(%x: tensor<16x128xf32>, %rw: tensor<16x4xf32>, %ri: tensor<16x4xi32>,
                        %gu: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, %gub: tensor<8x192xbf16>,
                        %dn: tensor<4x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x128xbf16>) -> tensor<16x128xf32> {
  // expected-error @+1 {{'moe.experts' op down must be [8, 128, 96], got [4, 128, 96]}}
  %y = moe.experts %x routed(%rw, %ri) gate_up(%gu, %gub) down(%dn, %dnb) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<16x128xf32>, tensor<16x4xf32>, tensor<16x4xi32>, tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x192xbf16>,
         tensor<4x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<16x128xf32>
  return %y : tensor<16x128xf32>
}

// -----

func.func @experts_gate_up_bias(%x: tensor<16x128xf32>, %rw: tensor<16x4xf32>, %ri: tensor<16x4xi32>,
                                %gu: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, %gub: tensor<192xbf16>,
                                %dn: tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x128xbf16>) -> tensor<16x128xf32> {
  // expected-error @+1 {{'moe.experts' op gate_up_bias must have shape [8, 192], got [192]}}
  %y = moe.experts %x routed(%rw, %ri) gate_up(%gu, %gub) down(%dn, %dnb) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<16x128xf32>, tensor<16x4xf32>, tensor<16x4xi32>, tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<192xbf16>,
         tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<16x128xf32>
  return %y : tensor<16x128xf32>
}

// -----

func.func @experts_routing(%x: tensor<16x128xf32>, %rw: tensor<16x4xf32>, %ri: tensor<16x2xi32>,
                           %gu: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, %gub: tensor<8x192xbf16>,
                           %dn: tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x128xbf16>) -> tensor<16x128xf32> {
  // expected-error @+1 {{'moe.experts' op expert_indices must have shape [16, 4], got [16, 2]}}
  %y = moe.experts %x routed(%rw, %ri) gate_up(%gu, %gub) down(%dn, %dnb) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<16x128xf32>, tensor<16x4xf32>, tensor<16x2xi32>, tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x192xbf16>,
         tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<16x128xf32>
  return %y : tensor<16x128xf32>
}

// -----

func.func @experts_top_k(%x: tensor<16x128xf32>, %rw: tensor<16x9xf32>, %ri: tensor<16x9xi32>,
                         %gu: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, %gub: tensor<8x192xbf16>,
                         %dn: tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x128xbf16>) -> tensor<16x128xf32> {
  // expected-error @+1 {{'moe.experts' op routes 9 experts per row but only 8 exist}}
  %y = moe.experts %x routed(%rw, %ri) gate_up(%gu, %gub) down(%dn, %dnb) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<16x128xf32>, tensor<16x9xf32>, tensor<16x9xi32>, tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x192xbf16>,
         tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<16x128xf32>
  return %y : tensor<16x128xf32>
}

// -----

func.func @experts_limit(%x: tensor<16x128xf32>, %rw: tensor<16x4xf32>, %ri: tensor<16x4xi32>,
                         %gu: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, %gub: tensor<8x192xbf16>,
                         %dn: tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x128xbf16>) -> tensor<16x128xf32> {
  // expected-error @+1 {{'moe.experts' op swiglu_limit must be positive, got 0.000000e+00}}
  %y = moe.experts %x routed(%rw, %ri) gate_up(%gu, %gub) down(%dn, %dnb) swiglu_limit = 0.0 swiglu_alpha = 1.702
      : (tensor<16x128xf32>, tensor<16x4xf32>, tensor<16x4xi32>, tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x192xbf16>,
         tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<16x128xf32>
  return %y : tensor<16x128xf32>
}

//===----------------------------------------------------------------------===//
// moe.unembed / moe.sample
//===----------------------------------------------------------------------===//

// -----

func.func @unembed_features(%x: tensor<1x128xf32>, %w: tensor<1024x96xbf16>) -> tensor<1x1024xf32> {
  // expected-error @+1 {{'moe.unembed' op input has 128 features but the unembedding expects 96}}
  %l = moe.unembed %x, %w : tensor<1x128xf32>, tensor<1024x96xbf16> -> tensor<1x1024xf32>
  return %l : tensor<1x1024xf32>
}

// -----

func.func @unembed_logits(%x: tensor<1x128xf32>, %w: tensor<1024x128xbf16>) -> tensor<1x128xf32> {
  // expected-error @+1 {{'moe.unembed' op logits must have shape [1, 1024], got [1, 128]}}
  %l = moe.unembed %x, %w : tensor<1x128xf32>, tensor<1024x128xbf16> -> tensor<1x128xf32>
  return %l : tensor<1x128xf32>
}

// -----

func.func @sample_logits_rank(%l: tensor<1024xf32>, %t: f32, %p: f32, %seed: i64) -> tensor<1xi32> {
  // expected-error @+1 {{'moe.sample' op logits must be rank 2 ([rows, vocab]), got 'tensor<1024xf32>'}}
  %tok = moe.sample %l temperature(%t) top_p(%p) seed(%seed) : tensor<1024xf32>, f32, f32, i64 -> tensor<1xi32>
  return %tok : tensor<1xi32>
}

// -----

func.func @sample_tokens(%l: tensor<4x1024xf32>, %t: f32, %p: f32, %seed: i64) -> tensor<1xi32> {
  // expected-error @+1 {{'moe.sample' op tokens must have shape [4], got [1]}}
  %tok = moe.sample %l temperature(%t) top_p(%p) seed(%seed) : tensor<4x1024xf32>, f32, f32, i64 -> tensor<1xi32>
  return %tok : tensor<1xi32>
}

//===----------------------------------------------------------------------===//
// moe.kernel / moe.yield
//===----------------------------------------------------------------------===//

// -----

func.func @kernel_empty_name(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'moe.kernel' op needs a non-empty kernel name}}
  %y = moe.kernel "" -> tensor<4xf32> {
    moe.yield %x : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}

// -----

func.func @kernel_yield_types(%x: tensor<4xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'moe.kernel' op yields 1 values of types 'tensor<4xf32>' but the kernel has results of types 'tensor<8xf32>'}}
  %y = moe.kernel "k" -> tensor<8xf32> {
    moe.yield %x : tensor<4xf32>
  }
  return %y : tensor<8xf32>
}

// -----

// Without a moe.yield the implicit terminator yields nothing.
func.func @kernel_implicit_yield() -> tensor<4xf32> {
  // expected-error @+1 {{'moe.kernel' op yields 0 values of types  but the kernel has results of types 'tensor<4xf32>'}}
  %y = moe.kernel "k" -> tensor<4xf32> {
    %w = moe.weight "w" : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}

// -----

func.func @yield_outside_kernel(%x: tensor<4xf32>) {
  // expected-error @+1 {{'moe.yield' op expects parent op 'moe.kernel'}}
  moe.yield %x : tensor<4xf32>
}

// -----

func.func @expert_gate_up_not_mxfp4(%x: tensor<4x128xf32>, %i: tensor<4x2xi32>, %gu: tensor<8x192x128xbf16>, %gub: tensor<8x192xbf16>) {
  // expected-error @+1 {{'moe.expert_gate_up' op gate_up must be an MXFP4 tensor (f4E2M1FN with #mx.block_scaled), got 'tensor<8x192x128xbf16>'}}
  %a = moe.expert_gate_up %x routed(%i) gate_up(%gu, %gub) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<4x128xf32>, tensor<4x2xi32>, tensor<8x192x128xbf16>, tensor<8x192xbf16>) -> tensor<4x2x96xf32>
  return
}

// -----

func.func @expert_gate_up_bad_result(%x: tensor<4x128xf32>, %i: tensor<4x2xi32>, %gu: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, %gub: tensor<8x192xbf16>) {
  // expected-error @+1 {{'moe.expert_gate_up' op result must be [rows, top_k, intermediate] = [4, 2, 96], got 'tensor<4x2x192xf32>'}}
  %a = moe.expert_gate_up %x routed(%i) gate_up(%gu, %gub) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<4x128xf32>, tensor<4x2xi32>, tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x192xbf16>) -> tensor<4x2x192xf32>
  return
}

// -----

func.func @expert_gate_up_bad_bias(%x: tensor<4x128xf32>, %i: tensor<4x2xi32>, %gu: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, %gub: tensor<8x96xbf16>) {
  // expected-error @+1 {{'moe.expert_gate_up' op gate_up_bias must be [8, 192], got 'tensor<8x96xbf16>'}}
  %a = moe.expert_gate_up %x routed(%i) gate_up(%gu, %gub) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<4x128xf32>, tensor<4x2xi32>, tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x96xbf16>) -> tensor<4x2x96xf32>
  return
}

// -----

func.func @expert_down_bad_inputs(%a: tensor<4x2x96xf32>, %w: tensor<4x2xf32>, %i: tensor<4x2xi32>, %dn: tensor<8x128x64xf4E2M1FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x128xbf16>) {
  // expected-error @+1 {{'moe.expert_down' op down takes 64 inputs but the activation has 96}}
  %y = moe.expert_down %a routed(%w, %i) down(%dn, %dnb)
      : (tensor<4x2x96xf32>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<8x128x64xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<4x128xf32>
  return
}

// -----

func.func @expert_down_bad_routing(%a: tensor<4x2x96xf32>, %w: tensor<4x3xf32>, %i: tensor<4x2xi32>, %dn: tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x128xbf16>) {
  // expected-error @+1 {{'moe.expert_down' op routing_weights and expert_indices must be [4, 2]}}
  %y = moe.expert_down %a routed(%w, %i) down(%dn, %dnb)
      : (tensor<4x2x96xf32>, tensor<4x3xf32>, tensor<4x2xi32>, tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<4x128xf32>
  return
}

// -----

func.func @expert_down_bad_result(%a: tensor<4x2x96xf32>, %w: tensor<4x2xf32>, %i: tensor<4x2xi32>, %dn: tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x128xbf16>) {
  // expected-error @+1 {{'moe.expert_down' op result must be [4, 128], got 'tensor<4x64xf32>'}}
  %y = moe.expert_down %a routed(%w, %i) down(%dn, %dnb)
      : (tensor<4x2x96xf32>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<4x64xf32>
  return
}

// -----

func.func @expert_gate_up_bad_indices(%x: tensor<4x128xf32>, %i: tensor<3x2xi32>, %gu: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, %gub: tensor<8x192xbf16>) {
  // expected-error @+1 {{'moe.expert_gate_up' op input must be [rows, hidden] and expert_indices [rows, top_k], got 'tensor<4x128xf32>' and 'tensor<3x2xi32>'}}
  %a = moe.expert_gate_up %x routed(%i) gate_up(%gu, %gub) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<4x128xf32>, tensor<3x2xi32>, tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x192xbf16>) -> tensor<4x2x96xf32>
  return
}

// -----

func.func @expert_gate_up_wrong_width(%x: tensor<4x128xf32>, %i: tensor<4x2xi32>, %gu: tensor<8x192x256xf4E2M1FN, #mx.block_scaled<axis = 2>>, %gub: tensor<8x192xbf16>) {
  // expected-error @+1 {{'moe.expert_gate_up' op gate_up must be [experts, 2 * intermediate, 128], got 'tensor<8x192x256xf4E2M1FN, #mx.block_scaled<axis = 2>>'}}
  %a = moe.expert_gate_up %x routed(%i) gate_up(%gu, %gub) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<4x128xf32>, tensor<4x2xi32>, tensor<8x192x256xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x192xbf16>) -> tensor<4x2x96xf32>
  return
}

// -----

func.func @expert_down_bad_activation(%a: tensor<4x96xf32>, %w: tensor<4x2xf32>, %i: tensor<4x2xi32>, %dn: tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x128xbf16>) {
  // expected-error @+1 {{'moe.expert_down' op activation must be [rows, top_k, intermediate], got 'tensor<4x96xf32>'}}
  %y = moe.expert_down %a routed(%w, %i) down(%dn, %dnb)
      : (tensor<4x96xf32>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<4x128xf32>
  return
}

// -----

func.func @expert_down_bad_bias(%a: tensor<4x2x96xf32>, %w: tensor<4x2xf32>, %i: tensor<4x2xi32>, %dn: tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x96xbf16>) {
  // expected-error @+1 {{'moe.expert_down' op down_bias must be [8, 128], got 'tensor<8x96xbf16>'}}
  %y = moe.expert_down %a routed(%w, %i) down(%dn, %dnb)
      : (tensor<4x2x96xf32>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x96xbf16>) -> tensor<4x128xf32>
  return
}
