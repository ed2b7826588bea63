// Test-only kernels around the GPU microkernels: AMDGPU rejects block-shared
// (LDS) globals in a module without a kernel, and a kernel also lets ptxas
// and the backends check the code as the generated kernels will use it.
// Kernel `<name>_kernel(const uint64_t* args)` calls `<name>` with its
// arguments read from args[0], args[1], ... (one 8-byte word each).
#include "ukernels.cpp"

#if defined(__NVPTX__)
#define UK_TEST_KERNEL_ATTR __attribute__((nvptx_kernel))
#else
#define UK_TEST_KERNEL_ATTR __attribute__((amdgpu_kernel, amdgpu_flat_work_group_size(256, 256)))
#endif

namespace {
template <typename T, T... I>
struct Seq {};
template <typename T>
UK_DEVICE T Arg(const uint64_t* args, int i) {
  T value;
  __builtin_memcpy(&value, &args[i], sizeof(T));
  return value;
}
template <typename... A, int... I>
UK_DEVICE void CallWith(void (*f)(A...), const uint64_t* args, Seq<int, I...>) {
  f(Arg<A>(args, I)...);
}
template <typename... A>
UK_DEVICE void Call(void (*f)(A...), const uint64_t* args) {
  CallWith(f, args, __make_integer_seq<Seq, int, sizeof...(A)>());
}
}  // namespace

#define UK_TEST_KERNEL(fn) \
  extern "C" UK_TEST_KERNEL_ATTR __attribute__((convergent)) void fn##_kernel(const uint64_t* args) { Call(fn, args); }

UK_TEST_KERNEL(moec_uk_embedding)
UK_TEST_KERNEL(moec_uk_linear3)
UK_TEST_KERNEL(moec_uk_router)
UK_TEST_KERNEL(moec_uk_rope)
UK_TEST_KERNEL(moec_uk_attention)
UK_TEST_KERNEL(moec_uk_expert_gate_up)
UK_TEST_KERNEL(moec_uk_expert_down)
UK_TEST_KERNEL(moec_uk_add)
