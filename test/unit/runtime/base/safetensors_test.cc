#include "base/safetensors.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace moert {
namespace {

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/moert-safetensors-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  // Writes 8-byte length + header + `data_bytes` bytes of data.
  std::string WriteRaw(const std::string& header, size_t data_bytes, uint64_t length_override = 0) {
    std::string path = dir_ + "/t.safetensors";
    uint64_t n = length_override ? length_override : header.size();
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(n >> (8 * i));
    bytes += header;
    bytes += std::string(data_bytes, '\x01');
    EXPECT_TRUE(WriteStringToFile(path, bytes).ok());
    return path;
  }

  std::string ErrorOf(const std::string& path) {
    Result<SafetensorsFile> f = SafetensorsFile::Open(path);
    EXPECT_FALSE(f.ok());
    return f.ok() ? "" : f.status().message();
  }

  std::string dir_;
};

TEST_F(SafetensorsTest, WriterOutputReadsBack) {
  std::string path = dir_ + "/w.safetensors";
  float a[6] = {1, 2, 3, 4, 5, 6};
  int32_t b[2] = {7, -8};
  ASSERT_TRUE(WriteSafetensors(path, {{"a", DType::kF32, {2, 3}}, {"b", DType::kI32, {2}}}, {a, b},
                               {{"note", "hi"}})
                  .ok());
  Result<SafetensorsFile> f = SafetensorsFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->tensors().size(), 2u);
  const TensorInfo* ta = f->Find("a");
  ASSERT_NE(ta, nullptr);
  EXPECT_EQ(ta->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(ta->data, a, sizeof a), 0);
  EXPECT_EQ(ta->data_offset % 8, 0u);
  EXPECT_EQ(std::memcmp(f->Find("b")->data, b, sizeof b), 0);
  ASSERT_NE(f->FindMetadata("note"), nullptr);
  EXPECT_EQ(*f->FindMetadata("note"), "hi");
}

TEST_F(SafetensorsTest, SparseZerosReadBackAsZeros) {
  std::string path = dir_ + "/s.safetensors";
  Result<SafetensorsWriter> w = SafetensorsWriter::Create(path, {{"z", DType::kU8, {1 << 20}}});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->AppendZeros(1 << 20).ok());
  ASSERT_TRUE(w->Finish().ok());
  Result<SafetensorsFile> f = SafetensorsFile::Open(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->Find("z")->data[12345], 0);
}

TEST_F(SafetensorsTest, WriterRefusesShortOrLongData) {
  std::string path = dir_ + "/short.safetensors";
  Result<SafetensorsWriter> w = SafetensorsWriter::Create(path, {{"x", DType::kF32, {4}}});
  ASSERT_TRUE(w.ok());
  uint8_t bytes[20] = {};
  EXPECT_FALSE(w->Append(bytes, 20).ok());
  ASSERT_TRUE(w->Append(bytes, 8).ok());
  EXPECT_FALSE(w->Finish().ok());
}

TEST_F(SafetensorsTest, RejectsMalformedFiles) {
  const std::string ok_entry = R"("t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  struct Case {
    std::string header;
    size_t data;
    uint64_t length_override;
    const char* expect;
  } cases[] = {
      {"{" + ok_entry + "}", 4, 0, "past the end"},
      {"{" + ok_entry + "}", 12, 0, "bytes after the last tensor"},
      {"{" + ok_entry + "}", 8, 1ull << 40, "exceeds the limit"},
      {"{" + ok_entry + "}", 0, 200, "truncated header"},
      {"not json", 0, 0, "not valid JSON"},
      {"[1,2]", 0, 0, "expected an object"},
      {R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8, 0, "reversed"},
      {R"({"t":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", 8, 0, "unknown dtype"},
      {R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8, 0, "needs 12 bytes"},
      {R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}})", 8, 0, "non-negative"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       12, 0, "overlaps"},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8, 0, "gap of 4"},
      {R"({"t":{"dtype":"F32","shape":[2]}})", 8, 0, "data_offsets"},
      {R"({"t":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})", 8, 0, "overflows"},
  };
  for (const Case& c : cases) {
    std::string message = ErrorOf(WriteRaw(c.header, c.data, c.length_override));
    EXPECT_NE(message.find(c.expect), std::string::npos) << c.header << " -> " << message;
    EXPECT_NE(message.find("t.safetensors"), std::string::npos) << message;
  }
}

TEST_F(SafetensorsTest, RejectsFilesShorterThanTheLengthField) {
  std::string path = dir_ + "/tiny.safetensors";
  ASSERT_TRUE(WriteStringToFile(path, "abc").ok());
  EXPECT_NE(ErrorOf(path).find("too short"), std::string::npos);
}

TEST_F(SafetensorsTest, MissingFileIsNotFound) {
  Result<SafetensorsFile> f = SafetensorsFile::Open(dir_ + "/absent.safetensors");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace moert
