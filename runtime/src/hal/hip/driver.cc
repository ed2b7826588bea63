#include "hal/hip/driver.h"

#include <dlfcn.h>

#include <cstdlib>

namespace moert::hal::hip {
namespace {

std::string DlError() {
  const char* error = dlerror();
  return error != nullptr ? error : "unknown error";
}

}  // namespace

Result<std::shared_ptr<const Driver>> Driver::Load(const std::string& library) {
  std::string path = library;
  if (path.empty()) {
    const char* env = std::getenv(kRuntimeLibraryEnv);
    path = (env != nullptr && env[0] != '\0') ? env : kDefaultRuntimeLibrary;
  }
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    std::string error = DlError();
    const bool missing = error.find("No such file") != std::string::npos;
    return Unavailable("moert: HIP runtime ", path, missing ? " not found" : " could not be loaded",
                       " (dlopen: ", error,
                       "): this artifact needs an AMD GPU and ROCm's HIP runtime");
  }
  std::shared_ptr<Driver> driver(new Driver());
  driver->library_ = path;
  driver->handle_ = handle;
#define MOERT_HIP_SYMBOL(name, result, params)                                              \
  {                                                                                         \
    dlerror();                                                                              \
    void* fn = dlsym(handle, #name);                                                        \
    if (fn == nullptr) {                                                                    \
      Status missing = Unavailable("moert: HIP runtime ", path, " lacks ", #name,           \
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

std::string Driver::ErrorText(hipError_t error) const {
  const char* name = symbols_.hipGetErrorName != nullptr ? symbols_.hipGetErrorName(error) : nullptr;
  const char* text =
      symbols_.hipGetErrorString != nullptr ? symbols_.hipGetErrorString(error) : nullptr;
  std::string out = name != nullptr ? std::string(name) : StrCat("hipError_t ", error);
  return StrCat(out, " (", text != nullptr ? text : "no description", ")");
}

Status Driver::Check(hipError_t error, const std::string& call) const {
  if (error == hipSuccess) return Status::Ok();
  StatusCode code = StatusCode::kUnavailable;
  switch (error) {
    case hipErrorOutOfMemory:
      code = StatusCode::kResourceExhausted;
      break;
    case hipErrorInvalidImage:
    case hipErrorNoBinaryForGpu:
    case hipErrorInvalidKernelFile:
      code = StatusCode::kDataLoss;
      break;
    default:
      break;
  }
  return MakeStatus(code, "HIP ", call, " failed: ", ErrorText(error));
}

}  // namespace moert::hal::hip
