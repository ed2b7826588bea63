#include "hal/cuda/driver.h"

#include <dlfcn.h>

namespace moert::hal::cuda {
namespace {

const char* ProcStatusName(CUdriverProcAddressQueryResult status) {
  switch (status) {
    case CU_GET_PROC_ADDRESS_SUCCESS:
      return "CU_GET_PROC_ADDRESS_SUCCESS";
    case CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND:
      return "CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND";
    case CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT:
      return "CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT";
  }
  return "unknown symbol status";
}

// What resolving one table entry reports when it fails.
Status MissingEntryPoint(const Driver& driver, const char* member, const char* base_name,
                         int version, const std::string& why) {
  return Unavailable("moert: CUDA driver ", driver.library(), " lacks ", base_name,
                     " (version ", version, ", for ", member, "): ", why,
                     "; this runtime needs an NVIDIA driver for CUDA 12.0 or newer");
}

}  // namespace

Result<std::shared_ptr<const Driver>> Driver::Load(const std::string& library) {
  MOERT_ASSIGN_OR_RETURN(OpenedLibrary opened,
                         OpenGpuLibrary(library, kDriverLibraryEnv, kDefaultDriverLibrary,
                                        "CUDA driver",
                                        "this artifact needs an NVIDIA GPU and its driver"));
  void* handle = opened.handle;
  dlerror();
  auto get_proc = reinterpret_cast<PFN_cuGetProcAddress_v2>(dlsym(handle, kGetProcAddressSymbol));
  if (get_proc == nullptr) {
    std::string error = DlError();
    dlclose(handle);
    return Unavailable("moert: CUDA driver ", opened.path, " has no ", kGetProcAddressSymbol,
                       " (dlsym: ", error,
                       "): the driver predates CUDA 12.0; this runtime needs an NVIDIA driver for "
                       "CUDA 12.0 or newer");
  }

  std::shared_ptr<Driver> driver(new Driver());
  driver->library_ = opened.path;
  driver->handle_ = handle;
  // Entries resolve in table order; cuGetErrorName/String come first, so a
  // later failure can already name its error.
#define MOERT_CUDA_SYMBOL(member, base_name, version, params)                                   \
  {                                                                                             \
    void* fn = nullptr;                                                                         \
    CUdriverProcAddressQueryResult status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;               \
    CUresult result = get_proc(base_name, &fn, version, CU_GET_PROC_ADDRESS_DEFAULT, &status);  \
    if (result != CUDA_SUCCESS || status != CU_GET_PROC_ADDRESS_SUCCESS || fn == nullptr) {     \
      Status missing = MissingEntryPoint(                                                       \
          *driver, #member, base_name, version,                                                 \
          StrCat(kGetProcAddressSymbol, " returned ", driver->ErrorText(result), ", ",          \
                 ProcStatusName(status)));                                                      \
      dlclose(handle);                                                                          \
      return missing;                                                                           \
    }                                                                                           \
    driver->symbols_.member = reinterpret_cast<decltype(driver->symbols_.member)>(fn);          \
  }
#include "hal/cuda/cuda_symbols.h"
#undef MOERT_CUDA_SYMBOL
  return std::shared_ptr<const Driver>(std::move(driver));
}

}  // namespace moert::hal::cuda
