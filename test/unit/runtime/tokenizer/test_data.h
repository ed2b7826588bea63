// Shared helpers for the tokenizer tests: the real o200k ranks (loaded once)
// and the encode vectors from /work/shared/testdata/tokenizer.
#ifndef MOEC_TEST_UNIT_RUNTIME_TOKENIZER_TEST_DATA_H_
#define MOEC_TEST_UNIT_RUNTIME_TOKENIZER_TEST_DATA_H_

#include <string>
#include <vector>

#include "base/file_map.h"
#include "base/json.h"
#include "tokenizer/tokenizer.h"

namespace moert {
namespace testing {

inline std::string TestDataPath(const std::string& relative) {
  return std::string(MOEC_TESTDATA_DIR) + "/" + relative;
}

inline std::string RanksPath() { return TestDataPath("tokenizer/o200k_base.tiktoken"); }

// The o200k_harmony tokenizer over the real ranks file; aborts the test binary
// when the file cannot be loaded (every test needs it).
inline const Tokenizer& O200kTokenizer() {
  static const Tokenizer* tokenizer = [] {
    Result<Tokenizer> t = Tokenizer::LoadTiktokenFile(RanksPath());
    if (!t.ok()) {
      fprintf(stderr, "cannot load %s: %s\n", RanksPath().c_str(), t.status().ToString().c_str());
      abort();
    }
    return new Tokenizer(std::move(t).value());
  }();
  return *tokenizer;
}

struct EncodeVector {
  int line;
  std::string text;
  std::vector<TokenId> ids;
};

inline std::vector<EncodeVector> LoadEncodeVectors() {
  std::vector<EncodeVector> vectors;
  std::string path = TestDataPath("tokenizer/o200k_vectors.jsonl");
  Result<std::string> contents = ReadFileToString(path);
  if (!contents.ok()) {
    fprintf(stderr, "%s\n", contents.status().ToString().c_str());
    abort();
  }
  size_t start = 0;
  int line_number = 0;
  while (start < contents->size()) {
    size_t end = contents->find('\n', start);
    if (end == std::string::npos) end = contents->size();
    std::string line = contents->substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (line.empty()) continue;
    Result<JsonValue> v = ParseJson(line);
    if (!v.ok()) {
      fprintf(stderr, "%s:%d: %s\n", path.c_str(), line_number, v.status().ToString().c_str());
      abort();
    }
    EncodeVector vec;
    vec.line = line_number;
    vec.text = v->Find("text")->string_value();
    for (const JsonValue& id : v->Find("ids")->items()) {
      vec.ids.push_back(static_cast<TokenId>(*id.AsInt64()));
    }
    vectors.push_back(std::move(vec));
  }
  return vectors;
}

}  // namespace testing
}  // namespace moert

#endif  // MOEC_TEST_UNIT_RUNTIME_TOKENIZER_TEST_DATA_H_
