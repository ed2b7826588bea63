#include "hal/hip/driver.h"

#include <dlfcn.h>

namespace moert::hal::hip {

Result<std::shared_ptr<const Driver>> Driver::Load(const std::string& library) {
  MOERT_ASSIGN_OR_RETURN(
      OpenedLibrary opened,
      OpenGpuLibrary(library, kRuntimeLibraryEnv, kDefaultRuntimeLibrary, "HIP runtime",
                     "this artifact needs an AMD GPU and ROCm's HIP runtime"));
  void* handle = opened.handle;
  std::shared_ptr<Driver> driver(new Driver());
  driver->library_ = opened.path;
  driver->handle_ = handle;
#define MOERT_HIP_SYMBOL(name, result, params)                                              \
  {                                                                                         \
    dlerror();                                                                              \
    void* fn = dlsym(handle, #name);                                                        \
    if (fn == nullptr) {                                                                    \
      Status missing = Unavailable("moert: HIP runtime ", opened.path, " lacks ", #name,    \
                                   " (dlsym: ", DlError(),                                  \
                                   "); this runtime needs ROCm 6.0 or newer");              \
      dlclose(handle);                                                                      \
      return missing;                                                                       \
    }                                                                                       \
    driver->symbols_.name = reinterpret_cast<decltype(driver->symbols_.name)>(fn);          \
  }
#include "hal/hip/hip_symbols.h"
#undef MOERT_HIP_SYMBOL
  return std::shared_ptr<const Driver>(std::move(driver));
}

}  // namespace moert::hal::hip
