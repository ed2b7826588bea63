// Comparing computed logits with a reference file, and reading prompts from
// one: what `moec reference --compare` and `moert-run --compare` share.
#ifndef MOERT_BASE_TENSOR_COMPARE_H_
#define MOERT_BASE_TENSOR_COMPARE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/safetensors.h"
#include "base/status.h"

namespace moert {

// ||got - want|| / ||want|| (||got - want|| when want is all zeros), summed in
// double.
double RelativeError(const float* got, const float* want, size_t n);

// The token ids in tensor `name` (I32 or I64, [T], non-empty), each checked
// to be in [0, vocab).
Result<std::vector<int64_t>> ReadTokenIds(const SafetensorsFile& file, const char* name, int64_t vocab);

// The relative error of `logits` ([rows, vocab], row-major) against the
// file's tensor `logits`, which must be F32 [rows, vocab].
Result<double> LogitsRelativeError(const SafetensorsFile& file, const std::vector<float>& logits, int64_t rows,
                                   int64_t vocab);

// The check both tools' --compare flags make: prints "logits vs FILE:
// relative error E (tolerance T): PASS|FAIL" to stdout and fails above
// `tolerance`.
Status CheckLogitsAgainstFile(const SafetensorsFile& file, const std::vector<float>& logits, int64_t rows,
                              int64_t vocab, double tolerance);

}  // namespace moert

#endif  // MOERT_BASE_TENSOR_COMPARE_H_
