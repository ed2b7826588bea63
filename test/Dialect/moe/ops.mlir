// Round trip of every moe op and attribute: the custom form parses, prints and
// parses again to the same IR, and so does the generic form.
// RUN: moec-opt %s -split-input-file | moec-opt -split-input-file | FileCheck %s
// RUN: moec-opt %s -split-input-file --mlir-print-op-generic | moec-opt -split-input-file | FileCheck %s

// Shapes are those of the tiny gpt-oss test model unless a case says otherwise:
// hidden 128, 8 query heads and 2 KV heads of 32, 8 experts with top-4,
// intermediate 96, vocabulary 1024.

// CHECK-LABEL: func.func @weight_dense
// CHECK:         %[[W:.+]] = moe.weight "model.layers.0.self_attn.q_proj.weight" : tensor<256x128xbf16>
// CHECK:         return %[[W]]
func.func @weight_dense() -> tensor<256x128xbf16> {
  %w = moe.weight "model.layers.0.self_attn.q_proj.weight" : tensor<256x128xbf16>
  return %w : tensor<256x128xbf16>
}

// -----

// CHECK-LABEL: func.func @weight_mxfp4
// CHECK:         moe.weight "model.layers.0.mlp.experts.gate_up_proj" : tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>
func.func @weight_mxfp4() -> tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>> {
  %w = moe.weight "model.layers.0.mlp.experts.gate_up_proj" : tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>
  return %w : tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>
}

// -----

// CHECK-LABEL: func.func @embedding
// CHECK-SAME:    (%[[TOKENS:.+]]: tensor<16xi32>)
// CHECK:         %[[TABLE:.+]] = moe.weight "model.embed_tokens.weight" : tensor<1024x128xbf16>
// CHECK:         %[[X:.+]] = moe.embedding %[[TABLE]][%[[TOKENS]]] : tensor<1024x128xbf16>, tensor<16xi32> -> tensor<16x128xf32>
// CHECK:         return %[[X]]
func.func @embedding(%tokens: tensor<16xi32>) -> tensor<16x128xf32> {
  %table = moe.weight "model.embed_tokens.weight" : tensor<1024x128xbf16>
  %x = moe.embedding %table[%tokens] : tensor<1024x128xbf16>, tensor<16xi32> -> tensor<16x128xf32>
  return %x : tensor<16x128xf32>
}

// -----

// CHECK-LABEL: func.func @rms_norm
// CHECK-SAME:    (%[[X:.+]]: tensor<16x128xf32>)
// CHECK:         %[[G:.+]] = moe.weight "model.layers.0.input_layernorm.weight" : tensor<128xbf16>
// CHECK:         moe.rms_norm %[[X]], %[[G]] epsilon = 1.000000e-05 : tensor<16x128xf32>, tensor<128xbf16> -> tensor<16x128xf32>
func.func @rms_norm(%x: tensor<16x128xf32>) -> tensor<16x128xf32> {
  %g = moe.weight "model.layers.0.input_layernorm.weight" : tensor<128xbf16>
  %n = moe.rms_norm %x, %g epsilon = 1.0e-05 : tensor<16x128xf32>, tensor<128xbf16> -> tensor<16x128xf32>
  return %n : tensor<16x128xf32>
}

// -----

// CHECK-LABEL: func.func @linear_with_bias
// CHECK-SAME:    (%[[X:.+]]: tensor<16x128xf32>)
// CHECK:         %[[W:.+]] = moe.weight "model.layers.0.self_attn.q_proj.weight"
// CHECK:         %[[B:.+]] = moe.weight "model.layers.0.self_attn.q_proj.bias"
// CHECK:         moe.linear %[[X]], %[[W]], %[[B]] : tensor<16x128xf32>, tensor<256x128xbf16>, tensor<256xbf16> -> tensor<16x256xf32>
func.func @linear_with_bias(%x: tensor<16x128xf32>) -> tensor<16x256xf32> {
  %w = moe.weight "model.layers.0.self_attn.q_proj.weight" : tensor<256x128xbf16>
  %b = moe.weight "model.layers.0.self_attn.q_proj.bias" : tensor<256xbf16>
  %q = moe.linear %x, %w, %b : tensor<16x128xf32>, tensor<256x128xbf16>, tensor<256xbf16> -> tensor<16x256xf32>
  return %q : tensor<16x256xf32>
}

// -----

