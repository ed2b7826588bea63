// RUN: moec-opt %s --split-input-file --moe-schedule-kernels="target=x86-64-v3 compute-units=2" | FileCheck %s --check-prefix=CPU
// RUN: moec-opt %s --split-input-file --moe-schedule-kernels="target=x86-64-v4 compute-units=16" | FileCheck %s --check-prefix=AVX512
// RUN: moec-opt %s --split-input-file --moe-schedule-kernels="target=sm_90a" | FileCheck %s --check-prefix=H100
// RUN: not moec-opt %s --split-input-file --moe-schedule-kernels="target=riscv" 2>&1 | FileCheck %s --check-prefix=BAD

// A decode-sized linear is a GEMV split along its 5120 weight rows: two
// cores x 4 workgroups each, 16-column granules for 8-lane AVX2. On the H100
// a warp takes a column, so granules are the 8 warps of a workgroup and
// 132 SMs x 4 want 16 columns each: 320 workgroups.
// CPU-LABEL: func.func @gemv
// CPU: moe.kernel "rms_norm_qkv" schedule {columns = 5120 : i64, columns_per_workgroup = 640 : i64, rows = 1 : i64, rows_per_workgroup = 1 : i64, shape_class = "gemv", target = "x86-64-v3", vector_width = 8 : i64, workgroups = 8 : i64}
// AVX512: columns_per_workgroup = 96 : i64, {{.*}} vector_width = 16 : i64, workgroups = 54 : i64}
// H100: columns_per_workgroup = 16 : i64, {{.*}} target = "sm_90a", vector_width = 32 : i64, workgroups = 320 : i64}
// BAD: moe-schedule-kernels: unknown target "riscv" (known: x86-64-v3, x86-64-v4, native, sm_90a, gfx942, x86-64-emulated-sm_90a, x86-64-emulated-gfx942)
func.func @gemv(%x: tensor<1x2880xf32>, %g: tensor<2880xbf16>, %w: tensor<5120x2880xbf16>, %b: tensor<5120xbf16>) -> tensor<1x5120xf32> {
  %y = moe.kernel "rms_norm_qkv" -> tensor<1x5120xf32> {
    %n = moe.rms_norm %x, %g epsilon = 1.0e-05 : tensor<1x2880xf32>, tensor<2880xbf16> -> tensor<1x2880xf32>
    %q = moe.linear %n, %w, %b : tensor<1x2880xf32>, tensor<5120x2880xbf16>, tensor<5120xbf16> -> tensor<1x5120xf32>
    moe.yield %q : tensor<1x5120xf32>
  }
  return %y : tensor<1x5120xf32>
}

// -----

// A prefill chunk is a GEMM: row tiles too; on a GPU, one 64 x 64 matrix
// tile per workgroup.
// CPU-LABEL: func.func @gemm
// CPU: rows = 128 : i64, rows_per_workgroup = 32 : i64, shape_class = "gemm"
// H100-LABEL: func.func @gemm
// H100: columns_per_workgroup = 64 : i64, rows = 128 : i64, rows_per_workgroup = 64 : i64, shape_class = "gemm", {{.*}} workgroups = 90 : i64}
func.func @gemm(%x: tensor<128x2880xf32>, %w: tensor<2880x4096xbf16>) -> tensor<128x2880xf32> {
  %a = arith.constant dense<0.0> : tensor<128x4096xf32>
  %y = moe.kernel "linear" -> tensor<128x2880xf32> {
    %o = moe.linear %a, %w : tensor<128x4096xf32>, tensor<2880x4096xbf16> -> tensor<128x2880xf32>
    moe.yield %o : tensor<128x2880xf32>
  }
  return %y : tensor<128x2880xf32>
}

// -----

