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
#include "hal/gpu_driver.h"

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

// What GpuDriver (gpu_driver.h) needs to know of the CUDA driver API.
struct CudaApi {
  using Result = CUresult;
  using Symbols = CudaSymbols;
  static constexpr char kName[] = "CUDA";
  static constexpr char kResultType[] = "CUresult";
  static constexpr Result kSuccess = CUDA_SUCCESS;

  static const char* ErrorName(const Symbols& s, Result result) {
    const char* name = nullptr;
    if (s.cuGetErrorName == nullptr || s.cuGetErrorName(result, &name) != CUDA_SUCCESS) return nullptr;
    return name;
  }
  static const char* ErrorString(const Symbols& s, Result result) {
    const char* text = nullptr;
    if (s.cuGetErrorString == nullptr || s.cuGetErrorString(result, &text) != CUDA_SUCCESS) {
      return nullptr;
    }
    return text;
  }
  static StatusCode StatusCodeFor(Result result) {
    switch (result) {
      case CUDA_ERROR_OUT_OF_MEMORY:
        return StatusCode::kResourceExhausted;
      case CUDA_ERROR_INVALID_IMAGE:
      case CUDA_ERROR_NO_BINARY_FOR_GPU:
      case CUDA_ERROR_INVALID_PTX:
        return StatusCode::kDataLoss;
      default:
        return StatusCode::kUnavailable;
    }
  }
};

// The loaded driver: library(), symbols() (also through ->), ErrorText and
// Check ("CUDA <call> failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)") as
// GpuDriver defines them.
class Driver final : public GpuDriver<CudaApi> {
 public:
  // Opens the driver library and resolves every entry point. `library` empty
  // means $MOERT_CUDA_DRIVER or "libcuda.so.1". Does not call cuInit.
  static Result<std::shared_ptr<const Driver>> Load(const std::string& library = "");

 private:
  Driver() = default;
};

}  // namespace moert::hal::cuda

#endif  // MOERT_HAL_CUDA_DRIVER_H_
