// Whether the running host can execute an artifact's target.
#include <string>
#include <vector>

#include "artifact/artifact.h"

namespace moert {
namespace {

// The architecture the running moert was built for, as target names spell it.
const char* HostArchitecture() {
#if defined(__x86_64__)
  return "x86-64";
#elif defined(__aarch64__)
  return "aarch64";
#else
  return "unknown";
#endif
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

bool HostCpuHasFeature(std::string_view feature, bool* known) {
  if (known != nullptr) *known = true;
#if defined(__x86_64__)
  __builtin_cpu_init();
  // __builtin_cpu_supports wants string literals, hence the table.
#define MOERT_CPU_FEATURE(name) \
  if (feature == name) return __builtin_cpu_supports(name);
  MOERT_CPU_FEATURE("sse4.2")
  MOERT_CPU_FEATURE("avx")
  MOERT_CPU_FEATURE("avx2")
  MOERT_CPU_FEATURE("fma")
  MOERT_CPU_FEATURE("f16c")
  MOERT_CPU_FEATURE("bmi2")
  MOERT_CPU_FEATURE("avx512f")
  MOERT_CPU_FEATURE("avx512bw")
  MOERT_CPU_FEATURE("avx512vl")
  MOERT_CPU_FEATURE("avx512dq")
  MOERT_CPU_FEATURE("avx512cd")
  MOERT_CPU_FEATURE("avx512vnni")
  MOERT_CPU_FEATURE("avx512bf16")
#undef MOERT_CPU_FEATURE
#endif
  if (known != nullptr) *known = false;
  return false;
}

Status CheckTargetRunsOnHost(const moex::Target& target) {
  std::string name = target.name() == nullptr ? std::string() : target.name()->str();
  if (target.kind() > moex::TargetKind::MAX) {
    return DataLoss("manifest.target.kind = ", static_cast<int>(target.kind()),
                    " is not a TargetKind");
  }
  switch (target.kind()) {
    case moex::TargetKind::CPU:
      break;
    case moex::TargetKind::CUDA:
      return FailedPrecondition("the artifact targets an NVIDIA GPU (CUDA ", name,
                                "), not this CPU: it runs through moert's CUDA HAL, which needs the "
                                "NVIDIA driver (libcuda.so.1) and a GPU of that architecture");
    case moex::TargetKind::HIP:
      return FailedPrecondition("the artifact targets an AMD GPU (HIP ", name,
                                "), not this CPU: it runs through moert's HIP HAL, which needs the "
                                "ROCm runtime (libamdhip64.so) and a GPU of that architecture");
  }
  std::string host = HostArchitecture();
  for (const char* arch : {"x86-64", "aarch64"}) {
    if (StartsWith(name, arch) && host != arch) {
      return FailedPrecondition("the artifact targets the CPU \"", name,
                                "\" but this host is ", host);
    }
  }
  std::vector<std::string> missing;
  if (target.required_features() != nullptr) {
    for (const flatbuffers::String* feature : *target.required_features()) {
      bool known = false;
      if (!HostCpuHasFeature(feature->string_view(), &known)) {
        missing.push_back(known ? feature->str()
                                : feature->str() + " (a feature moert cannot detect)");
      }
    }
  }
  if (!missing.empty()) {
    std::string list;
    for (const std::string& f : missing) list += (list.empty() ? "" : ", ") + f;
    return FailedPrecondition("the artifact targets the CPU \"", name,
                              "\", which requires CPU features this host lacks: ", list);
  }
  return Status::Ok();
}

}  // namespace moert
