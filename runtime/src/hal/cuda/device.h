// A CUDA device through the driver API: the GpuDevice of gpu_device.h on one
// GPU's primary context.
//
// Opening checks the device against the artifact's target: "sm_XYa" (an
// architecture-specific target such as sm_90a) needs compute capability X.Y
// exactly; "sm_XY" needs major X and minor Y or above.
#ifndef MOERT_HAL_CUDA_DEVICE_H_
#define MOERT_HAL_CUDA_DEVICE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "hal/cuda/driver.h"
#include "hal/gpu_device.h"
#include "hal/gpu_device_impl.h"

namespace moert::hal::cuda {

// An artifact's CUDA target ("sm_90a" -> 9, 0, arch_specific).
struct CudaTarget {
  int major = 0;
  int minor = 0;
  bool arch_specific = false;
};
Result<CudaTarget> ParseCudaTarget(const std::string& target);

// What GpuDeviceImpl (gpu_device_impl.h) calls of the CUDA driver API.
struct CudaDeviceApi : CudaApi {
  using Driver = cuda::Driver;
  using Device = CUdevice;
  using Module = CUmodule;
  using Function = CUfunction;
  using Stream = CUstream;
  using Graph = CUgraph;
  using GraphExec = CUgraphExec;

  static constexpr char kVendorGpu[] = "an NVIDIA GPU";
  static constexpr char kDriverNoun[] = "driver";
  static constexpr Result kNoDevice = CUDA_ERROR_NO_DEVICE;
  static constexpr bool kCountReportsNoDevice = false;
  static constexpr GpuCallNames kCalls = {
      "cuInit", "cuDriverGetVersion", "cuDeviceGetCount", "cuDeviceGet", "cuDeviceGetName",
      "cuDeviceGetAttribute", "cuDeviceTotalMem_v2", "cuMemAlloc_v2", "cuMemFree_v2",
      "cuMemcpyHtoD_v2", "cuMemcpyDtoH_v2", "cuMemsetD8_v2", "cuModuleLoadData", "cuModuleUnload",
      "cuModuleGetFunction", "cuLaunchKernel", "cuStreamCreate", "cuStreamDestroy_v2",
      "cuStreamSynchronize", "cuStreamBeginCapture_v2", "cuStreamEndCapture",
      "cuGraphInstantiateWithFlags", "cuGraphDestroy", "cuGraphLaunch", "cuGraphExecDestroy",
  };
  static constexpr GpuAttributeQuery<CUdevice_attribute> kAttributes[] = {
      {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "COMPUTE_CAPABILITY_MAJOR",
       &GpuDeviceInfo::compute_major},
      {CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "COMPUTE_CAPABILITY_MINOR",
       &GpuDeviceInfo::compute_minor},
      {CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, "MULTIPROCESSOR_COUNT",
       &GpuDeviceInfo::multiprocessor_count},
      {CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, "MAX_SHARED_MEMORY_PER_BLOCK_OPTIN",
       &GpuDeviceInfo::max_shared_memory_per_block_optin},
  };
  // "sm_90" for 9.0.
  static std::string ArchName(int major, int minor);

