// Loads the HIP runtime (libamdhip64.so) at run time and resolves every entry
// point of hip_symbols.h with dlsym before anything runs.
//
// The library is taken from, in order: the path passed to Load, the
// environment variable MOERT_HIP_RUNTIME (tests point it at a fake), and
// "libamdhip64.so". Every failure is a Status naming the library, the symbol
// and the runtime's error name and string; nothing here aborts.
#ifndef MOERT_HAL_HIP_DRIVER_H_
#define MOERT_HAL_HIP_DRIVER_H_

#include <memory>
#include <string>

#include "base/status.h"
#include "hal/gpu_driver.h"
#include "hal/hip/hip_types.h"

namespace moert::hal::hip {

inline constexpr char kDefaultRuntimeLibrary[] = "libamdhip64.so";
inline constexpr char kRuntimeLibraryEnv[] = "MOERT_HIP_RUNTIME";

// One function pointer per line of hip_symbols.h, all non-null once loaded.
struct HipSymbols {
#define MOERT_HIP_SYMBOL(name, result, params) result(*name) params = nullptr;
#include "hal/hip/hip_symbols.h"
#undef MOERT_HIP_SYMBOL
};

// What GpuDriver (gpu_driver.h) needs to know of the HIP runtime API.
struct HipApi {
  using Result = hipError_t;
  using Symbols = HipSymbols;
  static constexpr char kName[] = "HIP";
  static constexpr char kResultType[] = "hipError_t";
  static constexpr Result kSuccess = hipSuccess;

  static const char* ErrorName(const Symbols& s, Result error) {
    return s.hipGetErrorName != nullptr ? s.hipGetErrorName(error) : nullptr;
  }
  static const char* ErrorString(const Symbols& s, Result error) {
    return s.hipGetErrorString != nullptr ? s.hipGetErrorString(error) : nullptr;
  }
  static StatusCode StatusCodeFor(Result error) {
    switch (error) {
      case hipErrorOutOfMemory:
        return StatusCode::kResourceExhausted;
      case hipErrorInvalidImage:
      case hipErrorNoBinaryForGpu:
      case hipErrorInvalidKernelFile:
        return StatusCode::kDataLoss;
      default:
        return StatusCode::kUnavailable;
    }
  }
};

// The loaded runtime: library(), symbols() (also through ->), ErrorText and
// Check ("HIP <call> failed: hipErrorOutOfMemory (out of memory)") as
// GpuDriver defines them.
class Driver final : public GpuDriver<HipApi> {
 public:
  // Opens the runtime library and resolves every entry point. `library`
  // empty means $MOERT_HIP_RUNTIME or "libamdhip64.so". Does not call hipInit.
  static Result<std::shared_ptr<const Driver>> Load(const std::string& library = "");

 private:
  Driver() = default;
};

}  // namespace moert::hal::hip

#endif  // MOERT_HAL_HIP_DRIVER_H_
