// The device interface both GPU HALs (CUDA, HIP) implement, so the executor
// drives either the same way: open device N for the artifact's target, own
// device memory, load module images, launch kernels on streams, and capture a
// sequence of launches as a graph to replay (decode replays one graph).
//
// Kernel parameter ABI (what the code generator emits and Launch passes): one
// 8-byte device address per binding, in binding order, then one uint32 per
// constant, each a separate kernel parameter.
//
// Every call returns a Status naming the driver call, its error name and
// string. A device is used by one thread at a time; the calls make the
// device's context current on the calling thread first.
#ifndef MOERT_HAL_GPU_DEVICE_H_
#define MOERT_HAL_GPU_DEVICE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"

namespace moert::hal {

// What a device reports about itself once it is open.
struct GpuDeviceInfo {
  std::string api;             // "CUDA" or "HIP"
  int ordinal = 0;             // device index as the driver counts them
  std::string name;            // "NVIDIA H100 80GB HBM3"
  std::string arch;            // "sm_90", "gfx9.4" (see each HAL)
  int compute_major = 0;       // compute capability (HIP: gfx major/minor)
  int compute_minor = 0;
  int driver_version = 0;      // 12080 for CUDA 12.8
  uint64_t total_memory = 0;   // bytes
  int multiprocessor_count = 0;
  int max_shared_memory_per_block_optin = 0;  // bytes
};

// A device allocation: its address in the device address space and its size.
struct DeviceBuffer {
  uint64_t address = 0;
  uint64_t size = 0;
};

// Opaque handles, owned by the device that made them; destroy them through
// the same device before it goes away (the device's destructor releases any
// still alive).
using GpuModule = struct GpuModuleOpaque*;
using GpuFunction = struct GpuFunctionOpaque*;
using GpuStream = struct GpuStreamOpaque*;
using GpuGraph = struct GpuGraphOpaque*;

// One kernel launch. `bindings` and `constants` are read during Launch (the
// driver copies the values); they need not outlive it.
struct KernelLaunch {
  GpuFunction function = nullptr;
  uint32_t grid[3] = {1, 1, 1};
  uint32_t block[3] = {1, 1, 1};
  uint32_t shared_memory_bytes = 0;
  const uint64_t* bindings = nullptr;  // device addresses
  uint32_t binding_count = 0;
  const uint32_t* constants = nullptr;
  uint32_t constant_count = 0;
};

// Most kernel parameters one launch passes (bindings + constants).
inline constexpr uint32_t kMaxKernelParameters = 256;

class GpuDevice {
 public:
  virtual ~GpuDevice() = default;
  GpuDevice(const GpuDevice&) = delete;
  GpuDevice& operator=(const GpuDevice&) = delete;

  virtual const GpuDeviceInfo& info() const = 0;

  // Device memory. Copies and fills are synchronous with the host and ordered
  // after work already submitted to streams of this device; offset + size
  // must lie inside the buffer.
  virtual Result<DeviceBuffer> Allocate(uint64_t size) = 0;
  virtual Status Free(DeviceBuffer buffer) = 0;
  virtual Status CopyToDevice(DeviceBuffer dst, uint64_t offset, const void* src,
                              uint64_t size) = 0;
  virtual Status CopyToHost(void* dst, DeviceBuffer src, uint64_t offset, uint64_t size) = 0;
  virtual Status Fill(DeviceBuffer dst, uint64_t offset, uint64_t size, uint8_t value) = 0;

  // Module images (CUDA: PTX or cubin; HIP: a code object). `name` ("image 0
  // (segment 3)") appears in messages. The bytes are not kept.
  virtual Result<GpuModule> LoadModule(const std::string& name, const uint8_t* data,
                                       uint64_t size) = 0;
  virtual Status UnloadModule(GpuModule module) = 0;
  virtual Result<GpuFunction> GetFunction(GpuModule module, const std::string& name) = 0;

  virtual Result<GpuStream> CreateStream() = 0;
  virtual Status DestroyStream(GpuStream stream) = 0;
  virtual Status Synchronize(GpuStream stream) = 0;
  virtual Status Launch(GpuStream stream, const KernelLaunch& launch) = 0;

  // Graphs: launches between BeginCapture and EndCapture on `stream` are
  // recorded, not run; EndCapture returns the instantiated graph, and
  // ReplayGraph runs all of it again on a stream.
  virtual Status BeginCapture(GpuStream stream) = 0;
  virtual Result<GpuGraph> EndCapture(GpuStream stream) = 0;
  virtual Status ReplayGraph(GpuGraph graph, GpuStream stream) = 0;
  virtual Status DestroyGraph(GpuGraph graph) = 0;

  // Captures `launches[0, count)` in order on `stream` into a graph. On a
  // failed launch the capture is ended and discarded.
  Result<GpuGraph> CaptureGraph(GpuStream stream, const KernelLaunch* launches, size_t count) {
    MOERT_RETURN_IF_ERROR(BeginCapture(stream));
    for (size_t i = 0; i < count; ++i) {
      Status status = Launch(stream, launches[i]);
      if (!status.ok()) {
        Result<GpuGraph> partial = EndCapture(stream);
        if (partial.ok()) (void)DestroyGraph(*partial);
        return status.Annotate(StrCat("capturing launch ", i, " of ", count));
      }
    }
    return EndCapture(stream);
  }

 protected:
  GpuDevice() = default;

  // OK when [offset, offset + size) lies inside `buffer` (overflow-checked);
  // the error names the call as "<api> <what>" ("CUDA copy to device").
  static Status CheckRange(const DeviceBuffer& buffer, uint64_t offset, uint64_t size,
                           const char* api, const char* what) {
    if (offset > buffer.size || size > buffer.size - offset) {
      return OutOfRange(api, " ", what, ": bytes [", offset, ", ", offset, " + ", size,
                        ") exceed the buffer of ", buffer.size, " bytes");
    }
    return Status::Ok();
  }
  // OK when the launch's parameter count is within kMaxKernelParameters.
  static Status CheckLaunch(const KernelLaunch& launch, const char* api) {
    if (launch.function == nullptr) return InvalidArgument(api, " launch: no function");
    uint64_t params = uint64_t{launch.binding_count} + launch.constant_count;
    if (params > kMaxKernelParameters) {
      return InvalidArgument(api, " launch: ", launch.binding_count, " bindings + ",
                             launch.constant_count, " constants exceed the maximum of ",
                             kMaxKernelParameters, " kernel parameters");
    }
    return Status::Ok();
  }
};

}  // namespace moert::hal

#endif  // MOERT_HAL_GPU_DEVICE_H_
