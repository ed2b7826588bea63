// Loads the CUDA driver (libcuda.so.1) at run time and resolves every entry
// point of cuda_symbols.h through cuGetProcAddress_v2, with the ABI version
// each is declared for. A plain dlsym("cuMemAlloc") would return the legacy
// v1 entry point; only cuGetProcAddress_v2 itself is found with dlsym.
//
// The library is taken from, in order: the path passed to Load, the
// environment variable MOERT_CUDA_DRIVER (tests point it at a fake driver),
// "libcuda.so.1". Every failure is a Status naming the library, the symbol
// and the driver's error name and string; nothing here aborts.
#ifndef MOERT_HAL_CUDA_DRIVER_H_
#define MOERT_HAL_CUDA_DRIVER_H_

#include <memory>
#include <string>

#include "base/status.h"
#include "hal/cuda/cuda_types.h"

namespace moert::hal::cuda {

inline constexpr char kDefaultDriverLibrary[] = "libcuda.so.1";
inline constexpr char kDriverLibraryEnv[] = "MOERT_CUDA_DRIVER";
inline constexpr char kGetProcAddressSymbol[] = "cuGetProcAddress_v2";

// One function pointer per line of cuda_symbols.h, all non-null once loaded.
struct CudaSymbols {
#define MOERT_CUDA_SYMBOL(member, base_name, version, params) CUresult(*member) params = nullptr;
#include "hal/cuda/cuda_symbols.h"
#undef MOERT_CUDA_SYMBOL
};

class Driver {
 public:
  // Opens the driver library and resolves every entry point. `library` empty
  // means $MOERT_CUDA_DRIVER or "libcuda.so.1". Does not call cuInit.
  static Result<std::shared_ptr<const Driver>> Load(const std::string& library = "");

  // The library loaded stays loaded for the life of the process: libcuda
  // starts threads and registers exit handlers, and unloading it is unsafe.
  ~Driver() = default;
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  const std::string& library() const { return library_; }
  const CudaSymbols& symbols() const { return symbols_; }
  const CudaSymbols* operator->() const { return &symbols_; }

  // "CUDA_ERROR_OUT_OF_MEMORY (out of memory)"; "CUresult 12345 (unknown)"
  // where the driver has no name for it.
  std::string ErrorText(CUresult result) const;

  // OK for CUDA_SUCCESS; otherwise an error "CUDA <call> failed: <ErrorText>"
  // whose code follows the result (out of memory: RESOURCE_EXHAUSTED, a bad
  // image: DATA_LOSS, else UNAVAILABLE).
  Status Check(CUresult result, const std::string& call) const;

 private:
  Driver() = default;

  std::string library_;
  void* handle_ = nullptr;
  CudaSymbols symbols_;
};

}  // namespace moert::hal::cuda

#endif  // MOERT_HAL_CUDA_DRIVER_H_