  static Result Init(const Symbols& s) { return s.cuInit(0); }
  static Result DriverGetVersion(const Symbols& s, int* version) {
    return s.cuDriverGetVersion(version);
  }
  static Result DeviceGetCount(const Symbols& s, int* count) { return s.cuDeviceGetCount(count); }
  static Result DeviceGet(const Symbols& s, Device* device, int ordinal) {
    return s.cuDeviceGet(device, ordinal);
  }
  static Result DeviceGetName(const Symbols& s, char* name, int length, Device device) {
    return s.cuDeviceGetName(name, length, device);
  }
  static Result DeviceGetAttribute(const Symbols& s, int* value, CUdevice_attribute attribute,
                                   Device device, int /*ordinal*/) {
    return s.cuDeviceGetAttribute(value, attribute, device);
  }
  static Result DeviceTotalMem(const Symbols& s, size_t* bytes, Device device) {
    return s.cuDeviceTotalMem_v2(bytes, device);
  }
  static Result MemAlloc(const Symbols& s, uint64_t* address, size_t bytes) {
    CUdeviceptr pointer = 0;
    Result result = s.cuMemAlloc_v2(&pointer, bytes);
    *address = pointer;
    return result;
  }
  static Result MemFree(const Symbols& s, uint64_t address) { return s.cuMemFree_v2(address); }
  static Result MemcpyHtoD(const Symbols& s, uint64_t dst, const void* src, size_t bytes) {
    return s.cuMemcpyHtoD_v2(dst, src, bytes);
  }
  static Result MemcpyDtoH(const Symbols& s, void* dst, uint64_t src, size_t bytes) {
    return s.cuMemcpyDtoH_v2(dst, src, bytes);
  }
  static Result Memset(const Symbols& s, uint64_t dst, uint8_t value, size_t bytes) {
    return s.cuMemsetD8_v2(dst, value, bytes);
  }
  // PTX (NUL-terminated here where it is not) or a cubin; `kind` says which.
  static Result ModuleLoad(const Symbols& s, Module* module, const uint8_t* data, uint64_t size,
                           const char** kind);
  static Result ModuleUnload(const Symbols& s, Module module) { return s.cuModuleUnload(module); }
  static Result ModuleGetFunction(const Symbols& s, Function* function, Module module,
                                  const char* name) {
    return s.cuModuleGetFunction(function, module, name);
  }
  static Result LaunchKernel(const Symbols& s, Function f, const uint32_t grid[3],
                             const uint32_t block[3], uint32_t shared_memory_bytes, Stream stream,
                             void** params) {
    return s.cuLaunchKernel(f, grid[0], grid[1], grid[2], block[0], block[1], block[2],
                            shared_memory_bytes, stream, params, nullptr);
  }
  // A blocking stream: the synchronous copies (legacy stream) order after it.
  static Result StreamCreate(const Symbols& s, Stream* stream) {
    return s.cuStreamCreate(stream, CU_STREAM_DEFAULT);
  }
  static Result StreamDestroy(const Symbols& s, Stream stream) { return s.cuStreamDestroy_v2(stream); }
  static Result StreamSynchronize(const Symbols& s, Stream stream) {
    return s.cuStreamSynchronize(stream);
  }
  // Thread-local: other threads may allocate while this one captures.
  static Result BeginCapture(const Symbols& s, Stream stream) {
    return s.cuStreamBeginCapture_v2(stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
  }
  static Result EndCapture(const Symbols& s, Stream stream, Graph* graph) {
    return s.cuStreamEndCapture(stream, graph);
  }
  static Result GraphInstantiate(const Symbols& s, GraphExec* exec, Graph graph) {
    return s.cuGraphInstantiateWithFlags(exec, graph, 0);
  }
  static Result GraphDestroy(const Symbols& s, Graph graph) { return s.cuGraphDestroy(graph); }
  static Result GraphLaunch(const Symbols& s, GraphExec exec, Stream stream) {
    return s.cuGraphLaunch(exec, stream);
  }
  static Result GraphExecDestroy(const Symbols& s, GraphExec exec) {
    return s.cuGraphExecDestroy(exec);
  }
};

class CudaDevice final : public GpuDeviceImpl<CudaDeviceApi> {
 public:
  // Initializes the driver, opens device `ordinal` and checks it runs
  // `target` ("sm_90a").
  static Result<std::unique_ptr<CudaDevice>> Open(std::shared_ptr<const Driver> driver,
                                                  int ordinal, const std::string& target);
  // Driver::Load() (MOERT_CUDA_DRIVER or libcuda.so.1), then Open.
  static Result<std::unique_ptr<CudaDevice>> Open(int ordinal, const std::string& target);
  ~CudaDevice() override;

 private:
  CudaDevice() = default;
  // Makes the primary context current on the calling thread.
  Status MakeCurrent() override;

  CUcontext context_ = nullptr;
};

}  // namespace moert::hal::cuda

#endif  // MOERT_HAL_CUDA_DEVICE_H_
