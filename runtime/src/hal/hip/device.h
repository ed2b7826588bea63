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

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/status.h"
#include "hal/hip/driver.h"
#include "hal/gpu_device.h"

namespace moert::hal::hip {

// An artifact's HIP target ("gfx942" -> 9, 4, 2; "gfx90a" -> 9, 0, 10).
struct HipTarget {
  int major = 0;
  int minor = 0;
  int stepping = 0;
};
Result<HipTarget> ParseHipTarget(const std::string& target);

class HipDevice final : public GpuDevice {
 public:
  // Initializes the driver, opens device `ordinal` and checks it runs
  // `target` ("gfx942").
  static Result<std::unique_ptr<HipDevice>> Open(std::shared_ptr<const Driver> driver,
                                                  int ordinal, const std::string& target);
  // Driver::Load() (MOERT_HIP_RUNTIME or libamdhip64.so), then Open.
  static Result<std::unique_ptr<HipDevice>> Open(int ordinal, const std::string& target);
  ~HipDevice() override;

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
  HipDevice() = default;
  // Makes this device current on the calling thread.
  Status MakeCurrent();
  Status Check(hipError_t result, const std::string& call) const {
    return driver_->Check(result, call);
  }

  std::shared_ptr<const Driver> driver_;
  GpuDeviceInfo info_;
  hipDevice_t device_ = 0;
  bool open_ = false;
  // Everything still alive, released by the destructor.
  std::unordered_set<void*> buffers_;
  std::unordered_map<hipModule_t, std::string> modules_;
  std::unordered_map<hipFunction_t, std::string> functions_;
  std::unordered_set<hipStream_t> streams_;
  std::unordered_set<hipGraphExec_t> graphs_;
};

}  // namespace moert::hal::hip

#endif  // MOERT_HAL_HIP_DEVICE_H_
