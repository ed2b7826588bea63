// The CUDA HAL against the fake driver (fake_cuda.cc): loading, every failure
// path a machine can present, and a device's memory, modules, launches and
// graphs.
#include "hal/cuda/device.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "fake_gpu_test.h"
#include "hal/cuda/driver.h"

namespace moert::hal::cuda {
namespace {

class CudaTest : public moert_fake::FakeGpuTest {
 protected:
  void SetUp() override {
    LoadFake(MOERT_FAKE_CUDA_PATH, "moert_fake_cuda", "MOERT_FAKE_CUDA");
    if (HasFatalFailure()) return;
    fake_.set_device("NVIDIA H100 80GB HBM3", 9, 0, 1);
    setenv(kDriverLibraryEnv, MOERT_FAKE_CUDA_PATH, 1);
  }
  void TearDown() override {
    unsetenv(kDriverLibraryEnv);
    FakeGpuTest::TearDown();
  }
  std::unique_ptr<CudaDevice> OpenOk(const std::string& target = "sm_90a") {
    return OpenDevice<CudaDevice>(target);
  }
};

TEST_F(CudaTest, MissingLibraryIsAClearError) {
  setenv(kDriverLibraryEnv, "/nonexistent/libcuda.so.1", 1);
  auto driver = Driver::Load();
  ASSERT_FALSE(driver.ok());
  EXPECT_EQ(driver.status().code(), StatusCode::kUnavailable);
  EXPECT_CONTAINS(driver.status().message(),
              "moert: CUDA driver /nonexistent/libcuda.so.1 not found (dlopen: ");
  EXPECT_CONTAINS(driver.status().message(),
              "): this artifact needs an NVIDIA GPU and its driver");
  auto device = CudaDevice::Open(0, "sm_90a");
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().message(), driver.status().message());
}

TEST_F(CudaTest, DefaultLibraryNameIsLibcudaSo1) {
  unsetenv(kDriverLibraryEnv);
  auto driver = Driver::Load();
  // This machine may or may not have a driver; either way no crash, and a
  // failure names libcuda.so.1.
  if (!driver.ok()) {
    EXPECT_CONTAINS(driver.status().message(), "moert: CUDA driver libcuda.so.1 ");
  } else {
    EXPECT_EQ((*driver)->library(), "libcuda.so.1");
  }
}

TEST_F(CudaTest, LibraryWithoutGetProcAddress) {
  auto driver = Driver::Load(MOERT_FAKE_CUDA_NOPROC_PATH);
  ASSERT_FALSE(driver.ok());
  EXPECT_CONTAINS(driver.status().message(), "has no cuGetProcAddress_v2 (dlsym: ");
  EXPECT_CONTAINS(driver.status().message(), MOERT_FAKE_CUDA_NOPROC_PATH);
}

TEST_F(CudaTest, MissingEntryPointIsNamed) {
  fake_.hide("cuGraphLaunch");
  auto driver = Driver::Load();
  ASSERT_FALSE(driver.ok());
  EXPECT_CONTAINS(driver.status().message(), "lacks cuGraphLaunch (version 10000");
  EXPECT_CONTAINS(driver.status().message(),
              "CUDA_ERROR_NOT_FOUND (named symbol not found), "
                        "CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND");
}

TEST_F(CudaTest, EntryPointsComeFromGetProcAddressNotDlsym) {
  auto driver = Driver::Load();
  ASSERT_TRUE(driver.ok()) << driver.status().ToString();
  // The legacy export a plain dlsym would find is not what the table holds.
  void* legacy = dlsym(handle_, "cuMemAlloc");
  ASSERT_NE(legacy, nullptr);
  EXPECT_NE(reinterpret_cast<void*>((*driver)->symbols().cuMemAlloc_v2), legacy);
  EXPECT_NE((*driver)->symbols().cuGraphInstantiateWithFlags, nullptr);
  EXPECT_NE((*driver)->symbols().cuStreamBeginCapture_v2, nullptr);
}

TEST_F(CudaTest, InitFailureNamesTheError) {
  fake_.fail("cuInit", CUDA_ERROR_NOT_INITIALIZED);
  auto device = CudaDevice::Open(0, "sm_90a");
  ASSERT_FALSE(device.ok());
  EXPECT_CONTAINS(device.status().message(),
              "CUDA cuInit failed: CUDA_ERROR_NOT_INITIALIZED (initialization error)");
}

TEST_F(CudaTest, FailureFromTheEnvironment) {
  setenv("MOERT_FAKE_CUDA_FAIL", "cuInit=999", 1);
  fake_.reset();
  auto device = CudaDevice::Open(0, "sm_90a");
  ASSERT_FALSE(device.ok());
  EXPECT_CONTAINS(device.status().message(),
              "cuInit failed: CUDA_ERROR_UNKNOWN (unknown error)");
}

TEST_F(CudaTest, ErrorWithoutANameStillReadable) {
  fake_.fail("cuDriverGetVersion", 12345);
  auto device = CudaDevice::Open(0, "sm_90a");
  ASSERT_FALSE(device.ok());
  EXPECT_CONTAINS(device.status().message(),
              "cuDriverGetVersion failed: CUresult 12345 (no description)");
}

TEST_F(CudaTest, ZeroDevices) {
  fake_.set_device("none", 9, 0, 0);
  auto device = CudaDevice::Open(0, "sm_90a");
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), StatusCode::kUnavailable);
  EXPECT_CONTAINS(device.status().message(), "moert: no CUDA device found");
  EXPECT_CONTAINS(device.status().message(), "CUDA_ERROR_NO_DEVICE");
}

