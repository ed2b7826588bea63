#include "artifact/header.h"

#include <cstdio>
#include <cstring>

#include "base/checked_math.h"

namespace moert {
namespace {

void PutU32(uint8_t* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
}
void PutU64(uint8_t* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t GetU32(const uint8_t* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(in[i]) << (8 * i);
  return v;
}
uint64_t GetU64(const uint8_t* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(in[i]) << (8 * i);
  return v;
}

std::string HexBytes(const uint8_t* data, size_t n) {
  std::string out;
  char buffer[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buffer, sizeof(buffer), i ? " %02x" : "%02x", data[i]);
    out += buffer;
  }
  return out;
}

}  // namespace

uint64_t Fnv1a64(const void* data, uint64_t size, uint64_t state) {
  const uint8_t* bytes = static_cast<const uint8_t*>(data);
  for (uint64_t i = 0; i < size; ++i) {
    state ^= bytes[i];
    state *= 0x100000001b3ull;
  }
  return state;
}

bool AlignUp(uint64_t value, uint64_t* out) {
  uint64_t bumped;
  if (!CheckedAdd(value, kSegmentAlignment - 1, &bumped)) return false;
  *out = bumped & ~(kSegmentAlignment - 1);
  return true;
}

void EncodeHeader(const Header& header, uint8_t* out) {
  std::memset(out, 0, kHeaderSize);
  std::memcpy(out, kMagic, sizeof(kMagic));
  PutU32(out + 8, header.format_version);
  PutU32(out + 12, header.header_size);
  PutU64(out + 16, header.manifest_offset);
  PutU64(out + 24, header.manifest_size);
  PutU64(out + 32, header.segment_area_offset);
  PutU64(out + 40, header.segment_area_size);
  PutU64(out + 48, header.file_size);
  PutU64(out + kHeaderChecksumOffset, header.checksum);
}

Result<Header> DecodeHeader(const uint8_t* data, uint64_t size, const std::string& source) {
  if (size < kHeaderSize) {
    return DataLoss(source, ": file is ", size, " bytes, smaller than the ", kHeaderSize,
                    "-byte .moex header (truncated, or not a .moex artifact)");
  }
  if (std::memcmp(data, kMagic, sizeof(kMagic)) != 0) {
    std::string hint = std::memcmp(data, kMagic, 4) == 0
                           ? " (the bytes after \"MOEX\" differ: a text-mode transfer may have "
                             "converted line endings)"
                           : " (not a .moex artifact)";
    return DataLoss(source, ": bad magic: expected ", HexBytes(kMagic, sizeof(kMagic)),
                    " (\"MOEX\\0\\r\\n\\x1a\"), found ", HexBytes(data, sizeof(kMagic)), hint);
  }
  Header h;
  h.format_version = GetU32(data + 8);
  h.header_size = GetU32(data + 12);
  h.manifest_offset = GetU64(data + 16);
  h.manifest_size = GetU64(data + 24);
  h.segment_area_offset = GetU64(data + 32);
  h.segment_area_size = GetU64(data + 40);
  h.file_size = GetU64(data + 48);
  h.checksum = GetU64(data + kHeaderChecksumOffset);

  if (h.format_version != kFormatVersion) {
    return Unimplemented(source, ": .moex format version ", h.format_version,
                         " is not supported: this moert reads version ", kFormatVersion,
                         " (recompile the artifact with a matching moec)");
  }
  if (h.header_size != kHeaderSize) {
    return DataLoss(source, ": header.header_size = ", h.header_size, " but version ",
                    kFormatVersion, " headers are ", kHeaderSize, " bytes");
  }
  if (h.file_size != size) {
    return DataLoss(source, ": header.file_size = ", h.file_size, " but the file is ", size,
                    " bytes", size < h.file_size ? " (truncated)" : " (trailing bytes)");
  }
  if (h.manifest_offset < kHeaderSize || h.manifest_offset % 8 != 0) {
    return DataLoss(source, ": header.manifest_offset = ", h.manifest_offset,
                    " must be a multiple of 8 at or after the ", kHeaderSize, "-byte header");
  }
  uint64_t manifest_end;
  if (h.manifest_size == 0 || h.manifest_size > kMaxManifestSize ||
      !CheckedAdd(h.manifest_offset, h.manifest_size, &manifest_end)) {
    return DataLoss(source, ": header.manifest_size = ", h.manifest_size,
                    " is outside [1, ", kMaxManifestSize, "]");
  }
  if (h.segment_area_offset % kSegmentAlignment != 0) {
    return DataLoss(source, ": header.segment_area_offset = ", h.segment_area_offset,
                    " is not a multiple of ", kSegmentAlignment);
  }
  if (manifest_end > h.segment_area_offset) {
    return DataLoss(source, ": the manifest [", h.manifest_offset, ", ", manifest_end,
                    ") overlaps the segment area at header.segment_area_offset = ",
                    h.segment_area_offset);
  }
  uint64_t area_end;
  if (!CheckedAdd(h.segment_area_offset, h.segment_area_size, &area_end) || area_end != size) {
    return DataLoss(source, ": header.segment_area_offset + segment_area_size = ",
                    h.segment_area_offset, " + ", h.segment_area_size,
                    " does not end at the file size ", size);
  }
  return h;
}

uint64_t ComputeArtifactChecksum(const uint8_t* header_bytes, const uint8_t* manifest,
                                 uint64_t manifest_size) {
  uint64_t state = Fnv1a64(header_bytes, kHeaderChecksumOffset);
  const uint8_t zeros[8] = {};
  state = Fnv1a64(zeros, sizeof(zeros), state);
  state = Fnv1a64(header_bytes + kHeaderChecksumOffset + 8,
                  kHeaderSize - kHeaderChecksumOffset - 8, state);
  return Fnv1a64(manifest, manifest_size, state);
}

}  // namespace moert
