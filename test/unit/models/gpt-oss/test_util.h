// Shared helpers of the gpt-oss tests: temporary directories, the golden
// testdata, relative errors, and rewriting safetensors files tensor by tensor.
#ifndef MOEC_TEST_UNIT_MODELS_GPT_OSS_TEST_UTIL_H_
#define MOEC_TEST_UNIT_MODELS_GPT_OSS_TEST_UTIL_H_

#include <functional>
#include <string>
#include <vector>

#include "base/safetensors.h"
#include "base/tensor_compare.h"

namespace moec::testing {

// A fresh directory under /tmp, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// ../shared/testdata/gpt-oss/<name>
std::string GoldenModelDir(const std::string& name);

// ||got - want|| / ||want||
using moert::RelativeError;

std::vector<float> TensorAsFloats(const moert::TensorInfo& t);
std::vector<int32_t> TensorAsInts(const moert::TensorInfo& t);

// A tensor held in memory, for rewriting files.
struct OwnedTensor {
  moert::TensorSpec spec;
  std::vector<uint8_t> bytes;
};
std::vector<OwnedTensor> ReadAllTensors(const std::string& path);
void WriteAllTensors(const std::string& path, const std::vector<OwnedTensor>& tensors);

// Rewrites the golden tiny checkpoint into the OpenAI original layout (q, k
// and v concatenated into qkv, original names) under dir/original/.
void WriteOriginalLayout(const std::string& dir);

// Copies a file byte for byte.
void CopyFile(const std::string& from, const std::string& to);

// Runs a shell command; returns its exit code, or -1 when it died from a
// signal. stderr+stdout are captured into *output.
int RunCommand(const std::string& command, std::string* output);

// The moec binary of this build.
std::string MoecBinary();

}  // namespace moec::testing

#endif  // MOEC_TEST_UNIT_MODELS_GPT_OSS_TEST_UTIL_H_
