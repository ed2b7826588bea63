// RUN: not moec-opt %s --split-input-file --moe-assign-kv-cache-type="target=sm_90a" 2>/dev/null | FileCheck %s --check-prefix=GPU
// RUN: not moec-opt %s --split-input-file --moe-assign-kv-cache-type="target=sm_90a" 2>&1 >/dev/null | FileCheck %s --check-prefix=MISUSE
// RUN: moec-opt %s --split-input-file --moe-assign-kv-cache-type="target=x86-64-v3" | FileCheck %s --check-prefix=CPU
// RUN: not moec-opt %s --split-input-file --moe-assign-kv-cache-type="target=x86-64-v3 element-type=bf16" 2>/dev/null | FileCheck %s --check-prefix=GPU
// RUN: not moec-opt %s --split-input-file --moe-assign-kv-cache-type="element-type=f16" 2>&1 | FileCheck %s --check-prefix=BADTYPE
// RUN: not moec-opt %s --split-input-file --moe-assign-kv-cache-type="target=riscv" 2>&1 | FileCheck %s --check-prefix=BADTARGET

// The caches named key_cache.L / value_cache.L, the attention that updates
// them and the returned caches take the target's type: bf16 on GPUs, f32 on
// CPUs (unchanged); other arguments keep theirs.
// GPU-LABEL: func.func @decode
// GPU-SAME: %{{.*}}: tensor<1x16x2x32xbf16> {moe.name = "key_cache.0"}, %{{.*}}: tensor<1x16x2x32xbf16> {moe.name = "value_cache.0"}
// GPU-SAME: -> (tensor<1x256xf32>, tensor<1x16x2x32xbf16>, tensor<1x16x2x32xbf16>)
// GPU: moe.attention
// GPU-SAME: -> (tensor<1x256xf32>, tensor<1x16x2x32xbf16>, tensor<1x16x2x32xbf16>)
// CPU-LABEL: func.func @decode
// CPU-SAME: tensor<1x16x2x32xf32> {moe.name = "key_cache.0"}
// CPU-SAME: -> (tensor<1x256xf32>, tensor<1x16x2x32xf32>, tensor<1x16x2x32xf32>)
// BADTYPE: moe-assign-kv-cache-type: element-type must be f32 or bf16, got "f16"
// BADTARGET: moe-assign-kv-cache-type: unknown target "riscv"
func.func @decode(%q: tensor<1x256xf32>, %k: tensor<1x64xf32>, %v: tensor<1x64xf32>, %s: tensor<8xbf16>,
                  %kc: tensor<1x16x2x32xf32> {moe.name = "key_cache.0"},
                  %vc: tensor<1x16x2x32xf32> {moe.name = "value_cache.0"},
                  %slots: tensor<1xi32>, %pos: tensor<1xi32>)
    -> (tensor<1x256xf32>, tensor<1x16x2x32xf32>, tensor<1x16x2x32xf32>) {
  %o, %kc2, %vc2 = moe.attention %q, %k, %v sinks(%s) cache(%kc, %vc) at(%slots, %pos)
      {num_heads = 8, num_kv_heads = 2, head_dim = 32, scale = 0.17677669529663687}
      : (tensor<1x256xf32>, tensor<1x64xf32>, tensor<1x64xf32>, tensor<8xbf16>,
         tensor<1x16x2x32xf32>, tensor<1x16x2x32xf32>, tensor<1xi32>, tensor<1xi32>)
      -> (tensor<1x256xf32>, tensor<1x16x2x32xf32>, tensor<1x16x2x32xf32>)
  return %o, %kc2, %vc2 : tensor<1x256xf32>, tensor<1x16x2x32xf32>, tensor<1x16x2x32xf32>
}

// -----

// A cache read by anything but moe.attention cannot be retyped (caches that
// already have the type are left alone, so the CPU run passes).
// MISUSE: error: 'moe.rms_norm' op reads a KV cache; moe-assign-kv-cache-type can only retype caches that flow between the arguments, moe.attention and func.return
// CPU-LABEL: func.func @misuse
func.func @misuse(%kc: tensor<16x32xf32> {moe.name = "key_cache.0"}, %g: tensor<32xbf16>) -> tensor<16x32xf32> {
  %n = moe.rms_norm %kc, %g epsilon = 1.0e-05 : tensor<16x32xf32>, tensor<32xbf16> -> tensor<16x32xf32>
  return %n : tensor<16x32xf32>
}
