#include "hal/cpu/executable.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/file_map.h"

namespace moert::hal::cpu {
namespace {

const uint8_t* Bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

std::string KernelImage() {
  auto bytes = ReadFileToString(MOERT_TEST_KERNELS_PATH);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::string();
}

std::unique_ptr<ThreadPool> MakePool(uint32_t threads) {
  auto pool = ThreadPool::Create(threads);
  EXPECT_TRUE(pool.ok()) << pool.status().ToString();
  return std::move(pool).value();
}

class ExecutableTest : public ::testing::TestWithParam<bool> {};

TEST_P(ExecutableTest, VectorAddOverSeveralWorkgroupsAndThreadCounts) {
  const std::string image = KernelImage();
  LoadOptions options;
  options.force_temp_file = GetParam();
  auto exe = Executable::Load("test image", Bytes(image), image.size(),
                              {"moert_test_vector_add", "moert_test_gather_scale"}, options);
  ASSERT_TRUE(exe.ok()) << exe.status().ToString();
  EXPECT_EQ((*exe)->kernel_count(), 2u);
  EXPECT_EQ((*exe)->loaded_from_temp_file(), GetParam());

  constexpr uint32_t kN = 1001, kBlock = 64;
  std::vector<float> a(kN), b(kN);
  for (uint32_t i = 0; i < kN; ++i) {
    a[i] = static_cast<float>(i);
    b[i] = 0.5f * static_cast<float>(i);
  }
  for (uint32_t threads : {1u, 2u, 5u}) {
    auto pool = MakePool(threads);
    std::vector<float> out(kN, -1.0f);
    void* bindings[] = {a.data(), b.data(), out.data()};
    const uint32_t constants[] = {kN, kBlock};
    (*exe)->Dispatch(0, bindings, constants, (kN + kBlock - 1) / kBlock, 1, 1, *pool);
    for (uint32_t i = 0; i < kN; ++i) ASSERT_EQ(out[i], 1.5f * static_cast<float>(i)) << i;
  }
}

TEST_P(ExecutableTest, EmbeddingGatherAndRowScale) {
  const std::string image = KernelImage();
  LoadOptions options;
  options.force_temp_file = GetParam();
  auto exe = Executable::Load("test image", Bytes(image), image.size(),
                              {"moert_test_gather_scale"}, options);
  ASSERT_TRUE(exe.ok()) << exe.status().ToString();
  constexpr uint32_t kVocab = 10, kDim = 7, kRows = 4, kBlock = 3;
  std::vector<float> table(kVocab * kDim);
  for (uint32_t t = 0; t < kVocab; ++t)
    for (uint32_t c = 0; c < kDim; ++c) table[t * kDim + c] = static_cast<float>(t * 100 + c);
  std::vector<int32_t> tokens = {3, 9, 0, 3};
  std::vector<float> scales = {1.0f, 2.0f, -1.0f, 0.5f};
  for (uint32_t threads : {1u, 3u}) {
    auto pool = MakePool(threads);
    std::vector<float> out(kRows * kDim, 0.0f);
    void* bindings[] = {tokens.data(), table.data(), scales.data(), out.data()};
    const uint32_t constants[] = {kDim, kBlock};
    (*exe)->Dispatch(0, bindings, constants, kRows, (kDim + kBlock - 1) / kBlock, 1, *pool);
    for (uint32_t r = 0; r < kRows; ++r)
      for (uint32_t c = 0; c < kDim; ++c)
        EXPECT_EQ(out[r * kDim + c], table[tokens[r] * kDim + c] * scales[r]) << r << "," << c;
  }
}

INSTANTIATE_TEST_SUITE_P(MemfdAndTempFile, ExecutableTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "TempFile" : "Memfd"; });

TEST(ExecutableLoadTest, EveryWorkgroupOfA3dGridRunsOnce) {
  const std::string image = KernelImage();
  auto exe = Executable::Load("grid", Bytes(image), image.size(), {"moert_test_count_workgroups"});
  ASSERT_TRUE(exe.ok()) << exe.status().ToString();
  auto pool = MakePool(4);
  constexpr uint32_t kX = 5, kY = 3, kZ = 4;
  std::vector<uint32_t> counts(kX * kY * kZ, 0);
  void* bindings[] = {counts.data()};
  const uint32_t constants[] = {kX, kY};
  (*exe)->Dispatch(0, bindings, constants, kX, kY, kZ, *pool);
  for (size_t i = 0; i < counts.size(); ++i) EXPECT_EQ(counts[i], 1u) << i;
}

TEST(ExecutableLoadTest, TwoImagesLoadedOneAfterTheOtherStayDistinct) {
  // glibc recognizes a loaded object by path; a reused /proc/self/fd/N must
  // not hand back the earlier image.
  const std::string image = KernelImage();
  auto first = Executable::Load("first", Bytes(image), image.size(), {"moert_test_vector_add"});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = Executable::Load("second", Bytes(image), image.size(), {"moert_test_vector_add"});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(reinterpret_cast<void*>((*first)->kernel(0)), reinterpret_cast<void*>((*second)->kernel(0)));
  first->reset();
  auto third = Executable::Load("third", Bytes(image), image.size(), {"moert_test_vector_add"});
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  auto pool = MakePool(1);
  float a[2] = {1, 2}, b[2] = {3, 4}, out[2] = {0, 0};
  void* bindings[] = {a, b, out};
  const uint32_t constants[] = {2, 2};
  (*third)->Dispatch(0, bindings, constants, 1, 1, 1, *pool);
  EXPECT_EQ(out[0], 4.0f);
  EXPECT_EQ(out[1], 6.0f);
}

TEST(ExecutableLoadTest, MissingSymbolNamesImageSymbolAndDlerror) {
  const std::string image = KernelImage();
  auto exe = Executable::Load("image 2 (segment 5)", Bytes(image), image.size(),
                              {"moert_test_vector_add", "layer3_missing_kernel"});
  ASSERT_FALSE(exe.ok());
  const std::string message = exe.status().ToString();
  EXPECT_EQ(exe.status().code(), StatusCode::kNotFound) << message;
  EXPECT_NE(message.find("image 2 (segment 5)"), std::string::npos) << message;
  EXPECT_NE(message.find("'layer3_missing_kernel'"), std::string::npos) << message;
  EXPECT_NE(message.find("kernel 1"), std::string::npos) << message;
  // dlerror's own text ("undefined symbol: ...").
  EXPECT_NE(message.find("undefined symbol"), std::string::npos) << message;
}

TEST(ExecutableLoadTest, NonElfBlobIsRefused) {
  const std::string blob = "this is certainly not a shared object, just some text bytes....";
  auto exe = Executable::Load("image 0 (segment 1)", Bytes(blob), blob.size(), {"k"});
  ASSERT_FALSE(exe.ok());
  const std::string message = exe.status().ToString();
  EXPECT_EQ(exe.status().code(), StatusCode::kInvalidArgument) << message;
  EXPECT_NE(message.find("image 0 (segment 1)"), std::string::npos) << message;
  EXPECT_NE(message.find("not an ELF shared object"), std::string::npos) << message;
}

TEST(ExecutableLoadTest, TruncatedElfReportsTheDynamicLoadersError) {
  std::string image = KernelImage();
  image.resize(200);  // a valid ELF header, nothing behind it
  auto exe = Executable::Load("truncated", Bytes(image), image.size(), {"moert_test_vector_add"});
  ASSERT_FALSE(exe.ok());
  const std::string message = exe.status().ToString();
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
  EXPECT_NE(message.find("dlopen"), std::string::npos) << message;
}

}  // namespace
}  // namespace moert::hal::cpu
