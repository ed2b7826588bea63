// Read-only memory maps of whole files, and small whole-file helpers.
#ifndef MOERT_BASE_FILE_MAP_H_
#define MOERT_BASE_FILE_MAP_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace moert {

// A file mapped read-only into memory for the lifetime of the object. Weights
// are read through the map, never copied.
class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  static Result<MappedFile> Open(const std::string& path);

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }
  std::string_view view() const {
    return std::string_view(reinterpret_cast<const char*>(data_), size_);
  }

 private:
  void Reset();

  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  std::string path_;
};

Result<std::string> ReadFileToString(const std::string& path);
Status WriteStringToFile(const std::string& path, std::string_view contents);

bool PathExists(const std::string& path);
bool IsDirectory(const std::string& path);
// "dir" + "name" -> "dir/name".
std::string JoinPath(const std::string& dir, const std::string& name);
// Creates `path` and its parents when missing.
Status MakeDirectories(const std::string& path);

}  // namespace moert

#endif  // MOERT_BASE_FILE_MAP_H_
