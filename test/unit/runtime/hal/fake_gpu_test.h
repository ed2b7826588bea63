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
