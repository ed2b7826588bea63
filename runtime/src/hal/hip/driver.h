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

class Driver {
 public:
  // Opens the runtime library and resolves every entry point. `library`
  // empty means $MOERT_HIP_RUNTIME or "libamdhip64.so". Does not call hipInit.
  static Result<std::shared_ptr<const Driver>> Load(const std::string& library = "");

  // The library stays loaded for the life of the process (the HIP runtime
  // keeps threads and exit handlers).
  ~Driver() = default;
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  const std::string& library() const { return library_; }
  const HipSymbols& symbols() const { return symbols_; }
  const HipSymbols* operator->() const { return &symbols_; }

  // "hipErrorOutOfMemory (out of memory)".
  std::string ErrorText(hipError_t error) const;
  // OK for hipSuccess; otherwise "HIP <call> failed: <ErrorText>", coded as
  // in cuda::Driver::Check.
  Status Check(hipError_t error, const std::string& call) const;

 private:
  Driver() = default;

  std::string library_;
  void* handle_ = nullptr;
  HipSymbols symbols_;
};

}  // namespace moert::hal::hip

#endif  // MOERT_HAL_HIP_DRIVER_H_
