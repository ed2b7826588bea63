// RUN: moec-opt %s --moe-plan-memory | FileCheck %s

// Three kernels in a row: %a dies after the second call, so the third reuses
// its space; the attention's updated caches stay in their kv buffers; the
// value returned first is written straight into the logits output.
// CHECK-LABEL: func.func @decode
// CHECK-SAME: attributes {moe.arena_size = 1024 : i64}
// CHECK: call @k.embed{{.*}}moe.bindings = ["weight:emb", "input:tokens", "arena:0+512"]
// CHECK: call @k.attend{{.*}}moe.bindings = ["arena:0+512", "kv:key_cache.0", "kv:value_cache.0", "input:slots", "input:positions", "arena:512+512", "kv:key_cache.0", "kv:value_cache.0"]
// CHECK: call @k.norm{{.*}}moe.bindings = ["arena:512+512", "weight:gain", "arena:0+512"]
// CHECK: call @k.head{{.*}}moe.bindings = ["arena:0+512", "weight:head", "output:logits"]
func.func @decode(%tok: tensor<1xi32> {moe.name = "tokens"}, %pos: tensor<1xi32> {moe.name = "positions"},
                  %slot: tensor<1xi32> {moe.name = "slots"},
                  %kc: tensor<1x8x2x64xf32> {moe.name = "key_cache.0"}, %vc: tensor<1x8x2x64xf32> {moe.name = "value_cache.0"})
    -> (tensor<1x64xf32>, tensor<1x8x2x64xf32>, tensor<1x8x2x64xf32>) {
  %emb = moe.weight "emb" : tensor<64x128xbf16>
  %a = call @k.embed(%emb, %tok) : (tensor<64x128xbf16>, tensor<1xi32>) -> tensor<1x128xf32>
  %b:3 = call @k.attend(%a, %kc, %vc, %slot, %pos) : (tensor<1x128xf32>, tensor<1x8x2x64xf32>, tensor<1x8x2x64xf32>, tensor<1xi32>, tensor<1xi32>) -> (tensor<1x128xf32>, tensor<1x8x2x64xf32>, tensor<1x8x2x64xf32>)
  %g = moe.weight "gain" : tensor<128xbf16>
  %c = call @k.norm(%b#0, %g) : (tensor<1x128xf32>, tensor<128xbf16>) -> tensor<1x128xf32>
  %h = moe.weight "head" : tensor<64x128xbf16>
  %l = call @k.head(%c, %h) : (tensor<1x128xf32>, tensor<64x128xbf16>) -> tensor<1x64xf32>
  return %l, %b#1, %b#2 : tensor<1x64xf32>, tensor<1x8x2x64xf32>, tensor<1x8x2x64xf32>
}
func.func private @k.embed(%t: tensor<64x128xbf16>, %i: tensor<1xi32>) -> tensor<1x128xf32> {
  %e = moe.embedding %t[%i] : tensor<64x128xbf16>, tensor<1xi32> -> tensor<1x128xf32>
  return %e : tensor<1x128xf32>
}
func.func private @k.attend(%x: tensor<1x128xf32>, %kc: tensor<1x8x2x64xf32>, %vc: tensor<1x8x2x64xf32>, %slot: tensor<1xi32>, %pos: tensor<1xi32>) -> (tensor<1x128xf32>, tensor<1x8x2x64xf32>, tensor<1x8x2x64xf32>) {
  %s = arith.constant dense<0.0> : tensor<2xbf16>
  %k = arith.constant dense<0.0> : tensor<1x128xf32>
  %o, %nk, %nv = moe.attention %x, %k, %k sinks(%s) cache(%kc, %vc) at(%slot, %pos) {num_heads = 2, num_kv_heads = 2, head_dim = 64, scale = 0.125}
      : (tensor<1x128xf32>, tensor<1x128xf32>, tensor<1x128xf32>, tensor<2xbf16>, tensor<1x8x2x64xf32>, tensor<1x8x2x64xf32>, tensor<1xi32>, tensor<1xi32>) -> (tensor<1x128xf32>, tensor<1x8x2x64xf32>, tensor<1x8x2x64xf32>)
  return %o, %nk, %nv : tensor<1x128xf32>, tensor<1x8x2x64xf32>, tensor<1x8x2x64xf32>
}
func.func private @k.norm(%x: tensor<1x128xf32>, %g: tensor<128xbf16>) -> tensor<1x128xf32> {
  %n = moe.rms_norm %x, %g epsilon = 1.0e-05 : tensor<1x128xf32>, tensor<128xbf16> -> tensor<1x128xf32>
  return %n : tensor<1x128xf32>
}
func.func private @k.head(%x: tensor<1x128xf32>, %w: tensor<64x128xbf16>) -> tensor<1x64xf32> {
  %l = moe.unembed %x, %w : tensor<1x128xf32>, tensor<64x128xbf16> -> tensor<1x64xf32>
  return %l : tensor<1x64xf32>
}