// The gate_up half splits by pairs of rows (a gate and its linear row).
// CPU-LABEL: func.func @gate_up
// CPU: moe.kernel "expert_gate_up_swiglu" schedule {columns = 5760 : i64, columns_per_workgroup = 720 : i64
func.func @gate_up(%x: tensor<1x2880xf32>, %i: tensor<1x4xi32>, %gu: tensor<32x5760x2880xf4E2M1FN, #mx.block_scaled<axis = 2>>, %gub: tensor<32x5760xbf16>) -> tensor<1x4x2880xf32> {
  %a = moe.kernel "expert_gate_up_swiglu" -> tensor<1x4x2880xf32> {
    %r = moe.expert_gate_up %x routed(%i) gate_up(%gu, %gub) swiglu_limit = 7.0 swiglu_alpha = 1.702
        : (tensor<1x2880xf32>, tensor<1x4xi32>, tensor<32x5760x2880xf4E2M1FN, #mx.block_scaled<axis = 2>>, tensor<32x5760xbf16>) -> tensor<1x4x2880xf32>
    moe.yield %r : tensor<1x4x2880xf32>
  }
  return %a : tensor<1x4x2880xf32>
}

// -----

// Attention: a workgroup per (row, KV head); row-wise ops: rows per core.
// CPU-LABEL: func.func @others
// CPU: moe.kernel "rope" schedule {rows = 16 : i64, rows_per_workgroup = 8 : i64, shape_class = "rowwise", target = "x86-64-v3", vector_width = 8 : i64, workgroups = 2 : i64}
func.func @others(%k: tensor<16x64xf32>, %pos: tensor<16xi32>) -> tensor<16x64xf32> {
  %r = moe.kernel "rope" -> tensor<16x64xf32> {
    %x = moe.rope %k, %pos head_dim = 32 scaling(#moe.yarn<theta = 150000.0, factor = 32.0, beta_fast = 32.0, beta_slow = 1.0, original_context = 4096, truncate = false>) : tensor<16x64xf32>, tensor<16xi32>
    moe.yield %x : tensor<16x64xf32>
  }
  return %r : tensor<16x64xf32>
}

// -----

// Attention: one workgroup per (row, KV head). On a GPU at decode (8 of 132
// SMs busy) the keys of a 4096-entry cache are split 16 ways (at least 256
// keys each, at most enough workgroups to fill the SMs); CPUs never split.
// CPU-LABEL: func.func @decode_attention
// CPU: moe.kernel "attention" schedule {rows = 1 : i64, shape_class = "attention", target = "x86-64-v3", vector_width = 8 : i64, workgroups = 8 : i64}
// H100-LABEL: func.func @decode_attention
// H100: moe.kernel "attention" schedule {kv_splits = 16 : i64, rows = 1 : i64, shape_class = "attention", target = "sm_90a", vector_width = 32 : i64, workgroups = 128 : i64}
func.func @decode_attention(%q: tensor<1x4096xf32>, %k: tensor<1x512xf32>, %v: tensor<1x512xf32>, %s: tensor<64xbf16>,
                            %kc: tensor<1x4096x8x64xbf16>, %vc: tensor<1x4096x8x64xbf16>, %slots: tensor<1xi32>,
                            %pos: tensor<1xi32>) -> tensor<1x4096xf32> {
  %o = moe.kernel "attention" -> tensor<1x4096xf32> {
    %r, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
        {num_heads = 64, num_kv_heads = 8, head_dim = 64, scale = 0.125}
        : (tensor<1x4096xf32>, tensor<1x512xf32>, tensor<1x512xf32>, tensor<64xbf16>,
           tensor<1x4096x8x64xbf16>, tensor<1x4096x8x64xbf16>, tensor<1xi32>, tensor<1xi32>)
        -> (tensor<1x4096xf32>, tensor<1x4096x8x64xbf16>, tensor<1x4096x8x64xbf16>)
    moe.yield %r : tensor<1x4096xf32>
  }
  return %o : tensor<1x4096xf32>
}

// -----

// A 128-key sliding window is not split.
// H100-LABEL: func.func @window_attention
// H100: moe.kernel "attention" schedule {rows = 1 : i64, shape_class = "attention", target = "sm_90a", vector_width = 32 : i64, workgroups = 8 : i64}
func.func @window_attention(%q: tensor<1x4096xf32>, %k: tensor<1x512xf32>, %v: tensor<1x512xf32>, %s: tensor<64xbf16>,
                            %kc: tensor<1x255x8x64xbf16>, %vc: tensor<1x255x8x64xbf16>, %slots: tensor<1xi32>,
                            %pos: tensor<1xi32>) -> tensor<1x4096xf32> {
  %o = moe.kernel "attention" -> tensor<1x4096xf32> {
    %r, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
        {num_heads = 64, num_kv_heads = 8, head_dim = 64, scale = 0.125, sliding_window = 128}
        : (tensor<1x4096xf32>, tensor<1x512xf32>, tensor<1x512xf32>, tensor<64xbf16>,
           tensor<1x255x8x64xbf16>, tensor<1x255x8x64xbf16>, tensor<1xi32>, tensor<1xi32>)
        -> (tensor<1x4096xf32>, tensor<1x255x8x64xbf16>, tensor<1x255x8x64xbf16>)
    moe.yield %r : tensor<1x4096xf32>
  }
  return %o : tensor<1x4096xf32>
}

// -----

// Attention in the "prefill" entry point: its rows are one sequence (the
// runtime's contract), which the GPU kernels tile instead of splitting the
// keys (16 rows x 8 KV heads would otherwise split on the H100); other entry
// points promise nothing.
// CPU-LABEL: func.func @prefill
// CPU: moe.kernel "attention" schedule {one_sequence = 1 : i64, rows = 16 : i64, shape_class = "attention", target = "x86-64-v3", vector_width = 8 : i64, workgroups = 128 : i64}
// H100-LABEL: func.func @prefill
// H100: moe.kernel "attention" schedule {one_sequence = 1 : i64, rows = 16 : i64, shape_class = "attention", target = "sm_90a", vector_width = 32 : i64, workgroups = 128 : i64}
func.func @prefill(%q: tensor<16x4096xf32>, %k: tensor<16x512xf32>, %v: tensor<16x512xf32>, %s: tensor<64xbf16>,
                   %kc: tensor<1x4096x8x64xbf16>, %vc: tensor<1x4096x8x64xbf16>, %slots: tensor<16xi32>,
                   %pos: tensor<16xi32>) -> tensor<16x4096xf32> {
  %o = moe.kernel "attention" -> tensor<16x4096xf32> {
    %r, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
        {num_heads = 64, num_kv_heads = 8, head_dim = 64, scale = 0.125}
        : (tensor<16x4096xf32>, tensor<16x512xf32>, tensor<16x512xf32>, tensor<64xbf16>,
           tensor<1x4096x8x64xbf16>, tensor<1x4096x8x64xbf16>, tensor<16xi32>, tensor<16xi32>)
        -> (tensor<16x4096xf32>, tensor<1x4096x8x64xbf16>, tensor<1x4096x8x64xbf16>)
    moe.yield %r : tensor<16x4096xf32>
  }
  return %o : tensor<16x4096xf32>
}
