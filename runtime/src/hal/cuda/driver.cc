#include "hal/cuda/driver.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

namespace moert::hal::cuda {
namespace {

std::string DlError() {
  const char* error = dlerror();
  return error != nullptr ? error : "unknown error";
}

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
  std::string path = library;
  if (path.empty()) {
    const char* env = std::getenv(kDriverLibraryEnv);
    path = (env != nullptr && env[0] != '\0') ? env : kDefaultDriverLibrary;
  }
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    std::string error = DlError();
    const bool missing = error.find("No such file") != std::string::npos;
    return Unavailable("moert: CUDA driver ", path, missing ? " not found" : " could not be loaded",
                       " (dlopen: ", error, "): this artifact needs an NVIDIA GPU and its driver");
  }
  dlerror();
  auto get_proc = reinterpret_cast<PFN_cuGetProcAddress_v2>(dlsym(handle, kGetProcAddressSymbol));
  if (get_proc == nullptr) {
    std::string error = DlError();
    dlclose(handle);
    return Unavailable("moert: CUDA driver ", path, " has no ", kGetProcAddressSymbol,
                       " (dlsym: ", error,
                       "): the driver predates CUDA 12.0; this runtime needs an NVIDIA driver for "
                       "CUDA 12.0 or newer");
  }

  std::shared_ptr<Driver> driver(new Driver());
  driver->library_ = path;
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

std::string Driver::ErrorText(CUresult result) const {
  const char* name = nullptr;
  const char* text = nullptr;
  if (symbols_.cuGetErrorName == nullptr || symbols_.cuGetErrorName(result, &name) != CUDA_SUCCESS ||
      name == nullptr) {
    name = nullptr;
  }
  if (symbols_.cuGetErrorString == nullptr ||
      symbols_.cuGetErrorString(result, &text) != CUDA_SUCCESS || text == nullptr) {
    text = nullptr;
  }
  std::string out = name != nullptr ? std::string(name) : StrCat("CUresult ", result);
  return StrCat(out, " (", text != nullptr ? text : "no description", ")");
}

Status Driver::Check(CUresult result, const std::string& call) const {
  if (result == CUDA_SUCCESS) return Status::Ok();
  StatusCode code = StatusCode::kUnavailable;
  switch (result) {
    case CUDA_ERROR_OUT_OF_MEMORY:
      code = StatusCode::kResourceExhausted;
      break;
    case CUDA_ERROR_INVALID_IMAGE:
    case CUDA_ERROR_NO_BINARY_FOR_GPU:
    case CUDA_ERROR_INVALID_PTX:
      code = StatusCode::kDataLoss;
      break;
    default:
      break;
  }
  return MakeStatus(code, "CUDA ", call, " failed: ", ErrorText(result));
}

}  // namespace moert::hal::cuda
