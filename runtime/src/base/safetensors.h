// The safetensors format: an 8-byte little-endian header length N, N bytes of
// JSON ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
// optional "__metadata__": {string: string}}), then the tensor bytes, offsets
// relative to the end of the header.
//
// The reader maps the file and verifies everything once, at open: header
// bounds, JSON, dtypes, shape x dtype size == byte range, ranges inside the
// file, no overlaps and no gaps. After that the tensors are trusted.
#ifndef MOERT_BASE_SAFETENSORS_H_
#define MOERT_BASE_SAFETENSORS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/file_map.h"
#include "base/status.h"

namespace moert {

enum class DType { kBool, kU8, kI8, kU16, kI16, kF16, kBF16, kU32, kI32, kF32, kU64, kI64, kF64,
                   kF8E4M3, kF8E5M2, kF8E8M0 };

// "BF16" -> kBF16; fails on names safetensors does not define.
Result<DType> ParseDType(std::string_view name);
const char* DTypeName(DType dtype);
uint64_t DTypeSize(DType dtype);

struct TensorInfo {
  std::string name;
  DType dtype = DType::kU8;
  std::vector<int64_t> shape;
  uint64_t num_elements = 0;
  uint64_t byte_size = 0;
  uint64_t data_offset = 0;        // from the start of the file
  const uint8_t* data = nullptr;   // into the mapping
};

// "[4, 8, 16]"
std::string ShapeToString(const std::vector<int64_t>& shape);

class SafetensorsFile {
 public:
  // Maps and verifies `path`. Errors start with the path.
  static Result<SafetensorsFile> Open(const std::string& path);

  const std::string& path() const { return file_.path(); }
  // In data order.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* Find(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }
  const std::string* FindMetadata(std::string_view key) const;

 private:
  MappedFile file_;
  std::vector<TensorInfo> tensors_;
  std::vector<std::pair<std::string, std::string>> metadata_;
};

// The largest header accepted (matches the reference implementation's limit).
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100ull << 20;

struct TensorSpec {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
};

// Writes a safetensors file by streaming: the header is computed from the
// specs up front, then the tensors' bytes are appended in spec order, so a
// 60 GB checkpoint never has to be held in memory.
class SafetensorsWriter {
 public:
  SafetensorsWriter() = default;
  ~SafetensorsWriter();
  SafetensorsWriter(SafetensorsWriter&& other) noexcept;
  SafetensorsWriter& operator=(SafetensorsWriter&& other) = delete;
  SafetensorsWriter(const SafetensorsWriter&) = delete;

  static Result<SafetensorsWriter> Create(
      const std::string& path, const std::vector<TensorSpec>& specs,
      const std::vector<std::pair<std::string, std::string>>& metadata = {});

  // Appends bytes of the tensor data area (across tensor boundaries as needed).
  Status Append(const void* bytes, uint64_t size);
  // Leaves `size` bytes as a hole that reads back as zeros (a sparse file).
  Status AppendZeros(uint64_t size);
  // Checks every declared byte was written and closes the file.
  Status Finish();

  uint64_t data_size() const { return data_size_; }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t data_size_ = 0;
  uint64_t written_ = 0;
  uint64_t file_offset_ = 0;
};

// Writes a small file in one call; `data[i]` holds specs[i]'s bytes.
Status WriteSafetensors(const std::string& path, const std::vector<TensorSpec>& specs,
                        const std::vector<const void*>& data,
                        const std::vector<std::pair<std::string, std::string>>& metadata = {});

}  // namespace moert

#endif  // MOERT_BASE_SAFETENSORS_H_
