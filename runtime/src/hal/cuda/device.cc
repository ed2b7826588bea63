#include "hal/cuda/device.h"

#include <cctype>
#include <cstring>

namespace moert::hal::cuda {

std::string CudaDeviceApi::ArchName(int major, int minor) { return StrCat("sm_", major, minor); }

CUresult CudaDeviceApi::ModuleLoad(const Symbols& s, Module* module, const uint8_t* data,
                                   uint64_t size, const char** kind) {
  // PTX must be NUL-terminated for cuModuleLoadData; a cubin carries its size.
  std::string ptx;
  const void* image = data;
  const bool is_elf = size >= 4 && std::memcmp(data, "\x7f" "ELF", 4) == 0;
  if (!is_elf && data[size - 1] != '\0') {
    ptx.assign(reinterpret_cast<const char*>(data), size);
    image = ptx.c_str();
  }
  *kind = is_elf ? "cubin" : "PTX";
  return s.cuModuleLoadData(module, image);
}

Result<CudaTarget> ParseCudaTarget(const std::string& target) {
  // sm_<major><minor>[a], the minor one digit: sm_80, sm_90a, sm_100a.
  CudaTarget out;
  std::string digits;
  size_t i = 3;
  if (target.compare(0, 3, "sm_") == 0) {
    while (i < target.size() && std::isdigit(static_cast<unsigned char>(target[i]))) {
      digits += target[i++];
    }
  }
  if (i < target.size() && target[i] == 'a') {
    out.arch_specific = true;
    ++i;
  }
  if (digits.size() < 2 || digits.size() > 3 || i != target.size()) {
    return InvalidArgument("CUDA target \"", target,
                           "\" is not of the form sm_<major><minor>[a] (e.g. sm_90a)");
  }
  for (size_t k = 0; k + 1 < digits.size(); ++k) out.major = out.major * 10 + (digits[k] - '0');
  out.minor = digits.back() - '0';
  return out;
}

Result<std::unique_ptr<CudaDevice>> CudaDevice::Open(int ordinal, const std::string& target) {
  MOERT_ASSIGN_OR_RETURN(std::shared_ptr<const Driver> driver, Driver::Load());
  return Open(std::move(driver), ordinal, target);
}

Result<std::unique_ptr<CudaDevice>> CudaDevice::Open(std::shared_ptr<const Driver> driver,
                                                     int ordinal, const std::string& target) {
  MOERT_ASSIGN_OR_RETURN(CudaTarget wanted, ParseCudaTarget(target));
  std::unique_ptr<CudaDevice> device(new CudaDevice());
  MOERT_RETURN_IF_ERROR(device->Probe(std::move(driver), ordinal));
  const GpuDeviceInfo& info = device->info_;
  const bool matches = wanted.arch_specific
                           ? info.compute_major == wanted.major && info.compute_minor == wanted.minor
                           : info.compute_major == wanted.major && info.compute_minor >= wanted.minor;
  if (!matches) {
    return FailedPrecondition("the artifact targets ", target, " but device ", ordinal, " (",
                              info.name, ") is ", info.arch, " (compute capability ",
                              info.compute_major, ".", info.compute_minor, "; ", target,
                              wanted.arch_specific ? " needs exactly " : " needs ", wanted.major,
                              ".", wanted.minor, wanted.arch_specific ? "" : " or a later minor",
                              ")");
  }

  MOERT_RETURN_IF_ERROR(device->Check(device->symbols().cuDevicePrimaryCtxRetain(&device->context_,
                                                                                 device->device_),
                                      StrCat("cuDevicePrimaryCtxRetain of device ", ordinal)));
  MOERT_RETURN_IF_ERROR(device->MakeCurrent());
  return device;
}

CudaDevice::~CudaDevice() {
  if (context_ == nullptr) return;
  const CudaSymbols& s = symbols();
  // Errors here have nowhere to go; the context is released regardless.
  (void)s.cuCtxSetCurrent(context_);
  ReleaseAll();
  (void)s.cuDevicePrimaryCtxRelease_v2(device_);
}

Status CudaDevice::MakeCurrent() {
  return Check(symbols().cuCtxSetCurrent(context_), "cuCtxSetCurrent");
}

}  // namespace moert::hal::cuda
