// A HIP device through the HIP runtime's module API: the GpuDevice of
// gpu_device.h on one AMD GPU (selected with hipSetDevice before each call).
//
// Opening checks the device against the artifact's target ("gfx942"). The
// architecture comes from hipDeviceGetAttribute's compute capability (HIP 6
// dropped the gcnArchName attribute and changed the properties struct): a
// gfx<major><minor><stepping> target needs compute capability major.minor;
// the stepping (gfx942 vs gfx940) is not visible there, and a code object for
// the wrong stepping fails at LoadModule with the runtime's error.
#ifndef MOERT_HAL_HIP_DEVICE_H_
#define MOERT_HAL_HIP_DEVICE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "hal/gpu_device.h"
#include "hal/gpu_device_impl.h"
#include "hal/hip/driver.h"

namespace moert::hal::hip {

// An artifact's HIP target ("gfx942" -> 9, 4, 2; "gfx90a" -> 9, 0, 10).
struct HipTarget {
  int major = 0;
  int minor = 0;
  int stepping = 0;
};
Result<HipTarget> ParseHipTarget(const std::string& target);

// What GpuDeviceImpl (gpu_device_impl.h) calls of the HIP runtime API.
// Device addresses are the runtime's pointers.
struct HipDeviceApi : HipApi {
  using Driver = hip::Driver;
  using Device = hipDevice_t;
  using Module = hipModule_t;
  using Function = hipFunction_t;
  using Stream = hipStream_t;
  using Graph = hipGraph_t;
  using GraphExec = hipGraphExec_t;

  static constexpr char kVendorGpu[] = "an AMD GPU";
  static constexpr char kDriverNoun[] = "runtime";
  static constexpr Result kNoDevice = hipErrorNoDevice;
  static constexpr bool kCountReportsNoDevice = true;
  static constexpr GpuCallNames kCalls = {
      "hipInit", "hipDriverGetVersion", "hipGetDeviceCount", "hipDeviceGet", "hipDeviceGetName",
      "hipDeviceGetAttribute", "hipDeviceTotalMem", "hipMalloc", "hipFree", "hipMemcpyHtoD",
      "hipMemcpyDtoH", "hipMemset", "hipModuleLoadData", "hipModuleUnload",
      "hipModuleGetFunction", "hipModuleLaunchKernel", "hipStreamCreate", "hipStreamDestroy",
      "hipStreamSynchronize", "hipStreamBeginCapture", "hipStreamEndCapture",
      "hipGraphInstantiate", "hipGraphDestroy", "hipGraphLaunch", "hipGraphExecDestroy",
  };
  static constexpr GpuAttributeQuery<hipDeviceAttribute_t> kAttributes[] = {
      {hipDeviceAttributeComputeCapabilityMajor, "ComputeCapabilityMajor",
       &GpuDeviceInfo::compute_major},
      {hipDeviceAttributeComputeCapabilityMinor, "ComputeCapabilityMinor",
       &GpuDeviceInfo::compute_minor},
      {hipDeviceAttributeMultiprocessorCount, "MultiprocessorCount",
       &GpuDeviceInfo::multiprocessor_count},
      {hipDeviceAttributeSharedMemPerBlockOptin, "SharedMemPerBlockOptin",
       &GpuDeviceInfo::max_shared_memory_per_block_optin},
  };
  // What the compute capability tells of a device: "gfx94x" for 9.4.
  static std::string ArchName(int major, int minor);

  static void* Pointer(uint64_t address) {
    return reinterpret_cast<void*>(static_cast<uintptr_t>(address));
  }

