// A small, valid .moex artifact assembled directly with the FlatBuffers builder
// (the runtime tests cannot use the compiler's writer), with every kind of
// manifest entry, and knobs that damage it one field at a time.
#ifndef MOERT_TEST_ARTIFACT_TEST_ARTIFACT_H_
#define MOERT_TEST_ARTIFACT_TEST_ARTIFACT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "schema/moex_generated.h"

namespace moert::testing {

inline constexpr uint32_t kVocab = 16;
inline constexpr uint32_t kRows = 2;

struct TestArtifactSpec {
  moex::TargetKind target_kind = moex::TargetKind::CPU;
  std::string target_name = "x86-64-v1";
  std::vector<std::string> required_features;
  // Segments: 0 weights, 1 device image, 2 tokenizer ranks, 3 probe logits.
  std::vector<uint64_t> segment_offsets = {0, 4096, 8192, 12288};
  uint32_t weight0_segment = 0;
  uint64_t weight1_offset = 128;  // the MXFP4 weight, 68 bytes, in a 196-byte segment
  uint64_t logits_binding_size = kRows * kVocab * 4;
  uint32_t workgroups_x = 2;
};

// The artifact's bytes: header, manifest, segments.
std::string BuildTestArtifact(const TestArtifactSpec& spec = {});

// Recomputes the header checksum after a test changed header or manifest bytes
// on purpose, so a later check is what catches the damage.
void Reseal(std::string& artifact);

// Little-endian field access at a byte offset.
uint32_t GetU32(const std::string& bytes, uint64_t offset);
void PutU32(std::string& bytes, uint64_t offset, uint32_t value);
uint64_t GetU64(const std::string& bytes, uint64_t offset);

}  // namespace moert::testing

#endif  // MOERT_TEST_ARTIFACT_TEST_ARTIFACT_H_
