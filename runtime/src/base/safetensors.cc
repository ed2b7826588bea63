#include "base/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/checked_math.h"
#include "base/json.h"

namespace moert {

namespace {
struct DTypeEntry {
  DType dtype;
  const char* name;
  uint64_t size;
};
constexpr DTypeEntry kDTypes[] = {
    {DType::kBool, "BOOL", 1},    {DType::kU8, "U8", 1},          {DType::kI8, "I8", 1},
    {DType::kU16, "U16", 2},      {DType::kI16, "I16", 2},        {DType::kF16, "F16", 2},
    {DType::kBF16, "BF16", 2},    {DType::kU32, "U32", 4},        {DType::kI32, "I32", 4},
    {DType::kF32, "F32", 4},      {DType::kU64, "U64", 8},        {DType::kI64, "I64", 8},
    {DType::kF64, "F64", 8},      {DType::kF8E4M3, "F8_E4M3", 1}, {DType::kF8E5M2, "F8_E5M2", 1},
    {DType::kF8E8M0, "F8_E8M0", 1},
};
}  // namespace

Result<DType> ParseDType(std::string_view name) {
  for (const DTypeEntry& e : kDTypes) {
    if (name == e.name) return e.dtype;
  }
  return DataLoss("unknown dtype \"", name, "\"");
}

const char* DTypeName(DType dtype) {
  for (const DTypeEntry& e : kDTypes) {
    if (e.dtype == dtype) return e.name;
  }
  return "?";
}

uint64_t DTypeSize(DType dtype) {
  for (const DTypeEntry& e : kDTypes) {
    if (e.dtype == dtype) return e.size;
  }
  return 0;
}

std::string ShapeToString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

namespace {

Status ParseTensorEntry(const std::string& name, const JsonValue& entry, uint64_t data_size,
                        uint64_t data_start, TensorInfo& out) {
  auto fail = [&](const auto&... what) { return DataLoss("tensor \"", name, "\": ", what...); };
  if (!entry.is_object()) return fail("entry is ", JsonKindName(entry.kind()), ", expected an object");
  const JsonValue* dtype = entry.Find("dtype");
  const JsonValue* shape = entry.Find("shape");
  const JsonValue* offsets = entry.Find("data_offsets");
  if (dtype == nullptr || !dtype->is_string()) return fail("missing string field \"dtype\"");
  if (shape == nullptr || !shape->is_array()) return fail("missing array field \"shape\"");
  if (offsets == nullptr || !offsets->is_array() || offsets->items().size() != 2) {
    return fail("\"data_offsets\" must be an array [begin, end]");
  }
  for (const auto& member : entry.members()) {
    if (member.first != "dtype" && member.first != "shape" && member.first != "data_offsets") {
      return fail("unexpected field \"", member.first, "\"");
    }
  }
  Result<DType> parsed_dtype = ParseDType(dtype->string_value());
  if (!parsed_dtype.ok()) return fail(parsed_dtype.status().message());

  out.name = name;
  out.dtype = *parsed_dtype;
  out.shape.clear();
  uint64_t elements = 1;
  for (const JsonValue& dim : shape->items()) {
    Result<uint64_t> d = dim.AsUint64();
    if (!d.ok() || *d > static_cast<uint64_t>(INT64_MAX)) {
      return fail("shape ", shape->Serialize(), " has a dimension that is not a non-negative integer");
    }
    if (!CheckedMul(elements, *d, &elements)) return fail("shape ", shape->Serialize(), " overflows");
    out.shape.push_back(static_cast<int64_t>(*d));
  }
  Result<uint64_t> begin = offsets->items()[0].AsUint64();
  Result<uint64_t> end = offsets->items()[1].AsUint64();
  if (!begin.ok() || !end.ok()) return fail("data_offsets ", offsets->Serialize(), " are not non-negative integers");
  if (*begin > *end) {
    return fail("data_offsets [", *begin, ", ", *end, "] are reversed (begin > end)");
  }
  if (*end > data_size) {
    return fail("data_offsets [", *begin, ", ", *end, "] run past the end of the data area (",
                data_size, " bytes)");
  }
  uint64_t bytes;
  if (!CheckedMul(elements, DTypeSize(out.dtype), &bytes)) return fail("byte size overflows");
  if (bytes != *end - *begin) {
    return fail("shape ", ShapeToString(out.shape), " x ", DTypeName(out.dtype), " needs ", bytes,
                " bytes but data_offsets [", *begin, ", ", *end, "] hold ", *end - *begin);
  }
  out.num_elements = elements;
  out.byte_size = bytes;
  out.data_offset = data_start + *begin;
  return Status::Ok();
}

}  // namespace

Result<SafetensorsFile> SafetensorsFile::Open(const std::string& path) {
  SafetensorsFile result;
  MOERT_ASSIGN_OR_RETURN(result.file_, MappedFile::Open(path));
  const uint64_t file_size = result.file_.size();
  auto fail = [&](const auto&... what) { return DataLoss(path, ": ", what...); };
  if (file_size < 8) {
    return fail("file is ", file_size, " bytes, too short for the 8-byte header length");
  }
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | result.file_.data()[i];
  if (header_size > kMaxSafetensorsHeaderBytes) {
    return fail("header length ", header_size, " exceeds the limit of ", kMaxSafetensorsHeaderBytes,
                " bytes");
  }
  if (header_size > file_size - 8) {
    return fail("header length ", header_size, " runs past the end of the file (", file_size,
                " bytes): truncated header");
  }
  std::string_view header(reinterpret_cast<const char*>(result.file_.data() + 8), header_size);
  Result<JsonValue> json = ParseJson(header);
  if (!json.ok()) return fail("header is not valid JSON: ", json.status().message());
  if (!json->is_object()) return fail("header is ", JsonKindName(json->kind()), ", expected an object");

  const uint64_t data_start = 8 + header_size;
  const uint64_t data_size = file_size - data_start;
  for (const auto& member : json->members()) {
    if (member.first == "__metadata__") {
      if (!member.second.is_object()) return fail("__metadata__ must be an object of strings");
      for (const auto& kv : member.second.members()) {
        if (!kv.second.is_string()) return fail("__metadata__ value \"", kv.first, "\" is not a string");
        result.metadata_.emplace_back(kv.first, kv.second.string_value());
      }
      continue;
    }
    TensorInfo info;
    Status status = ParseTensorEntry(member.first, member.second, data_size, data_start, info);
    if (!status.ok()) return status.Annotate(path);
    result.tensors_.push_back(std::move(info));
  }

  // Ranges must tile the data area exactly: sorted, no overlap, no gap.
  std::sort(result.tensors_.begin(), result.tensors_.end(),
            [](const TensorInfo& a, const TensorInfo& b) {
              return a.data_offset != b.data_offset ? a.data_offset < b.data_offset
                                                    : a.byte_size < b.byte_size;
            });
  uint64_t cursor = data_start;
  const TensorInfo* previous = nullptr;
  for (TensorInfo& t : result.tensors_) {
    if (t.data_offset < cursor) {
      return fail("tensor \"", t.name, "\" (bytes ", t.data_offset - data_start, "..",
                  t.data_offset - data_start + t.byte_size, ") overlaps tensor \"", previous->name,
                  "\" (ending at ", cursor - data_start, ")");
    }
    if (t.data_offset > cursor) {
      return fail("gap of ", t.data_offset - cursor, " unreferenced bytes before tensor \"", t.name,
                  "\" at data offset ", cursor - data_start);
    }
    t.data = result.file_.data() + t.data_offset;
    cursor = t.data_offset + t.byte_size;
    previous = &t;
  }
  if (cursor != file_size) {
    return fail("file has ", file_size - cursor, " bytes after the last tensor (file is ", file_size,
                " bytes, tensors end at ", cursor, ")");
  }
  return result;
}

const TensorInfo* SafetensorsFile::Find(std::string_view name) const {
  for (const TensorInfo& t : tensors_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const std::string* SafetensorsFile::FindMetadata(std::string_view key) const {
  for (const auto& kv : metadata_) {
    if (kv.first == key) return &kv.second;
  }
  return nullptr;
}

SafetensorsWriter::~SafetensorsWriter() {
  if (fd_ >= 0) ::close(fd_);
}

SafetensorsWriter::SafetensorsWriter(SafetensorsWriter&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(other.fd_),
      data_size_(other.data_size_),
      written_(other.written_),
      file_offset_(other.file_offset_) {
  other.fd_ = -1;
}

Result<SafetensorsWriter> SafetensorsWriter::Create(
    const std::string& path, const std::vector<TensorSpec>& specs,
    const std::vector<std::pair<std::string, std::string>>& metadata) {
  JsonValue header = JsonValue::Object();
  if (!metadata.empty()) {
    JsonValue meta = JsonValue::Object();
    for (const auto& kv : metadata) meta.Set(kv.first, JsonValue::String(kv.second));
    header.Set("__metadata__", std::move(meta));
  }
  uint64_t offset = 0;
  for (const TensorSpec& spec : specs) {
    if (header.Find(spec.name) != nullptr) return InvalidArgument(path, ": tensor \"", spec.name, "\" declared twice");
    uint64_t bytes = DTypeSize(spec.dtype);
    JsonValue shape = JsonValue::Array();
    for (int64_t d : spec.shape) {
      if (d < 0 || !CheckedMul(bytes, static_cast<uint64_t>(d), &bytes)) {
        return InvalidArgument(path, ": tensor \"", spec.name, "\" has a bad shape ", ShapeToString(spec.shape));
      }
      shape.mutable_items().push_back(JsonValue::Integer(d));
    }
    uint64_t end;
    if (!CheckedAdd(offset, bytes, &end)) return InvalidArgument(path, ": data size overflows");
    JsonValue entry = JsonValue::Object();
    entry.Set("dtype", JsonValue::String(DTypeName(spec.dtype)));
    entry.Set("shape", std::move(shape));
    entry.Set("data_offsets", JsonValue::Array({JsonValue::Integer(static_cast<int64_t>(offset)),
                                                JsonValue::Integer(static_cast<int64_t>(end))}));
    header.Set(spec.name, std::move(entry));
    offset = end;
  }
  std::string text = header.Serialize();
  // Pad with spaces so the data area starts 8-byte aligned.
  while ((text.size() + 8) % 8 != 0) text.push_back(' ');

  SafetensorsWriter writer;
  writer.path_ = path;
  writer.data_size_ = offset;
  writer.fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (writer.fd_ < 0) return Unavailable(path, ": cannot create: ", std::strerror(errno));
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
  std::string prefix(reinterpret_cast<const char*>(length), 8);
  prefix += text;
  size_t done = 0;
  while (done < prefix.size()) {
    ssize_t n = ::write(writer.fd_, prefix.data() + done, prefix.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unavailable(path, ": write failed: ", std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  writer.file_offset_ = prefix.size();
  return writer;
}

Status SafetensorsWriter::Append(const void* bytes, uint64_t size) {
  if (fd_ < 0) return FailedPrecondition(path_, ": writer is closed");
  if (size > data_size_ - written_) {
    return OutOfRange(path_, ": appending ", size, " bytes exceeds the declared data size ", data_size_);
  }
  const char* p = static_cast<const char*>(bytes);
  uint64_t done = 0;
  while (done < size) {
    ssize_t n = ::pwrite(fd_, p + done, size - done, static_cast<off_t>(file_offset_ + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unavailable(path_, ": write failed: ", std::strerror(errno));
    }
    done += static_cast<uint64_t>(n);
  }
  written_ += size;
  file_offset_ += size;
  return Status::Ok();
}

Status SafetensorsWriter::AppendZeros(uint64_t size) {
  if (fd_ < 0) return FailedPrecondition(path_, ": writer is closed");
  if (size > data_size_ - written_) {
    return OutOfRange(path_, ": appending ", size, " bytes exceeds the declared data size ", data_size_);
  }
  // The file is extended by ftruncate in Finish; holes read back as zeros.
  written_ += size;
  file_offset_ += size;
  return Status::Ok();
}

Status SafetensorsWriter::Finish() {
  if (fd_ < 0) return FailedPrecondition(path_, ": writer is closed");
  if (written_ != data_size_) {
    return FailedPrecondition(path_, ": ", written_, " of ", data_size_, " data bytes written");
  }
  if (::ftruncate(fd_, static_cast<off_t>(file_offset_)) != 0) {
    return Unavailable(path_, ": cannot extend to ", file_offset_, " bytes: ", std::strerror(errno));
  }
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) return Unavailable(path_, ": close failed: ", std::strerror(errno));
  return Status::Ok();
}

Status WriteSafetensors(const std::string& path, const std::vector<TensorSpec>& specs,
                        const std::vector<const void*>& data,
                        const std::vector<std::pair<std::string, std::string>>& metadata) {
  if (specs.size() != data.size()) return InvalidArgument("WriteSafetensors: specs and data differ in count");
  MOERT_ASSIGN_OR_RETURN(SafetensorsWriter writer, SafetensorsWriter::Create(path, specs, metadata));
  for (size_t i = 0; i < specs.size(); ++i) {
    uint64_t bytes = DTypeSize(specs[i].dtype);
    for (int64_t d : specs[i].shape) bytes *= static_cast<uint64_t>(d);  // checked in Create
    MOERT_RETURN_IF_ERROR(writer.Append(data[i], bytes));
  }
  return writer.Finish();
}

}  // namespace moert
