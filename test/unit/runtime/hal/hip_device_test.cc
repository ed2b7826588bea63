// The HIP HAL against the fake runtime (fake_hip.cc): loading, every failure
// path a machine can present, and a device's memory, modules, launches and
// graphs, through the same GpuDevice interface as CUDA.
#include "hal/hip/device.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "fake_gpu_test.h"
#include "hal/hip/driver.h"

namespace moert::hal::hip {
namespace {

class HipTest : public moert_fake::FakeGpuTest {
 protected:
  void SetUp() override {
    LoadFake(MOERT_FAKE_HIP_PATH, "moert_fake_hip", "MOERT_FAKE_HIP");
    if (HasFatalFailure()) return;
    fake_.set_device("AMD Instinct MI300X", 9, 4, 1);
    setenv(kRuntimeLibraryEnv, MOERT_FAKE_HIP_PATH, 1);
  }
  void TearDown() override {
    unsetenv(kRuntimeLibraryEnv);
    FakeGpuTest::TearDown();
  }
  std::unique_ptr<GpuDevice> OpenOk() { return OpenDevice<HipDevice>("gfx942"); }
};

TEST_F(HipTest, MissingLibraryIsAClearError) {
  setenv(kRuntimeLibraryEnv, "/nonexistent/libamdhip64.so", 1);
  auto device = HipDevice::Open(0, "gfx942");
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), StatusCode::kUnavailable);
  EXPECT_CONTAINS(device.status().message(),
                  "moert: HIP runtime /nonexistent/libamdhip64.so not found (dlopen: ");
  EXPECT_CONTAINS(device.status().message(), "this artifact needs an AMD GPU");
}

TEST_F(HipTest, DefaultLibraryName) {
  unsetenv(kRuntimeLibraryEnv);
  auto driver = Driver::Load();
  if (!driver.ok()) {
    EXPECT_CONTAINS(driver.status().message(), "moert: HIP runtime libamdhip64.so ");
  } else {
    EXPECT_EQ((*driver)->library(), "libamdhip64.so");
  }
}

TEST_F(HipTest, MissingEntryPointIsNamed) {
  auto driver = Driver::Load(MOERT_FAKE_HIP_PARTIAL_PATH);
  ASSERT_FALSE(driver.ok());
  EXPECT_CONTAINS(driver.status().message(), "lacks hipGraphDestroy (dlsym: ");
  EXPECT_CONTAINS(driver.status().message(), MOERT_FAKE_HIP_PARTIAL_PATH);
}

TEST_F(HipTest, InitFailureNamesTheError) {
  fake_.fail("hipInit", hipErrorNotInitialized);
  auto device = HipDevice::Open(0, "gfx942");
  ASSERT_FALSE(device.ok());
  EXPECT_CONTAINS(device.status().message(),
                  "HIP hipInit failed: hipErrorNotInitialized (initialization error)");
}

TEST_F(HipTest, FailureFromTheEnvironment) {
  setenv("MOERT_FAKE_HIP_FAIL", "hipDeviceGetAttribute=101", 1);
  fake_.reset();
  auto device = HipDevice::Open(0, "gfx942");
  ASSERT_FALSE(device.ok());
  EXPECT_CONTAINS(device.status().message(),
                  "hipDeviceGetAttribute(ComputeCapabilityMajor) of device 0 failed: "
                  "hipErrorInvalidDevice (invalid device ordinal)");
}

TEST_F(HipTest, ZeroDevices) {
  fake_.set_device("none", 9, 4, 0);
  auto device = HipDevice::Open(0, "gfx942");
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), StatusCode::kUnavailable);
  EXPECT_CONTAINS(device.status().message(), "moert: no HIP device found (hipGetDeviceCount: ");
  EXPECT_CONTAINS(device.status().message(), "hipErrorNoDevice");
}

TEST_F(HipTest, OrdinalOutOfRange) {
  fake_.set_device("AMD Instinct MI300X", 9, 4, 2);
  auto device = HipDevice::Open(2, "gfx942");
  ASSERT_FALSE(device.ok());
  EXPECT_CONTAINS(device.status().message(),
                  "HIP device 2 requested but the runtime reports 2 devices (0 to 1)");
}

TEST_F(HipTest, WrongArchitecture) {
  fake_.set_device("AMD Instinct MI210", 9, 0, 1);  // gfx90a
  auto device = HipDevice::Open(0, "gfx942");
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_CONTAINS(device.status().message(),
                  "the artifact targets gfx942 but device 0 (AMD Instinct MI210) is gfx90x "
                  "(compute capability 9.0; gfx942 needs 9.4)");
  EXPECT_TRUE(HipDevice::Open(0, "gfx90a").ok());
}