TEST_F(CudaTest, OrdinalOutOfRange) {
  auto device = CudaDevice::Open(3, "sm_90a");
  ASSERT_FALSE(device.ok());
  EXPECT_CONTAINS(device.status().message(),
              "CUDA device 3 requested but the driver reports 1 device (0 to 0)");
}

TEST_F(CudaTest, WrongArchitecture) {
  fake_.set_device("NVIDIA A100", 8, 0, 1);
  auto device = CudaDevice::Open(0, "sm_90a");
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_CONTAINS(device.status().message(),
              "the artifact targets sm_90a but device 0 (NVIDIA A100) is sm_80");
  // No context was retained for a device that is refused.
  EXPECT_EQ(fake_.context_refs(), 0);
}

TEST_F(CudaTest, ArchSpecificTargetsNeedTheExactCapability) {
  fake_.set_device("NVIDIA B200", 10, 0, 1);
  EXPECT_FALSE(CudaDevice::Open(0, "sm_90a").ok());
  EXPECT_TRUE(CudaDevice::Open(0, "sm_100a").ok());
  fake_.set_device("NVIDIA L40S", 8, 9, 1);
  EXPECT_TRUE(CudaDevice::Open(0, "sm_80").ok());
  EXPECT_FALSE(CudaDevice::Open(0, "sm_80a").ok());
}

TEST_F(CudaTest, ParseTargets) {
  auto t = ParseCudaTarget("sm_90a");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->major, 9);
  EXPECT_EQ(t->minor, 0);
  EXPECT_TRUE(t->arch_specific);
  t = ParseCudaTarget("sm_120");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->major, 12);
  EXPECT_FALSE(t->arch_specific);
  for (const char* bad : {"", "sm_", "sm_9", "gfx942", "sm_90b", "sm_90aa", "sm_1000"}) {
    auto r = ParseCudaTarget(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_CONTAINS(r.status().message(), "sm_<major><minor>[a]") << bad;
  }
}