  static Result Init(const Symbols& s) { return s.hipInit(0); }
  static Result DriverGetVersion(const Symbols& s, int* version) {
    return s.hipDriverGetVersion(version);
  }
  static Result DeviceGetCount(const Symbols& s, int* count) { return s.hipGetDeviceCount(count); }
  static Result DeviceGet(const Symbols& s, Device* device, int ordinal) {
    return s.hipDeviceGet(device, ordinal);
  }
  static Result DeviceGetName(const Symbols& s, char* name, int length, Device device) {
    return s.hipDeviceGetName(name, length, device);
  }
  // hipDeviceGetAttribute takes the ordinal, not the hipDevice_t.
  static Result DeviceGetAttribute(const Symbols& s, int* value, hipDeviceAttribute_t attribute,
                                   Device /*device*/, int ordinal) {
    return s.hipDeviceGetAttribute(value, attribute, ordinal);
  }
  static Result DeviceTotalMem(const Symbols& s, size_t* bytes, Device device) {
    return s.hipDeviceTotalMem(bytes, device);
  }
  static Result MemAlloc(const Symbols& s, uint64_t* address, size_t bytes) {
    void* pointer = nullptr;
    Result result = s.hipMalloc(&pointer, bytes);
    *address = reinterpret_cast<uintptr_t>(pointer);
    return result;
  }
  static Result MemFree(const Symbols& s, uint64_t address) { return s.hipFree(Pointer(address)); }
  static Result MemcpyHtoD(const Symbols& s, uint64_t dst, const void* src, size_t bytes) {
    return s.hipMemcpyHtoD(Pointer(dst), src, bytes);
  }
  static Result MemcpyDtoH(const Symbols& s, void* dst, uint64_t src, size_t bytes) {
    return s.hipMemcpyDtoH(dst, Pointer(src), bytes);
  }
  static Result Memset(const Symbols& s, uint64_t dst, uint8_t value, size_t bytes) {
    return s.hipMemset(Pointer(dst), value, bytes);
  }
  // A code object; HIP does not tell kinds apart, so `kind` stays null.
  static Result ModuleLoad(const Symbols& s, Module* module, const uint8_t* data,
                           uint64_t /*size*/, const char** /*kind*/) {
    return s.hipModuleLoadData(module, data);
  }
  static Result ModuleUnload(const Symbols& s, Module module) { return s.hipModuleUnload(module); }
  static Result ModuleGetFunction(const Symbols& s, Function* function, Module module,
                                  const char* name) {
    return s.hipModuleGetFunction(function, module, name);
  }
  static Result LaunchKernel(const Symbols& s, Function f, const uint32_t grid[3],
                             const uint32_t block[3], uint32_t shared_memory_bytes, Stream stream,
                             void** params) {
    return s.hipModuleLaunchKernel(f, grid[0], grid[1], grid[2], block[0], block[1], block[2],
                                   shared_memory_bytes, stream, params, nullptr);
  }
  static Result StreamCreate(const Symbols& s, Stream* stream) { return s.hipStreamCreate(stream); }
  static Result StreamDestroy(const Symbols& s, Stream stream) { return s.hipStreamDestroy(stream); }
  static Result StreamSynchronize(const Symbols& s, Stream stream) {
    return s.hipStreamSynchronize(stream);
  }
  static Result BeginCapture(const Symbols& s, Stream stream) {
    return s.hipStreamBeginCapture(stream, hipStreamCaptureModeThreadLocal);
  }
  static Result EndCapture(const Symbols& s, Stream stream, Graph* graph) {
    return s.hipStreamEndCapture(stream, graph);
  }
  static Result GraphInstantiate(const Symbols& s, GraphExec* exec, Graph graph) {
    return s.hipGraphInstantiate(exec, graph, nullptr, nullptr, 0);
  }
  static Result GraphDestroy(const Symbols& s, Graph graph) { return s.hipGraphDestroy(graph); }
  static Result GraphLaunch(const Symbols& s, GraphExec exec, Stream stream) {
    return s.hipGraphLaunch(exec, stream);
  }
  static Result GraphExecDestroy(const Symbols& s, GraphExec exec) {
    return s.hipGraphExecDestroy(exec);
  }
};

class HipDevice final : public GpuDeviceImpl<HipDeviceApi> {
 public:
  // Initializes the driver, opens device `ordinal` and checks it runs
  // `target` ("gfx942").
  static Result<std::unique_ptr<HipDevice>> Open(std::shared_ptr<const Driver> driver,
                                                 int ordinal, const std::string& target);
  // Driver::Load() (MOERT_HIP_RUNTIME or libamdhip64.so), then Open.
  static Result<std::unique_ptr<HipDevice>> Open(int ordinal, const std::string& target);
  ~HipDevice() override;

 private:
  HipDevice() = default;
  // Makes this device current on the calling thread (hipSetDevice).
  Status MakeCurrent() override;

  bool open_ = false;
};

}  // namespace moert::hal::hip

#endif  // MOERT_HAL_HIP_DEVICE_H_
