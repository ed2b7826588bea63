// The fixed header at offset 0 of a .moex artifact, and the checksum that
// protects it and the manifest.
//
// Layout (little-endian, kHeaderSize = 4096 bytes, all reserved bytes zero):
//
//   [0, 8)    magic "MOEX" 00 0D 0A 1A: a NUL and CR LF stop text tools, a
//             line-ending conversion changes the bytes, 1A stops DOS `type`
//   [8, 12)   u32 format version (kFormatVersion)
//   [12, 16)  u32 header size (kHeaderSize)
//   [16, 24)  u64 manifest offset (kHeaderSize)
//   [24, 32)  u64 manifest size in bytes
//   [32, 40)  u64 segment area offset (a multiple of 4096, after the manifest)
//   [40, 48)  u64 segment area size (runs to the end of the file)
//   [48, 56)  u64 file size
//   [56, 64)  u64 checksum: FNV-1a 64 over the 4096 header bytes with this field
//             read as zero, continued over the manifest's bytes
//   [64, 4096) reserved, zero
//
// Fields are encoded and decoded byte by byte, so the struct below has no
// on-disk layout of its own.
#ifndef MOERT_ARTIFACT_HEADER_H_
#define MOERT_ARTIFACT_HEADER_H_

#include <cstdint>
#include <string>

#include "base/status.h"

namespace moert {

inline constexpr uint64_t kHeaderSize = 4096;
inline constexpr uint64_t kSegmentAlignment = 4096;
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr uint8_t kMagic[8] = {'M', 'O', 'E', 'X', 0x00, 0x0D, 0x0A, 0x1A};
// Byte offset of the checksum field in the header.
inline constexpr uint64_t kHeaderChecksumOffset = 56;
// FlatBuffers cannot address more than 2 GiB - 1.
inline constexpr uint64_t kMaxManifestSize = (uint64_t{1} << 31) - 1;

struct Header {
  uint32_t format_version = kFormatVersion;
  uint32_t header_size = kHeaderSize;
  uint64_t manifest_offset = kHeaderSize;
  uint64_t manifest_size = 0;
  uint64_t segment_area_offset = 0;
  uint64_t segment_area_size = 0;
  uint64_t file_size = 0;
  uint64_t checksum = 0;
};

// FNV-1a 64: pass the previous result as `state` to continue a hash.
inline constexpr uint64_t kFnv1a64Offset = 0xcbf29ce484222325ull;
uint64_t Fnv1a64(const void* data, uint64_t size, uint64_t state = kFnv1a64Offset);

// Writes magic, fields and zero padding into `out[0, kHeaderSize)`.
void EncodeHeader(const Header& header, uint8_t* out);

// Decodes the header at the start of `data` (`size` bytes in all, the whole
// artifact) and checks, in this order: size >= kHeaderSize, magic, version, and
// that the offsets and sizes are in range, aligned, non-overlapping and match
// `size`. `source` names the file in messages. The checksum is not checked here
// (see ComputeArtifactChecksum).
Result<Header> DecodeHeader(const uint8_t* data, uint64_t size, const std::string& source);

// The checksum of an artifact: FNV-1a 64 over `header_bytes[0, kHeaderSize)`
// with the checksum field read as zero, continued over the manifest.
uint64_t ComputeArtifactChecksum(const uint8_t* header_bytes, const uint8_t* manifest,
                                 uint64_t manifest_size);

// The smallest multiple of kSegmentAlignment >= value; false on overflow.
bool AlignUp(uint64_t value, uint64_t* out);

}  // namespace moert

#endif  // MOERT_ARTIFACT_HEADER_H_
