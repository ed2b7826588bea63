// What both GPU driver loaders (cuda/driver.h, hip/driver.h) share: finding
// and opening the library, and the driver object that holds its symbol table
// and turns the API's result codes into Statuses.
//
// GpuDriver<Api> is written once over a per-API traits struct (CudaApi,
// HipApi) that supplies:
//   Result, Symbols        the API's result type and its X-macro symbol table;
//   kName, kResultType     "CUDA" / "CUresult" for messages;
//   kSuccess               the success code;
//   ErrorName, ErrorString the driver's text for a result (null when none);
//   StatusCodeFor          the StatusCode an error result maps to.
// Each API keeps its own Load (CUDA resolves through cuGetProcAddress_v2, HIP
// with dlsym).
#ifndef MOERT_HAL_GPU_DRIVER_H_
#define MOERT_HAL_GPU_DRIVER_H_

#include <dlfcn.h>

#include <cstdlib>
#include <string>

#include "base/status.h"

namespace moert::hal {

// dlerror(), or "unknown error" where it has nothing to say.
inline std::string DlError() {
  const char* error = dlerror();
  return error != nullptr ? error : "unknown error";
}

// A driver library opened with dlopen.
struct OpenedLibrary {
  std::string path;
  void* handle = nullptr;
};

// Opens `library`, or where it is empty $`env_variable` (if set and not
// empty), or `default_library`. The failure reads "moert: <what> <path> not
// found (dlopen: <error>): <needs>" ("could not be loaded" where the file
// exists).
inline Result<OpenedLibrary> OpenGpuLibrary(const std::string& library, const char* env_variable,
                                            const char* default_library, const char* what,
                                            const char* needs) {
  OpenedLibrary out;
  out.path = library;
  if (out.path.empty()) {
    const char* env = std::getenv(env_variable);
    out.path = (env != nullptr && env[0] != '\0') ? env : default_library;
  }
  dlerror();
  out.handle = dlopen(out.path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (out.handle == nullptr) {
    std::string error = DlError();
    const bool missing = error.find("No such file") != std::string::npos;
    return Unavailable("moert: ", what, " ", out.path,
                       missing ? " not found" : " could not be loaded", " (dlopen: ", error,
                       "): ", needs);
  }
  return out;
}

template <typename Api>
class GpuDriver {
 public:
  using ApiResult = typename Api::Result;
  using Symbols = typename Api::Symbols;

  // The library stays loaded for the life of the process: the drivers start
  // threads and register exit handlers, and unloading them is unsafe.
  ~GpuDriver() = default;
  GpuDriver(const GpuDriver&) = delete;
  GpuDriver& operator=(const GpuDriver&) = delete;

  const std::string& library() const { return library_; }
  const Symbols& symbols() const { return symbols_; }
  const Symbols* operator->() const { return &symbols_; }

  // "CUDA_ERROR_OUT_OF_MEMORY (out of memory)"; "CUresult 12345 (no
  // description)" where the driver has no name for it.
  std::string ErrorText(ApiResult result) const {
    const char* name = Api::ErrorName(symbols_, result);
    const char* text = Api::ErrorString(symbols_, result);
    std::string out = name != nullptr ? std::string(name) : StrCat(Api::kResultType, " ", result);
    return StrCat(out, " (", text != nullptr ? text : "no description", ")");
  }

  // OK for success; otherwise an error "<API> <call> failed: <ErrorText>"
  // whose code follows the result (out of memory: RESOURCE_EXHAUSTED, a bad
  // image: DATA_LOSS, else UNAVAILABLE).
  Status Check(ApiResult result, const std::string& call) const {
    if (result == Api::kSuccess) return Status::Ok();
    return MakeStatus(Api::StatusCodeFor(result), Api::kName, " ", call,
                      " failed: ", ErrorText(result));
  }

 protected:
  GpuDriver() = default;

  std::string library_;
  void* handle_ = nullptr;
  Symbols symbols_;
};

}  // namespace moert::hal

#endif  // MOERT_HAL_GPU_DRIVER_H_