TEST_F(CudaTest, OpenReportsTheDevice) {
  auto device = OpenOk();
  ASSERT_NE(device, nullptr);
  const GpuDeviceInfo& info = device->info();
  EXPECT_EQ(info.api, "CUDA");
  EXPECT_EQ(info.name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(info.arch, "sm_90");
  EXPECT_EQ(info.compute_major, 9);
  EXPECT_EQ(info.driver_version, 12080);
  EXPECT_EQ(info.multiprocessor_count, 132);
  EXPECT_EQ(info.max_shared_memory_per_block_optin, 232448);
  EXPECT_EQ(info.total_memory, uint64_t{80} << 30);
  EXPECT_EQ(fake_.context_refs(), 1);
  device.reset();
  EXPECT_EQ(fake_.context_refs(), 0);
}

TEST_F(CudaTest, AllocCopyModuleLaunchAndGraphReplay) {
  auto device = OpenOk();
  ASSERT_NE(device, nullptr);
  ExpectMemoryModulesLaunchesAndGraphs(*device);
}

TEST_F(CudaTest, DeviceReleasesWhatIsLeft) {
  auto device = OpenOk();
  ASSERT_NE(device, nullptr);
  ASSERT_TRUE(device->Allocate(128).ok());
  ASSERT_TRUE(device->Allocate(256).ok());
  ASSERT_TRUE(device->CreateStream().ok());
  EXPECT_EQ(fake_.live_allocations(), 2);
  device.reset();
  EXPECT_EQ(fake_.live_allocations(), 0);
  EXPECT_EQ(fake_.context_refs(), 0);
}

TEST_F(CudaTest, OperationErrorsAreStatuses) {
  auto device = OpenOk();
  ASSERT_NE(device, nullptr);
  auto buffer = device->Allocate(16);
  ASSERT_TRUE(buffer.ok());
  uint8_t bytes[32] = {};

  Status range = device->CopyToDevice(*buffer, 8, bytes, 16);
  EXPECT_EQ(range.code(), StatusCode::kOutOfRange);
  EXPECT_CONTAINS(range.message(), "bytes [8, 8 + 16) exceed the buffer of 16 bytes");
  EXPECT_EQ(device->CopyToHost(bytes, *buffer, ~uint64_t{0}, 2).code(), StatusCode::kOutOfRange);

  fake_.fail("cuMemAlloc", CUDA_ERROR_OUT_OF_MEMORY);
  auto big = device->Allocate(1 << 20);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_CONTAINS(big.status().message(),
              "cuMemAlloc_v2(1048576 bytes) on device 0 (NVIDIA H100 80GB HBM3");
  EXPECT_CONTAINS(big.status().message(), "CUDA_ERROR_OUT_OF_MEMORY (out of memory)");

  const std::string junk = "not a module";
  auto module = device->LoadModule("image 3", reinterpret_cast<const uint8_t*>(junk.data()),
                                   junk.size());
  ASSERT_FALSE(module.ok());
  EXPECT_EQ(module.status().code(), StatusCode::kDataLoss);
  EXPECT_CONTAINS(module.status().message(),
              "cuModuleLoadData(image 3, 12 bytes, PTX) on device 0 (sm_90) failed: "
                        "CUDA_ERROR_INVALID_IMAGE");

  const std::string image = "MOERT_FAKE_MODULE add_one";
  auto good = device->LoadModule("image 0", reinterpret_cast<const uint8_t*>(image.data()),
                                 image.size());
  ASSERT_TRUE(good.ok());
  auto missing = device->GetFunction(*good, "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_CONTAINS(missing.status().message(),
              "cuModuleGetFunction(image 0, \"nope\") failed: CUDA_ERROR_NOT_FOUND");

  auto fn = device->GetFunction(*good, "add_one");
  ASSERT_TRUE(fn.ok());
  auto stream = device->CreateStream();
  ASSERT_TRUE(stream.ok());
  KernelLaunch launch;
  launch.function = *fn;
  launch.block[0] = 128;
  fake_.fail("cuLaunchKernel", CUDA_ERROR_INVALID_VALUE);
  Status launched = device->Launch(*stream, launch);
  EXPECT_CONTAINS(launched.message(),
              "cuLaunchKernel(add_one, grid 1x1x1, block 128x1x1, 0 bytes of shared "
                        "memory) failed: CUDA_ERROR_INVALID_VALUE (invalid argument)");
  // A failed launch during capture ends the capture and names the launch.
  auto graph = device->CaptureGraph(*stream, &launch, 1);
  ASSERT_FALSE(graph.ok());
  EXPECT_CONTAINS(graph.status().message(), "capturing launch 0 of 1: CUDA cuLaunchKernel");
  EXPECT_TRUE(device->BeginCapture(*stream).ok());
  auto ended = device->EndCapture(*stream);
  EXPECT_TRUE(ended.ok()) << ended.status().ToString();

  std::vector<uint32_t> many(kMaxKernelParameters + 1);
  launch.constants = many.data();
  launch.constant_count = static_cast<uint32_t>(many.size());
  EXPECT_CONTAINS(device->Launch(*stream, launch).message(),
              "0 bindings + 257 constants exceed the maximum of 256");

  fake_.fail("cuGraphInstantiateWithFlags", CUDA_ERROR_OUT_OF_MEMORY);
  ASSERT_TRUE(device->BeginCapture(*stream).ok());
  auto not_instantiated = device->EndCapture(*stream);
  ASSERT_FALSE(not_instantiated.ok());
  EXPECT_CONTAINS(not_instantiated.status().message(),
              "cuGraphInstantiateWithFlags failed: CUDA_ERROR_OUT_OF_MEMORY");
}

}  // namespace
}  // namespace moert::hal::cuda