TEST_F(HipTest, ParseTargets) {
  auto t = ParseHipTarget("gfx942");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->major, 9);
  EXPECT_EQ(t->minor, 4);
  EXPECT_EQ(t->stepping, 2);
  t = ParseHipTarget("gfx90a");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->stepping, 10);
  t = ParseHipTarget("gfx1100");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->major, 11);
  for (const char* bad : {"", "gfx", "gfx94", "sm_90a", "gfx9x2", "gfx94g", "gfx12345"}) {
    auto r = ParseHipTarget(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_CONTAINS(r.status().message(), "gfx<major><minor><stepping>") << bad;
  }
}

TEST_F(HipTest, AllocCopyModuleLaunchAndGraphReplay) {
  std::unique_ptr<GpuDevice> device = OpenOk();
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(device->info().api, "HIP");
  EXPECT_EQ(device->info().name, "AMD Instinct MI300X");
  EXPECT_EQ(device->info().arch, "gfx94x");
  EXPECT_EQ(device->info().multiprocessor_count, 132);
  ExpectMemoryModulesLaunchesAndGraphs(*device);
}

TEST_F(HipTest, DeviceReleasesWhatIsLeft) {
  std::unique_ptr<GpuDevice> device = OpenOk();
  ASSERT_NE(device, nullptr);
  ASSERT_TRUE(device->Allocate(64).ok());
  EXPECT_EQ(fake_.live_allocations(), 1);
  device.reset();
  EXPECT_EQ(fake_.live_allocations(), 0);
}

TEST_F(HipTest, OperationErrorsAreStatuses) {
  std::unique_ptr<GpuDevice> device = OpenOk();
  ASSERT_NE(device, nullptr);
  auto buffer = device->Allocate(16);
  ASSERT_TRUE(buffer.ok());
  uint8_t bytes[32] = {};
  EXPECT_EQ(device->CopyToDevice(*buffer, 1, bytes, 16).code(), StatusCode::kOutOfRange);

  fake_.fail("hipMalloc", hipErrorOutOfMemory);
  auto big = device->Allocate(4096);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_CONTAINS(big.status().message(),
                  "hipMalloc(4096 bytes) on device 0 (AMD Instinct MI300X");
  EXPECT_CONTAINS(big.status().message(), "hipErrorOutOfMemory (out of memory)");

  const std::string junk = "ELF?";
  auto module = device->LoadModule("image 2", reinterpret_cast<const uint8_t*>(junk.data()),
                                   junk.size() + 1);
  ASSERT_FALSE(module.ok());
  EXPECT_EQ(module.status().code(), StatusCode::kDataLoss);
  EXPECT_CONTAINS(module.status().message(),
                  "hipModuleLoadData(image 2, 5 bytes) on device 0 (gfx94x) failed: "
                  "hipErrorInvalidImage");

  const std::string image = "MOERT_FAKE_MODULE k";
  auto good = device->LoadModule("image 0", reinterpret_cast<const uint8_t*>(image.data()),
                                 image.size() + 1);
  ASSERT_TRUE(good.ok());
  auto missing = device->GetFunction(*good, "add_one");
  ASSERT_FALSE(missing.ok());
  EXPECT_CONTAINS(missing.status().message(),
                  "hipModuleGetFunction(image 0, \"add_one\") failed: hipErrorNotFound");
  auto k = device->GetFunction(*good, "k");
  ASSERT_TRUE(k.ok());
  auto stream = device->CreateStream();
  ASSERT_TRUE(stream.ok());
  KernelLaunch launch;
  launch.function = *k;
  fake_.fail("hipModuleLaunchKernel", hipErrorInvalidValue);
  EXPECT_CONTAINS(device->Launch(*stream, launch).message(),
                  "hipModuleLaunchKernel(k, grid 1x1x1, block 1x1x1, 0 bytes of shared memory) "
                  "failed: hipErrorInvalidValue (invalid argument)");
  fake_.fail("hipGraphInstantiate", hipErrorOutOfMemory);
  ASSERT_TRUE(device->BeginCapture(*stream).ok());
  auto graph = device->EndCapture(*stream);
  ASSERT_FALSE(graph.ok());
  EXPECT_CONTAINS(graph.status().message(), "hipGraphInstantiate failed: hipErrorOutOfMemory");
}

}  // namespace
}  // namespace moert::hal::hip