// CHECK-LABEL: func.func @linear_without_bias
// CHECK-SAME:    (%[[X:.+]]: tensor<16x256xf32>, %[[W:.+]]: tensor<128x256xf32>)
// CHECK:         moe.linear %[[X]], %[[W]] : tensor<16x256xf32>, tensor<128x256xf32> -> tensor<16x128xf32>
func.func @linear_without_bias(%x: tensor<16x256xf32>, %w: tensor<128x256xf32>) -> tensor<16x128xf32> {
  %y = moe.linear %x, %w : tensor<16x256xf32>, tensor<128x256xf32> -> tensor<16x128xf32>
  return %y : tensor<16x128xf32>
}

// -----

// The custom form prints the #moe.yarn parameter stripped of its prefix: a
// literal `#moe.yarn<...>` right before the `:` would take the `: type` as its
// own attribute type. Aliases and the generic form spell it out.

// CHECK-LABEL: func.func @rope
// CHECK-SAME:    (%[[Q:.+]]: tensor<16x256xf32>, %[[POS:.+]]: tensor<16xi32>)
// CHECK:         moe.rope %[[Q]], %[[POS]] head_dim = 32 scaling(#moe.yarn<theta = 1.500000e+05, factor = 3.200000e+01, beta_fast = 3.200000e+01, beta_slow = 1.000000e+00, original_context = 4096, truncate = false>) : tensor<16x256xf32>, tensor<16xi32>
func.func @rope(%q: tensor<16x256xf32>, %pos: tensor<16xi32>) -> tensor<16x256xf32> {
  %r = moe.rope %q, %pos head_dim = 32 scaling(#moe.yarn<theta = 150000.0, factor = 32.0, beta_fast = 32.0, beta_slow = 1.0, original_context = 4096, truncate = false>) : tensor<16x256xf32>, tensor<16xi32>
  return %r : tensor<16x256xf32>
}

// -----

// An alias for the attribute, truncate = true and parameters that are not
// round decimals.
#yarn = #moe.yarn<theta = 10000.0, factor = 4.0, beta_fast = 32.5, beta_slow = 0.1, original_context = 256, truncate = true>

// CHECK-LABEL: func.func @rope_yarn_alias
// CHECK:         moe.rope %{{.+}}, %{{.+}} head_dim = 32 scaling(#moe.yarn<theta = 1.000000e+04, factor = 4.000000e+00, beta_fast = 3.250000e+01, beta_slow = 1.000000e-01, original_context = 256, truncate = true>)
func.func @rope_yarn_alias(%k: tensor<4x64xf32>, %pos: tensor<4xi32>) -> tensor<4x64xf32> {
  %r = moe.rope %k, %pos head_dim = 32 scaling(#yarn) : tensor<4x64xf32>, tensor<4xi32>
  return %r : tensor<4x64xf32>
}

// -----

// CHECK-LABEL: func.func @rope_generic
// CHECK:         moe.rope %{{.+}}, %{{.+}} head_dim = 64 scaling(#moe.yarn<theta = 1.500000e+05, factor = 3.200000e+01, beta_fast = 3.200000e+01, beta_slow = 1.000000e+00, original_context = 4096, truncate = false>) : tensor<2x512xf32>, tensor<2xi32>
func.func @rope_generic(%k: tensor<2x512xf32>, %pos: tensor<2xi32>) -> tensor<2x512xf32> {
  %r = "moe.rope"(%k, %pos) <{head_dim = 64 : i64, scaling = #moe.yarn<theta = 150000.0, factor = 32.0, beta_fast = 32.0, beta_slow = 1.0, original_context = 4096, truncate = false>}> : (tensor<2x512xf32>, tensor<2xi32>) -> tensor<2x512xf32>
  return %r : tensor<2x512xf32>
}

// -----

// Full attention (no sliding_window) over a cache of 2 slots x 64 positions.

// CHECK-LABEL: func.func @attention
// CHECK-SAME:    (%[[Q:[^:]+]]: tensor<16x256xf32>, %[[K:[^:]+]]: tensor<16x64xf32>, %[[V:[^:]+]]: tensor<16x64xf32>, %[[KC:[^:]+]]: tensor<2x64x2x32xf32>, %[[VC:[^:]+]]: tensor<2x64x2x32xf32>, %[[SLOTS:[^:]+]]: tensor<16xi32>, %[[POS:[^:]+]]: tensor<16xi32>)
// CHECK:         %[[S:.+]] = moe.weight "model.layers.0.self_attn.sinks" : tensor<8xbf16>
// CHECK:         %[[O:[^,]+]], %[[NKC:[^,]+]], %[[NVC:[^ ]+]] = moe.attention %[[Q]], %[[K]], %[[V]] sinks(%[[S]]) cache(%[[KC]], %[[VC]]) at(%[[SLOTS]], %[[POS]])
// CHECK-SAME:      {head_dim = 32 : i64, num_heads = 8 : i64, num_kv_heads = 2 : i64, scale = 0.17677669529663687 : f64}
// CHECK-NOT:       sliding_window
// CHECK-SAME:      : (tensor<16x256xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<8xbf16>, tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>, tensor<16xi32>, tensor<16xi32>) -> (tensor<16x256xf32>, tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>)
// CHECK:         return %[[O]], %[[NKC]], %[[NVC]]
func.func @attention(%q: tensor<16x256xf32>, %k: tensor<16x64xf32>, %v: tensor<16x64xf32>,
                     %kc: tensor<2x64x2x32xf32>, %vc: tensor<2x64x2x32xf32>,
                     %slots: tensor<16xi32>, %pos: tensor<16xi32>)
    -> (tensor<16x256xf32>, tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>) {
  %s = moe.weight "model.layers.0.self_attn.sinks" : tensor<8xbf16>
  %o, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
      {num_heads = 8, num_kv_heads = 2, head_dim = 32, scale = 0.17677669529663687}
      : (tensor<16x256xf32>, tensor<16x64xf32>, tensor<16x64xf32>, tensor<8xbf16>,
         tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>, tensor<16xi32>, tensor<16xi32>)
      -> (tensor<16x256xf32>, tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>)
  return %o, %kc2, %vc2 : tensor<16x256xf32>, tensor<2x64x2x32xf32>, tensor<2x64x2x32xf32>
}

// -----

// A decode batch over the sliding-window layers: 4 rows, one per slot.

// CHECK-LABEL: func.func @attention_sliding_window
// CHECK:         moe.attention
// CHECK-SAME:      {head_dim = 32 : i64, num_heads = 8 : i64, num_kv_heads = 2 : i64, scale = 0.17677669529663687 : f64, sliding_window = 16 : i64}
// CHECK-SAME:      -> (tensor<4x256xf32>, tensor<4x64x2x32xf32>, tensor<4x64x2x32xf32>)
func.func @attention_sliding_window(%q: tensor<4x256xf32>, %k: tensor<4x64xf32>, %v: tensor<4x64xf32>,
                                    %s: tensor<8xf32>, %kc: tensor<4x64x2x32xf32>, %vc: tensor<4x64x2x32xf32>,
                                    %slots: tensor<4xi32>, %pos: tensor<4xi32>) -> tensor<4x256xf32> {
  %o, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
      {num_heads = 8, num_kv_heads = 2, head_dim = 32, scale = 0.17677669529663687, sliding_window = 16}
      : (tensor<4x256xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<8xf32>,
         tensor<4x64x2x32xf32>, tensor<4x64x2x32xf32>, tensor<4xi32>, tensor<4xi32>)
      -> (tensor<4x256xf32>, tensor<4x64x2x32xf32>, tensor<4x64x2x32xf32>)
  return %o : tensor<4x256xf32>
}

// -----

// CHECK-LABEL: func.func @router
// CHECK-SAME:    (%[[X:.+]]: tensor<16x128xf32>)
// CHECK:         %[[W:.+]] = moe.weight "model.layers.0.mlp.router.weight" : tensor<8x128xbf16>
// CHECK:         %[[B:.+]] = moe.weight "model.layers.0.mlp.router.bias" : tensor<8xbf16>
// CHECK:         %[[RW:[^,]+]], %[[RI:[^ ]+]] = moe.router %[[X]], %[[W]], %[[B]] top_k = 4 : tensor<16x128xf32>, tensor<8x128xbf16>, tensor<8xbf16> -> tensor<16x4xf32>, tensor<16x4xi32>
// CHECK:         return %[[RW]], %[[RI]]
func.func @router(%x: tensor<16x128xf32>) -> (tensor<16x4xf32>, tensor<16x4xi32>) {
  %w = moe.weight "model.layers.0.mlp.router.weight" : tensor<8x128xbf16>
  %b = moe.weight "model.layers.0.mlp.router.bias" : tensor<8xbf16>
  %rw, %ri = moe.router %x, %w, %b top_k = 4 : tensor<16x128xf32>, tensor<8x128xbf16>, tensor<8xbf16> -> tensor<16x4xf32>, tensor<16x4xi32>
  return %rw, %ri : tensor<16x4xf32>, tensor<16x4xi32>
}

// -----

// CHECK-LABEL: func.func @experts
// CHECK-SAME:    (%[[X:[^:]+]]: tensor<16x128xf32>, %[[RW:[^:]+]]: tensor<16x4xf32>, %[[RI:[^:]+]]: tensor<16x4xi32>)
// CHECK:         %[[GU:.+]] = moe.weight "model.layers.0.mlp.experts.gate_up_proj" : tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>
// CHECK:         %[[GUB:.+]] = moe.weight "model.layers.0.mlp.experts.gate_up_proj_bias" : tensor<8x192xbf16>
// CHECK:         %[[DN:.+]] = moe.weight "model.layers.0.mlp.experts.down_proj" : tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>
// CHECK:         %[[DNB:.+]] = moe.weight "model.layers.0.mlp.experts.down_proj_bias" : tensor<8x128xbf16>
// CHECK:         %[[Y:.+]] = moe.experts %[[X]] routed(%[[RW]], %[[RI]]) gate_up(%[[GU]], %[[GUB]]) down(%[[DN]], %[[DNB]]) swiglu_limit = 7.000000e+00 swiglu_alpha = 1.702000e+00
// CHECK-SAME:      : (tensor<16x128xf32>, tensor<16x4xf32>, tensor<16x4xi32>, tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x192xbf16>, tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<16x128xf32>
// CHECK:         return %[[Y]]
func.func @experts(%x: tensor<16x128xf32>, %rw: tensor<16x4xf32>, %ri: tensor<16x4xi32>) -> tensor<16x128xf32> {
  %gu = moe.weight "model.layers.0.mlp.experts.gate_up_proj" : tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>
  %gub = moe.weight "model.layers.0.mlp.experts.gate_up_proj_bias" : tensor<8x192xbf16>
  %dn = moe.weight "model.layers.0.mlp.experts.down_proj" : tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>
  %dnb = moe.weight "model.layers.0.mlp.experts.down_proj_bias" : tensor<8x128xbf16>
  %y = moe.experts %x routed(%rw, %ri) gate_up(%gu, %gub) down(%dn, %dnb) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<16x128xf32>, tensor<16x4xf32>, tensor<16x4xi32>,
         tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x192xbf16>,
         tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<16x128xf32>
  return %y : tensor<16x128xf32>
}

// -----

// CHECK-LABEL: func.func @unembed
// CHECK-SAME:    (%[[X:.+]]: tensor<1x128xf32>)
// CHECK:         %[[W:.+]] = moe.weight "lm_head.weight" : tensor<1024x128xbf16>
// CHECK:         moe.unembed %[[X]], %[[W]] : tensor<1x128xf32>, tensor<1024x128xbf16> -> tensor<1x1024xf32>
func.func @unembed(%x: tensor<1x128xf32>) -> tensor<1x1024xf32> {
  %w = moe.weight "lm_head.weight" : tensor<1024x128xbf16>
  %l = moe.unembed %x, %w : tensor<1x128xf32>, tensor<1024x128xbf16> -> tensor<1x1024xf32>
  return %l : tensor<1x1024xf32>
}

// -----

// CHECK-LABEL: func.func @sample
// CHECK-SAME:    (%[[L:[^:]+]]: tensor<4x1024xf32>, %[[T:[^:]+]]: f32, %[[P:[^:]+]]: f32, %[[SEED:[^:]+]]: i64)
// CHECK:         %[[TOK:.+]] = moe.sample %[[L]] temperature(%[[T]]) top_p(%[[P]]) seed(%[[SEED]]) : tensor<4x1024xf32>, f32, f32, i64 -> tensor<4xi32>
// CHECK:         return %[[TOK]]
func.func @sample(%logits: tensor<4x1024xf32>, %t: f32, %p: f32, %seed: i64) -> tensor<4xi32> {
  %tok = moe.sample %logits temperature(%t) top_p(%p) seed(%seed) : tensor<4x1024xf32>, f32, f32, i64 -> tensor<4xi32>
  return %tok : tensor<4xi32>
}

// -----

// Greedy sampling with constant operands from arith.

// CHECK-LABEL: func.func @sample_greedy
// CHECK-DAG:     %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG:     %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG:     %[[SEED:.+]] = arith.constant 0 : i64
// CHECK:         moe.sample %{{.+}} temperature(%[[ZERO]]) top_p(%[[ONE]]) seed(%[[SEED]])
func.func @sample_greedy(%logits: tensor<1x1024xf32>) -> tensor<1xi32> {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %seed = arith.constant 0 : i64
  %tok = moe.sample %logits temperature(%zero) top_p(%one) seed(%seed) : tensor<1x1024xf32>, f32, f32, i64 -> tensor<1xi32>
  return %tok : tensor<1xi32>
}

// -----

// CHECK-LABEL: func.func @kernel_with_schedule
// CHECK-SAME:    (%[[X:.+]]: tensor<1x128xf32>)
// CHECK:         %[[K:.+]] = moe.kernel "rms_norm_qkv" schedule {rows_per_workgroup = 64 : i64, split_k = 2 : i64} -> tensor<1x384xf32> {
// CHECK:           %[[N:.+]] = moe.rms_norm %[[X]], %{{.+}} epsilon = 1.000000e-05
// CHECK:           %[[QKV:.+]] = moe.linear %[[N]], %{{.+}}, %{{.+}} : tensor<1x128xf32>, tensor<384x128xbf16>, tensor<384xbf16> -> tensor<1x384xf32>
// CHECK:           moe.yield %[[QKV]] : tensor<1x384xf32>
// CHECK:         }
// CHECK:         return %[[K]]
func.func @kernel_with_schedule(%x: tensor<1x128xf32>) -> tensor<1x384xf32> {
  %g = moe.weight "model.layers.0.input_layernorm.weight" : tensor<128xbf16>
  %w = moe.weight "model.layers.0.self_attn.qkv.weight" : tensor<384x128xbf16>
  %b = moe.weight "model.layers.0.self_attn.qkv.bias" : tensor<384xbf16>
  %y = moe.kernel "rms_norm_qkv" schedule {rows_per_workgroup = 64 : i64, split_k = 2 : i64} -> tensor<1x384xf32> {
    %n = moe.rms_norm %x, %g epsilon = 1.0e-05 : tensor<1x128xf32>, tensor<128xbf16> -> tensor<1x128xf32>
    %qkv = moe.linear %n, %w, %b : tensor<1x128xf32>, tensor<384x128xbf16>, tensor<384xbf16> -> tensor<1x384xf32>
    moe.yield %qkv : tensor<1x384xf32>
  }
  return %y : tensor<1x384xf32>
}

// -----

// No schedule yet, two results, and an attribute beside the body.

// CHECK-LABEL: func.func @kernel_without_schedule
// CHECK:         %[[K:.+]]:2 = moe.kernel "router" -> tensor<16x4xf32>, tensor<16x4xi32> attributes {layer = 0 : i64} {
// CHECK:           %[[RW:[^,]+]], %[[RI:[^ ]+]] = moe.router
// CHECK:           moe.yield %[[RW]], %[[RI]] : tensor<16x4xf32>, tensor<16x4xi32>
// CHECK:         }
// CHECK:         return %[[K]]#0, %[[K]]#1
func.func @kernel_without_schedule(%x: tensor<16x128xf32>, %w: tensor<8x128xbf16>, %b: tensor<8xbf16>)
    -> (tensor<16x4xf32>, tensor<16x4xi32>) {
  %rw, %ri = moe.kernel "router" -> tensor<16x4xf32>, tensor<16x4xi32> attributes {layer = 0 : i64} {
    %a, %c = moe.router %x, %w, %b top_k = 4 : tensor<16x128xf32>, tensor<8x128xbf16>, tensor<8xbf16> -> tensor<16x4xf32>, tensor<16x4xi32>
    moe.yield %a, %c : tensor<16x4xf32>, tensor<16x4xi32>
  }
  return %rw, %ri : tensor<16x4xf32>, tensor<16x4xi32>
}

// -----

// A kernel without results; its empty moe.yield is implicit in the custom form.

// CHECK-LABEL: func.func @kernel_no_results
// CHECK:         moe.kernel "touch" {
// CHECK-NEXT:      moe.weight "lm_head.weight"
// CHECK-NEXT:    }
// CHECK-NEXT:    return
func.func @kernel_no_results() {
  moe.kernel "touch" {
    %w = moe.weight "lm_head.weight" : tensor<1024x128xbf16>
    moe.yield
  }
  return
}

// -----

// A dynamic row count (a prefill chunk of any length) flows through every op
// whose shapes relate rows only.

// CHECK-LABEL: func.func @dynamic_rows
// CHECK:         moe.linear %{{.+}}, %{{.+}} : tensor<?x128xf32>, tensor<256x128xbf16> -> tensor<?x256xf32>
// CHECK:         moe.rope %{{.+}}, %{{.+}} head_dim = 32 scaling(#moe.yarn<{{.+}}>) : tensor<?x256xf32>, tensor<?xi32>
// CHECK:         moe.router %{{.+}}, %{{.+}}, %{{.+}} top_k = 4 : tensor<?x128xf32>, tensor<8x128xbf16>, tensor<8xbf16> -> tensor<?x4xf32>, tensor<?x4xi32>
func.func @dynamic_rows(%x: tensor<?x128xf32>, %pos: tensor<?xi32>, %wq: tensor<256x128xbf16>,
                        %wr: tensor<8x128xbf16>, %br: tensor<8xbf16>) -> (tensor<?x256xf32>, tensor<?x4xf32>, tensor<?x4xi32>) {
  %q = moe.linear %x, %wq : tensor<?x128xf32>, tensor<256x128xbf16> -> tensor<?x256xf32>
  %qr = moe.rope %q, %pos head_dim = 32 scaling(#moe.yarn<theta = 150000.0, factor = 32.0, beta_fast = 32.0, beta_slow = 1.0, original_context = 4096, truncate = false>) : tensor<?x256xf32>, tensor<?xi32>
  %rw, %ri = moe.router %x, %wr, %br top_k = 4 : tensor<?x128xf32>, tensor<8x128xbf16>, tensor<8xbf16> -> tensor<?x4xf32>, tensor<?x4xi32>
  return %qr, %rw, %ri : tensor<?x256xf32>, tensor<?x4xf32>, tensor<?x4xi32>
}

// -----

// One decoder layer of gpt-oss-20b at its real shapes (hidden 2880, 64 query
// and 8 KV heads of 64, 32 experts with top-4, intermediate 2880, vocabulary
// 201088), over a prefill chunk of 16 rows of one sequence.

// CHECK-LABEL: func.func @gpt_oss_20b_layer
// CHECK:         %[[X:.+]] = moe.embedding %{{.+}}[%{{.+}}] : tensor<201088x2880xbf16>, tensor<16xi32> -> tensor<16x2880xf32>
// CHECK:         %[[N:.+]] = moe.rms_norm %[[X]], %{{.+}} epsilon = 1.000000e-05 : tensor<16x2880xf32>, tensor<2880xbf16> -> tensor<16x2880xf32>
// CHECK:         %[[Q:.+]] = moe.linear %[[N]], %{{.+}}, %{{.+}} : tensor<16x2880xf32>, tensor<4096x2880xbf16>, tensor<4096xbf16> -> tensor<16x4096xf32>
// CHECK:         %[[K:.+]] = moe.linear %[[N]], %{{.+}}, %{{.+}} : tensor<16x2880xf32>, tensor<512x2880xbf16>, tensor<512xbf16> -> tensor<16x512xf32>
// CHECK:         %[[V:.+]] = moe.linear %[[N]], %{{.+}}, %{{.+}} : tensor<16x2880xf32>, tensor<512x2880xbf16>, tensor<512xbf16> -> tensor<16x512xf32>
// CHECK:         %[[QR:.+]] = moe.rope %[[Q]], %{{.+}} head_dim = 64 scaling(#moe.yarn<theta = 1.500000e+05, factor = 3.200000e+01, beta_fast = 3.200000e+01, beta_slow = 1.000000e+00, original_context = 4096, truncate = false>) : tensor<16x4096xf32>, tensor<16xi32>
// CHECK:         %[[KR:.+]] = moe.rope %[[K]], %{{.+}} head_dim = 64
// CHECK:         %[[ATT:[^,]+]], %{{[^,]+}}, %{{[^ ]+}} = moe.attention %[[QR]], %[[KR]], %[[V]] sinks(%{{[^)]+}}) cache(%{{[^,]+}}, %{{[^)]+}}) at(%{{[^,]+}}, %{{[^)]+}})
// CHECK-SAME:      {head_dim = 64 : i64, num_heads = 64 : i64, num_kv_heads = 8 : i64, scale = 1.250000e-01 : f64, sliding_window = 128 : i64}
// CHECK-SAME:      -> (tensor<16x4096xf32>, tensor<1x4096x8x64xf32>, tensor<1x4096x8x64xf32>)
// CHECK:         %[[O:.+]] = moe.linear %[[ATT]], %{{.+}}, %{{.+}} : tensor<16x4096xf32>, tensor<2880x4096xbf16>, tensor<2880xbf16> -> tensor<16x2880xf32>
// CHECK:         %[[H:.+]] = arith.addf %[[X]], %[[O]] : tensor<16x2880xf32>
// CHECK:         %[[N2:.+]] = moe.rms_norm %[[H]]
// CHECK:         %[[RW:[^,]+]], %[[RI:[^ ]+]] = moe.router %[[N2]], %{{.+}}, %{{.+}} top_k = 4 : tensor<16x2880xf32>, tensor<32x2880xbf16>, tensor<32xbf16> -> tensor<16x4xf32>, tensor<16x4xi32>
// CHECK:         %[[E:.+]] = moe.experts %[[N2]] routed(%[[RW]], %[[RI]])
// CHECK-SAME:      tensor<32x5760x2880xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<32x5760xbf16>, tensor<32x2880x2880xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<32x2880xbf16>) -> tensor<16x2880xf32>
// CHECK:         %[[H2:.+]] = arith.addf %[[H]], %[[E]] : tensor<16x2880xf32>
// CHECK:         %[[L:.+]] = moe.unembed %{{.+}}, %{{.+}} : tensor<16x2880xf32>, tensor<201088x2880xbf16> -> tensor<16x201088xf32>
// CHECK:         moe.sample %[[L]] {{.+}} : tensor<16x201088xf32>, f32, f32, i64 -> tensor<16xi32>
#yarn20b = #moe.yarn<theta = 150000.0, factor = 32.0, beta_fast = 32.0, beta_slow = 1.0, original_context = 4096, truncate = false>
func.func @gpt_oss_20b_layer(%tokens: tensor<16xi32>, %slots: tensor<16xi32>, %pos: tensor<16xi32>,
                             %kc: tensor<1x4096x8x64xf32>, %vc: tensor<1x4096x8x64xf32>,
                             %t: f32, %p: f32, %seed: i64) -> tensor<16xi32> {
  %emb = moe.weight "model.embed_tokens.weight" : tensor<201088x2880xbf16>
  %g0 = moe.weight "model.layers.0.input_layernorm.weight" : tensor<2880xbf16>
  %wq = moe.weight "model.layers.0.self_attn.q_proj.weight" : tensor<4096x2880xbf16>
  %bq = moe.weight "model.layers.0.self_attn.q_proj.bias" : tensor<4096xbf16>
  %wk = moe.weight "model.layers.0.self_attn.k_proj.weight" : tensor<512x2880xbf16>
  %bk = moe.weight "model.layers.0.self_attn.k_proj.bias" : tensor<512xbf16>
  %wv = moe.weight "model.layers.0.self_attn.v_proj.weight" : tensor<512x2880xbf16>
  %bv = moe.weight "model.layers.0.self_attn.v_proj.bias" : tensor<512xbf16>
  %sinks = moe.weight "model.layers.0.self_attn.sinks" : tensor<64xbf16>
  %wo = moe.weight "model.layers.0.self_attn.o_proj.weight" : tensor<2880x4096xbf16>
  %bo = moe.weight "model.layers.0.self_attn.o_proj.bias" : tensor<2880xbf16>
  %g1 = moe.weight "model.layers.0.post_attention_layernorm.weight" : tensor<2880xbf16>
  %wr = moe.weight "model.layers.0.mlp.router.weight" : tensor<32x2880xbf16>
  %br = moe.weight "model.layers.0.mlp.router.bias" : tensor<32xbf16>
  %gu = moe.weight "model.layers.0.mlp.experts.gate_up_proj" : tensor<32x5760x2880xf4E2M1FN, #mx.block_scaled<axis = 2>>
  %gub = moe.weight "model.layers.0.mlp.experts.gate_up_proj_bias" : tensor<32x5760xbf16>
  %dn = moe.weight "model.layers.0.mlp.experts.down_proj" : tensor<32x2880x2880xf4E2M1FN, #mx.block_scaled<axis = 2>>
  %dnb = moe.weight "model.layers.0.mlp.experts.down_proj_bias" : tensor<32x2880xbf16>
  %gf = moe.weight "model.norm.weight" : tensor<2880xbf16>
  %wu = moe.weight "lm_head.weight" : tensor<201088x2880xbf16>

  %x = moe.embedding %emb[%tokens] : tensor<201088x2880xbf16>, tensor<16xi32> -> tensor<16x2880xf32>
  %n = moe.rms_norm %x, %g0 epsilon = 1.0e-05 : tensor<16x2880xf32>, tensor<2880xbf16> -> tensor<16x2880xf32>
  %q = moe.linear %n, %wq, %bq : tensor<16x2880xf32>, tensor<4096x2880xbf16>, tensor<4096xbf16> -> tensor<16x4096xf32>
  %k = moe.linear %n, %wk, %bk : tensor<16x2880xf32>, tensor<512x2880xbf16>, tensor<512xbf16> -> tensor<16x512xf32>
  %v = moe.linear %n, %wv, %bv : tensor<16x2880xf32>, tensor<512x2880xbf16>, tensor<512xbf16> -> tensor<16x512xf32>
  %qr = moe.rope %q, %pos head_dim = 64 scaling(#yarn20b) : tensor<16x4096xf32>, tensor<16xi32>
  %kr = moe.rope %k, %pos head_dim = 64 scaling(#yarn20b) : tensor<16x512xf32>, tensor<16xi32>
  %a, %kc2, %vc2 = moe.attention %qr, %kr, %v sinks(%sinks) cache(%kc, %vc) at(%slots, %pos)
      {num_heads = 64, num_kv_heads = 8, head_dim = 64, scale = 0.125, sliding_window = 128}
      : (tensor<16x4096xf32>, tensor<16x512xf32>, tensor<16x512xf32>, tensor<64xbf16>,
         tensor<1x4096x8x64xf32>, tensor<1x4096x8x64xf32>, tensor<16xi32>, tensor<16xi32>)
      -> (tensor<16x4096xf32>, tensor<1x4096x8x64xf32>, tensor<1x4096x8x64xf32>)
  %o = moe.linear %a, %wo, %bo : tensor<16x4096xf32>, tensor<2880x4096xbf16>, tensor<2880xbf16> -> tensor<16x2880xf32>
  %h = arith.addf %x, %o : tensor<16x2880xf32>
  %n2 = moe.rms_norm %h, %g1 epsilon = 1.0e-05 : tensor<16x2880xf32>, tensor<2880xbf16> -> tensor<16x2880xf32>
  %rw, %ri = moe.router %n2, %wr, %br top_k = 4 : tensor<16x2880xf32>, tensor<32x2880xbf16>, tensor<32xbf16> -> tensor<16x4xf32>, tensor<16x4xi32>
  %e = moe.experts %n2 routed(%rw, %ri) gate_up(%gu, %gub) down(%dn, %dnb) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<16x2880xf32>, tensor<16x4xf32>, tensor<16x4xi32>,
         tensor<32x5760x2880xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<32x5760xbf16>,
         tensor<32x2880x2880xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<32x2880xbf16>) -> tensor<16x2880xf32>
  %h2 = arith.addf %h, %e : tensor<16x2880xf32>
  %nf = moe.rms_norm %h2, %gf epsilon = 1.0e-05 : tensor<16x2880xf32>, tensor<2880xbf16> -> tensor<16x2880xf32>
  %l = moe.unembed %nf, %wu : tensor<16x2880xf32>, tensor<201088x2880xbf16> -> tensor<16x201088xf32>
  %tok = moe.sample %l temperature(%t) top_p(%p) seed(%seed) : tensor<16x201088xf32>, f32, f32, i64 -> tensor<16xi32>
  return %tok : tensor<16xi32>
}

// -----

// The split halves of moe.experts (what moe-split-experts produces).
// CHECK-LABEL: func.func @expert_halves
// CHECK:         %[[A:.+]] = moe.expert_gate_up %{{.+}} routed(%{{.+}}) gate_up(%{{.+}}, %{{.+}}) swiglu_limit = 7.000000e+00 swiglu_alpha = 1.702000e+00 : (tensor<4x128xf32>, tensor<4x2xi32>, tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x192xbf16>) -> tensor<4x2x96xf32>
// CHECK:         moe.expert_down %[[A]] routed(%{{.+}}, %{{.+}}) down(%{{.+}}, %{{.+}}) : (tensor<4x2x96xf32>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<4x128xf32>
func.func @expert_halves(%x: tensor<4x128xf32>, %w: tensor<4x2xf32>, %i: tensor<4x2xi32>,
                         %gu: tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, %gub: tensor<8x192xbf16>,
                         %dn: tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, %dnb: tensor<8x128xbf16>) -> tensor<4x128xf32> {
  %a = moe.expert_gate_up %x routed(%i) gate_up(%gu, %gub) swiglu_limit = 7.0 swiglu_alpha = 1.702
      : (tensor<4x128xf32>, tensor<4x2xi32>, tensor<8x192x128xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x192xbf16>) -> tensor<4x2x96xf32>
  %y = moe.expert_down %a routed(%w, %i) down(%dn, %dnb)
      : (tensor<4x2x96xf32>, tensor<4x2xf32>, tensor<4x2xi32>, tensor<8x128x96xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<8x128xbf16>) -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}
