// The fixture both GPU HAL tests (cuda_device_test.cc, hip_device_test.cc)
// share: it opens the fake driver library the loader will open, finds the
// fake's test controls there (fake_cuda.cc / fake_hip.cc export them as
// <prefix>_reset, <prefix>_fail, ...), and starts each test from a reset fake
// with no failures injected through the environment.
#ifndef MOERT_TEST_FAKE_GPU_TEST_H_
#define MOERT_TEST_FAKE_GPU_TEST_H_

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "hal/gpu_device.h"

#define EXPECT_CONTAINS(text, needle) \
  EXPECT_NE(std::string(text).find(needle), std::string::npos) << (text)

namespace moert_fake {

// The fake's test controls, looked up in the same library the loader opens.
// `hide` and `context_refs` are null where a fake lacks them (HIP).
struct FakeControls {
  void (*reset)() = nullptr;
  void (*set_device)(const char*, int, int, int) = nullptr;
  void (*fail)(const char*, int) = nullptr;
  void (*hide)(const char*) = nullptr;
  const char* (*log)() = nullptr;
  int (*live_allocations)() = nullptr;
  int (*context_refs)() = nullptr;
};

class FakeGpuTest : public ::testing::Test {
 protected:
  // Opens the fake at `path`, finds its controls "<symbol_prefix>_reset"...,
  // clears $<env_prefix>_FAIL and _HIDE and resets the fake. Check
  // HasFatalFailure() after.
  void LoadFake(const char* path, const std::string& symbol_prefix, const std::string& env_prefix) {
    env_prefix_ = env_prefix;
    handle_ = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle_, nullptr) << dlerror();
    fake_.reset = Sym<void (*)()>((symbol_prefix + "_reset").c_str());
    fake_.set_device =
        Sym<void (*)(const char*, int, int, int)>((symbol_prefix + "_set_device").c_str());
    fake_.fail = Sym<void (*)(const char*, int)>((symbol_prefix + "_fail").c_str());
    fake_.hide = Sym<void (*)(const char*)>((symbol_prefix + "_hide").c_str(), /*optional=*/true);
    fake_.log = Sym<const char* (*)()>((symbol_prefix + "_log").c_str());
    fake_.live_allocations = Sym<int (*)()>((symbol_prefix + "_live_allocations").c_str());
    fake_.context_refs =
        Sym<int (*)()>((symbol_prefix + "_context_refs").c_str(), /*optional=*/true);
    ClearEnvironment();
    fake_.reset();
  }
  void TearDown() override {
    ClearEnvironment();
    if (handle_ != nullptr) dlclose(handle_);
  }

  template <typename T>
  T Sym(const char* name, bool optional = false) {
    void* p = dlsym(handle_, name);
    if (!optional) EXPECT_NE(p, nullptr) << name;
    return reinterpret_cast<T>(p);
  }
  std::string Log() const { return fake_.log(); }
  static int Count(const std::string& text, const std::string& needle) {
    int n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
  }
  // Device::Open(0, target), expected to succeed; null where it did not.
  template <typename Device>
  static std::unique_ptr<Device> OpenDevice(const std::string& target) {
    auto device = Device::Open(0, target);
    EXPECT_TRUE(device.ok()) << device.status().ToString();
    return device.ok() ? std::move(device).value() : nullptr;
  }

  // What every GpuDevice must do, on the fake: allocate, copy both ways,
  // load a module and find its function, launch it directly, capture it
  // into a graph and replay that twice (the fake's add_one adds 1 to each
  // element), fill bytes, and release everything; a second free fails.
  void ExpectMemoryModulesLaunchesAndGraphs(moert::hal::GpuDevice& device) {
    using moert::hal::KernelLaunch;
    constexpr uint32_t kN = 64;
    std::vector<uint32_t> host(kN);
    for (uint32_t i = 0; i < kN; ++i) host[i] = i * 10;
    auto buffer = device.Allocate(kN * sizeof(uint32_t));
    ASSERT_TRUE(buffer.ok()) << buffer.status().ToString();
    ASSERT_TRUE(device.CopyToDevice(*buffer, 0, host.data(), kN * 4).ok());
    std::vector<uint32_t> back(kN, 0);
    ASSERT_TRUE(device.CopyToHost(back.data(), *buffer, 0, kN * 4).ok());
    EXPECT_EQ(back, host);

    const std::string image = "MOERT_FAKE_MODULE add_one other";
    auto module = device.LoadModule("image 0", reinterpret_cast<const uint8_t*>(image.data()), image.size());
    ASSERT_TRUE(module.ok()) << module.status().ToString();
    auto add_one = device.GetFunction(*module, "add_one");
    ASSERT_TRUE(add_one.ok()) << add_one.status().ToString();
    auto stream = device.CreateStream();
    ASSERT_TRUE(stream.ok());

    const uint64_t bindings[] = {buffer->address};
    const uint32_t constants[] = {kN};
    KernelLaunch launch;
    launch.function = *add_one;
    launch.grid[0] = 2;
    launch.block[0] = 64;
    launch.shared_memory_bytes = 1024;
    launch.bindings = bindings;
    launch.binding_count = 1;
    launch.constants = constants;
    launch.constant_count = 1;
    ASSERT_TRUE(device.Launch(*stream, launch).ok());
    EXPECT_EQ(Count(Log(), "launch add_one grid=2,1,1 block=64,1,1 shared=1024\n"), 1);

    auto graph = device.CaptureGraph(*stream, &launch, 1);
    ASSERT_TRUE(graph.ok()) << graph.status().ToString();
    EXPECT_EQ(Count(Log(), "capture add_one"), 1);
    EXPECT_EQ(Count(Log(), "replay add_one"), 0);
    ASSERT_TRUE(device.ReplayGraph(*graph, *stream).ok());
    ASSERT_TRUE(device.ReplayGraph(*graph, *stream).ok());
    ASSERT_TRUE(device.Synchronize(*stream).ok());
    EXPECT_EQ(Count(Log(), "replay add_one grid=2,1,1 block=64,1,1 shared=1024\n"), 2);
    EXPECT_EQ(Count(Log(), "launch add_one"), 1);

    // One direct launch and two replays: each element went up by 3.
    ASSERT_TRUE(device.CopyToHost(back.data(), *buffer, 0, kN * 4).ok());
    for (uint32_t i = 0; i < kN; ++i) ASSERT_EQ(back[i], i * 10 + 3) << i;

    ASSERT_TRUE(device.Fill(*buffer, 4, 8, 0xff).ok());
    ASSERT_TRUE(device.CopyToHost(back.data(), *buffer, 0, kN * 4).ok());
    EXPECT_EQ(back[0], 3u);
    EXPECT_EQ(back[1], 0xffffffffu);
    EXPECT_EQ(back[2], 0xffffffffu);
    EXPECT_EQ(back[3], 33u);

    EXPECT_TRUE(device.DestroyGraph(*graph).ok());
    EXPECT_TRUE(device.DestroyStream(*stream).ok());
    EXPECT_TRUE(device.UnloadModule(*module).ok());
    EXPECT_TRUE(device.Free(*buffer).ok());
    EXPECT_EQ(fake_.live_allocations(), 0);
    EXPECT_FALSE(device.Free(*buffer).ok());
  }

  void* handle_ = nullptr;
  FakeControls fake_{};

 private:
  void ClearEnvironment() {
    unsetenv((env_prefix_ + "_FAIL").c_str());
    unsetenv((env_prefix_ + "_HIDE").c_str());
  }

  std::string env_prefix_;
};

}  // namespace moert_fake

#endif  // MOERT_TEST_FAKE_GPU_TEST_H_
