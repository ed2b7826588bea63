#include "base/tensor_compare.h"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace moert {

double RelativeError(const float* got, const float* want, size_t n) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(got[i]) - want[i];
    diff += d * d;
    norm += static_cast<double>(want[i]) * want[i];
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

Result<std::vector<int64_t>> ReadTokenIds(const SafetensorsFile& file, const char* name, int64_t vocab) {
  const TensorInfo* t = file.Find(name);
  if (t == nullptr) return NotFound(file.path(), ": no tensor \"", name, "\" to take the prompt from");
  if (t->shape.size() != 1 || (t->dtype != DType::kI32 && t->dtype != DType::kI64) || t->num_elements == 0) {
    return InvalidArgument(file.path(), ": tensor \"", name, "\" must be a non-empty I32 or I64 [T], got ",
                           DTypeName(t->dtype), " ", ShapeToString(t->shape));
  }
  std::vector<int64_t> ids;
  for (uint64_t i = 0; i < t->num_elements; ++i) {
    int64_t id;
    if (t->dtype == DType::kI32) {
      int32_t v;
      std::memcpy(&v, t->data + 4 * i, 4);
      id = v;
    } else {
      std::memcpy(&id, t->data + 8 * i, 8);
    }
    if (id < 0 || id >= vocab) {
      return InvalidArgument(file.path(), ": ", name, "[", i, "] = ", id, " is outside the vocabulary [0, ", vocab,
                             ")");
    }
    ids.push_back(id);
  }
  return ids;
}

Result<double> LogitsRelativeError(const SafetensorsFile& file, const std::vector<float>& logits, int64_t rows,
                                   int64_t vocab) {
  const TensorInfo* t = file.Find("logits");
  if (t == nullptr) return NotFound(file.path(), ": no tensor \"logits\" to compare with");
  if (t->dtype != DType::kF32 || t->shape != std::vector<int64_t>{rows, vocab} ||
      logits.size() != static_cast<size_t>(rows * vocab)) {
    return InvalidArgument(file.path(), ": tensor \"logits\" is ", DTypeName(t->dtype), " ", ShapeToString(t->shape),
                           ", expected F32 [", rows, ", ", vocab, "]");
  }
  std::vector<float> want(logits.size());
  std::memcpy(want.data(), t->data, want.size() * sizeof(float));  // the mapping may be unaligned for floats
  return RelativeError(logits.data(), want.data(), logits.size());
}

Status CheckLogitsAgainstFile(const SafetensorsFile& file, const std::vector<float>& logits, int64_t rows,
                              int64_t vocab, double tolerance) {
  MOERT_ASSIGN_OR_RETURN(double error, LogitsRelativeError(file, logits, rows, vocab));
  const bool pass = error <= tolerance;
  std::printf("logits vs %s: relative error %.3e (tolerance %.1e): %s\n", file.path().c_str(), error, tolerance,
              pass ? "PASS" : "FAIL");
  if (!pass) return OutOfRange("logits differ from ", file.path(), " by ", error, " relative, above ", tolerance);
  return Status::Ok();
}

}  // namespace moert
