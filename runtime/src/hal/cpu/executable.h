// A CPU device image (an ELF shared object held in memory, e.g. an artifact
// segment) loaded without a file the user sees, and its kernels resolved.
//
// Loading writes the image to an anonymous memfd and dlopens
// "/proc/self/fd/N"; where memfd_create or executing from it is refused, it
// falls back to a private temporary file that is unlinked right after dlopen.
// Every kernel has the signature of moex.fbs (DeviceImage):
//   void kernel(void* const* bindings, const uint32_t* constants,
//               uint32_t workgroup_x, uint32_t workgroup_y, uint32_t workgroup_z);
// and computes one workgroup.
#ifndef MOERT_HAL_CPU_EXECUTABLE_H_
#define MOERT_HAL_CPU_EXECUTABLE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "hal/cpu/thread_pool.h"

namespace moert::hal::cpu {

using KernelFn = void (*)(void* const* bindings, const uint32_t* constants,
                          uint32_t workgroup_x, uint32_t workgroup_y, uint32_t workgroup_z);

// Runs `kernel` once for every workgroup (x, y, z) in [0, wx) x [0, wy) x
// [0, wz) on `pool` and returns when all are done. wx * wy * wz must fit in
// size_t (the session checks this once per dispatch when it is created).
void RunKernel(KernelFn kernel, void* const* bindings, const uint32_t* constants,
               uint32_t workgroups_x, uint32_t workgroups_y, uint32_t workgroups_z,
               ThreadPool& pool);

struct LoadOptions {
  // Skips memfd and goes straight to the temporary-file fallback (tests, and
  // systems whose memfds may not be executed).
  bool force_temp_file = false;
};

class Executable {
 public:
  // Loads the image `data[0, size)`; `name` ("image 0 (segment 3)") appears in
  // every message. Resolves `symbols` in order: kernel(i) is symbols[i]. The
  // bytes are copied; the caller may release them after Load returns.
  static Result<std::unique_ptr<Executable>> Load(std::string name, const uint8_t* data,
                                                  uint64_t size,
                                                  const std::vector<std::string>& symbols,
                                                  const LoadOptions& options = {});
  ~Executable();
  Executable(const Executable&) = delete;
  Executable& operator=(const Executable&) = delete;

  const std::string& name() const { return name_; }
  size_t kernel_count() const { return kernels_.size(); }
  // kernel_index < kernel_count().
  KernelFn kernel(size_t kernel_index) const { return kernels_[kernel_index]; }
  // True when the image was loaded through the temporary-file fallback.
  bool loaded_from_temp_file() const { return from_temp_file_; }

  // RunKernel(kernel(kernel_index), ...).
  void Dispatch(size_t kernel_index, void* const* bindings, const uint32_t* constants,
                uint32_t workgroups_x, uint32_t workgroups_y, uint32_t workgroups_z,
                ThreadPool& pool) const {
    RunKernel(kernels_[kernel_index], bindings, constants, workgroups_x, workgroups_y,
              workgroups_z, pool);
  }

 private:
  Executable() = default;

  std::string name_;
  void* handle_ = nullptr;
  // The memfd stays open while the library is loaded: glibc recognizes an
  // already loaded object by its path, and a reused "/proc/self/fd/N" must not
  // name an older image.
  int fd_ = -1;
  bool from_temp_file_ = false;
  std::vector<KernelFn> kernels_;
};

}  // namespace moert::hal::cpu

#endif  // MOERT_HAL_CPU_EXECUTABLE_H_
