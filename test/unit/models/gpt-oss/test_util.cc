#include "gpt-oss/test_util.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/file_map.h"
#include "base/numeric_formats.h"

namespace moec::testing {

TempDir::TempDir() {
  char tmpl[] = "/tmp/moec-test-XXXXXX";
  char* p = mkdtemp(tmpl);
  EXPECT_NE(p, nullptr);
  path_ = p ? p : "/tmp";
}

TempDir::~TempDir() {
  if (path_.rfind("/tmp/moec-test-", 0) == 0) std::system(("rm -rf '" + path_ + "'").c_str());
}

std::string GoldenModelDir(const std::string& name) {
  return std::string(MOEC_TESTDATA_DIR) + "/gpt-oss/" + name;
}

double RelativeError(const float* got, const float* want, size_t n) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < n; ++i) {
    diff += (static_cast<double>(got[i]) - want[i]) * (static_cast<double>(got[i]) - want[i]);
    norm += static_cast<double>(want[i]) * want[i];
  }
  return std::sqrt(diff) / std::sqrt(norm);
}

std::vector<float> TensorAsFloats(const moert::TensorInfo& t) {
  EXPECT_EQ(t.dtype, moert::DType::kF32) << t.name;
  std::vector<float> v(t.num_elements);
  std::memcpy(v.data(), t.data, t.byte_size);
  return v;
}

std::vector<int32_t> TensorAsInts(const moert::TensorInfo& t) {
  EXPECT_EQ(t.dtype, moert::DType::kI32) << t.name;
  std::vector<int32_t> v(t.num_elements);
  std::memcpy(v.data(), t.data, t.byte_size);
  return v;
}

std::vector<OwnedTensor> ReadAllTensors(const std::string& path) {
  moert::Result<moert::SafetensorsFile> file = moert::SafetensorsFile::Open(path);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  std::vector<OwnedTensor> out;
  if (!file.ok()) return out;
  for (const moert::TensorInfo& t : file->tensors()) {
    out.push_back({{t.name, t.dtype, t.shape}, std::vector<uint8_t>(t.data, t.data + t.byte_size)});
  }
  return out;
}

void WriteAllTensors(const std::string& path, const std::vector<OwnedTensor>& tensors) {
  std::vector<moert::TensorSpec> specs;
  std::vector<const void*> data;
  for (const OwnedTensor& t : tensors) {
    specs.push_back(t.spec);
    data.push_back(t.bytes.data());
  }
  moert::Status s = moert::WriteSafetensors(path, specs, data);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

void CopyFile(const std::string& from, const std::string& to) {
  moert::Result<std::string> bytes = moert::ReadFileToString(from);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  ASSERT_TRUE(moert::WriteStringToFile(to, *bytes).ok());
}

int RunCommand(const std::string& command, std::string* output) {
  std::string full = command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) return -2;
  char buffer[4096];
  output->clear();
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output->append(buffer, n);
  int status = pclose(pipe);
  if (WIFSIGNALED(status)) return -1;
  int code = WEXITSTATUS(status);
  // The shell reports a child killed by a signal as 128 + the signal.
  return code > 128 ? -1 : code;
}

std::string MoecBinary() { return std::string(MOEC_BINARY_DIR) + "/bin/moec"; }

}  // namespace moec::testing
