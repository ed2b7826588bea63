#include "hal/hip/device.h"

#include <cctype>
#include <cstdint>

namespace moert::hal::hip {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string HipDeviceApi::ArchName(int major, int minor) {
  const char* hex = "0123456789abcdef";
  return StrCat("gfx", major, minor >= 0 && minor < 16 ? std::string(1, hex[minor]) : "?", "x");
}

Result<HipTarget> ParseHipTarget(const std::string& target) {
  // gfx<major><minor><stepping>, minor and stepping one hex digit each:
  // gfx942, gfx90a, gfx1100.
  HipTarget out;
  bool ok = target.size() >= 6 && target.size() <= 7 && target.compare(0, 3, "gfx") == 0;
  if (ok) {
    const size_t n = target.size();
    for (size_t i = 3; i + 2 < n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(target[i]))) ok = false;
      out.major = out.major * 10 + (target[i] - '0');
    }
    out.minor = HexDigit(target[n - 2]);
    out.stepping = HexDigit(target[n - 1]);
    ok = ok && out.major > 0 && out.minor >= 0 && out.stepping >= 0;
  }
  if (!ok) {
    return InvalidArgument("HIP target \"", target,
                           "\" is not of the form gfx<major><minor><stepping> (e.g. gfx942)");
  }
  return out;
}

Result<std::unique_ptr<HipDevice>> HipDevice::Open(int ordinal, const std::string& target) {
  MOERT_ASSIGN_OR_RETURN(std::shared_ptr<const Driver> driver, Driver::Load());
  return Open(std::move(driver), ordinal, target);
}

Result<std::unique_ptr<HipDevice>> HipDevice::Open(std::shared_ptr<const Driver> driver,
                                                   int ordinal, const std::string& target) {
  MOERT_ASSIGN_OR_RETURN(HipTarget wanted, ParseHipTarget(target));
  std::unique_ptr<HipDevice> device(new HipDevice());
  MOERT_RETURN_IF_ERROR(device->Probe(std::move(driver), ordinal));
  const GpuDeviceInfo& info = device->info_;
  if (info.compute_major != wanted.major || info.compute_minor != wanted.minor) {
    return FailedPrecondition("the artifact targets ", target, " but device ", ordinal, " (",
                              info.name, ") is ", info.arch, " (compute capability ",
                              info.compute_major, ".", info.compute_minor, "; ", target, " needs ",
                              wanted.major, ".", wanted.minor, ")");
  }
  device->open_ = true;
  MOERT_RETURN_IF_ERROR(device->MakeCurrent());
  return device;
}

HipDevice::~HipDevice() {
  if (!open_) return;
  (void)symbols().hipSetDevice(info_.ordinal);
  ReleaseAll();
}

Status HipDevice::MakeCurrent() {
  return Check(symbols().hipSetDevice(info_.ordinal), StrCat("hipSetDevice(", info_.ordinal, ")"));
}

}  // namespace moert::hal::hip
