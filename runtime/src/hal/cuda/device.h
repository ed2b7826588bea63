// A CUDA device through the driver API: the GpuDevice of gpu_device.h on one
// GPU's primary context.
//
// Opening checks the device against the artifact's target: "sm_XYa" (an
// architecture-specific target such as sm_90a) needs compute capability X.Y
// exactly; "sm_XY" needs major X and minor Y or above.
#ifndef MOERT_HAL_CUDA_DEVICE_H_
#define MOERT_HAL_CUDA_DEVICE_H_

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/status.h"
#include "hal/cuda/driver.h"
#include "hal/gpu_device.h"

namespace moert::hal::cuda {

// An artifact's CUDA target ("sm_90a" -> 9, 0, arch_specific).
struct CudaTarget {
  int major = 0;
  int minor = 0;
  bool arch_specific = false;
};
Result<CudaTarget> ParseCudaTarget(const std::string& target);

class CudaDevice final : public GpuDevice {
 public:
  // Initializes the driver, opens device `ordinal` and checks it runs
  // `target` ("sm_90a").
  static Result<std::unique_ptr<CudaDevice>> Open(std::shared_ptr<const Driver> driver,
                                                  int ordinal, const std::string& target);
  // Driver::Load() (MOERT_CUDA_DRIVER or libcuda.so.1), then Open.
  static Result<std::unique_ptr<CudaDevice>> Open(int ordinal, const std::string& target);
  ~CudaDevice() override;

  const GpuDeviceInfo& info() const override { return info_; }
  const Driver& driver() const { return *driver_; }

  Result<DeviceBuffer> Allocate(uint64_t size) override;
  Status Free(DeviceBuffer buffer) override;
  Status CopyToDevice(DeviceBuffer dst, uint64_t offset, const void* src, uint64_t size) override;
  Status CopyToHost(void* dst, DeviceBuffer src, uint64_t offset, uint64_t size) override;
  Status Fill(DeviceBuffer dst, uint64_t offset, uint64_t size, uint8_t value) override;

  Result<GpuModule> LoadModule(const std::string& name, const uint8_t* data,
                               uint64_t size) override;
  Status UnloadModule(GpuModule module) override;
  Result<GpuFunction> GetFunction(GpuModule module, const std::string& name) override;

  Result<GpuStream> CreateStream() override;
  Status DestroyStream(GpuStream stream) override;
  Status Synchronize(GpuStream stream) override;
  Status Launch(GpuStream stream, const KernelLaunch& launch) override;

  Status BeginCapture(GpuStream stream) override;
  Result<GpuGraph> EndCapture(GpuStream stream) override;
  Status ReplayGraph(GpuGraph graph, GpuStream stream) override;
  Status DestroyGraph(GpuGraph graph) override;

 private:
  CudaDevice() = default;
  // Makes the primary context current on the calling thread.
  Status MakeCurrent();
  Status Check(CUresult result, const std::string& call) const {
    return driver_->Check(result, call);
  }

  std::shared_ptr<const Driver> driver_;
  GpuDeviceInfo info_;
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  // Everything still alive, released by the destructor.
  std::unordered_set<CUdeviceptr> buffers_;
  std::unordered_map<CUmodule, std::string> modules_;
  std::unordered_map<CUfunction, std::string> functions_;
  std::unordered_set<CUstream> streams_;
  std::unordered_set<CUgraphExec> graphs_;
};

}  // namespace moert::hal::cuda

#endif  // MOERT_HAL_CUDA_DEVICE_H_
