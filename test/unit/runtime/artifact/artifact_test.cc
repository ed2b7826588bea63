// The .moex reader: a valid artifact opens and its views are right; every kind
// of damage is refused at open with a message that names what is wrong.
#include "artifact/artifact.h"

#include <gtest/gtest.h>

#include <cstring>

#include "artifact/header.h"
#include "base/file_map.h"
#include "test_artifact.h"

namespace moert {
namespace {

using testing::BuildTestArtifact;
using testing::TestArtifactSpec;

// The error Open gives for `bytes`, or "" when it opens.
std::string OpenError(std::string bytes) {
  Result<Artifact> artifact = Artifact::OpenBuffer(std::move(bytes), "test.moex");
  return artifact.ok() ? std::string() : artifact.status().message();
}

#define EXPECT_REFUSED(bytes, fragment)                          \
  do {                                                           \
    std::string error = OpenError(bytes);                        \
    EXPECT_NE(error.find(fragment), std::string::npos) << error; \
  } while (0)

TEST(HeaderTest, EncodesFieldsLittleEndianAtFixedOffsets) {
  Header h;
  h.manifest_size = 0x0102;
  h.segment_area_offset = 8192;
  h.segment_area_size = 4096;
  h.file_size = 12288;
  h.checksum = 0x1122334455667788ull;
  std::string bytes(kHeaderSize, '\x55');
  EncodeHeader(h, reinterpret_cast<uint8_t*>(&bytes[0]));
  EXPECT_EQ(bytes.substr(0, 8), std::string("MOEX\0\r\n\x1a", 8));
  EXPECT_EQ(testing::GetU32(bytes, 8), kFormatVersion);
  EXPECT_EQ(testing::GetU32(bytes, 12), kHeaderSize);
  EXPECT_EQ(testing::GetU64(bytes, 16), kHeaderSize);
  EXPECT_EQ(bytes[24], '\x02');
  EXPECT_EQ(bytes[25], '\x01');
  EXPECT_EQ(testing::GetU64(bytes, 32), 8192u);
  EXPECT_EQ(testing::GetU64(bytes, 56), 0x1122334455667788ull);
  EXPECT_EQ(bytes[56], '\x88');
  for (uint64_t i = 64; i < kHeaderSize; ++i) ASSERT_EQ(bytes[i], 0) << i;
}

TEST(HeaderTest, Fnv1a64MatchesPublishedVectors) {
  EXPECT_EQ(Fnv1a64("", 0), 0xcbf29ce484222325ull);
  EXPECT_EQ(Fnv1a64("a", 1), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(Fnv1a64("foobar", 6), 0x85944171f73967e8ull);
  // Continuing a hash equals hashing the concatenation.
  EXPECT_EQ(Fnv1a64("bar", 3, Fnv1a64("foo", 3)), Fnv1a64("foobar", 6));
}

TEST(ArtifactTest, OpensAValidArtifactAndGivesTrustedViews) {
  std::string bytes = BuildTestArtifact();
  Result<Artifact> artifact = Artifact::OpenBuffer(bytes, "test.moex");
  ASSERT_TRUE(artifact.ok()) << artifact.status().ToString();
  EXPECT_EQ(artifact->file_size(), bytes.size());
  EXPECT_EQ(artifact->num_segments(), 4u);
  EXPECT_EQ(artifact->manifest().model()->vocab_size(), testing::kVocab);
  ByteSpan image = artifact->segment(1);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(image.data), 4), "\x7f" "ELF");
  EXPECT_EQ(image.data - artifact->segment(0).data, 4096);
  ASSERT_EQ(artifact->num_weights(), 2u);
  Result<uint32_t> mx = artifact->FindWeight("w.mxfp4");
  ASSERT_TRUE(mx.ok());
  EXPECT_EQ(*mx, 1u);
  EXPECT_EQ(artifact->weight_bytes(1).size, 68u);
  EXPECT_EQ(artifact->weight_bytes(1).data, artifact->segment(0).data + 128);
  EXPECT_EQ(artifact->FindWeight("nope").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(artifact->VerifySegmentChecksums().ok());
  EXPECT_TRUE(artifact->CheckTargetRunsOnHost().ok())
      << artifact->CheckTargetRunsOnHost().ToString();
}

TEST(ArtifactTest, OpensFromAFileThroughMmap) {
  std::string path = ::testing::TempDir() + "/valid.moex";
  ASSERT_TRUE(WriteStringToFile(path, BuildTestArtifact()).ok());
  Result<Artifact> artifact = Artifact::Open(path);
  ASSERT_TRUE(artifact.ok()) << artifact.status().ToString();
  EXPECT_EQ(artifact->source(), path);
  // The views survive a move of the Artifact.
  ByteSpan before = artifact->segment(2);
  Artifact moved = std::move(artifact).value();
  EXPECT_EQ(moved.segment(2).data, before.data);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(before.data), before.size),
            "IQ== 0\nIg== 1\n");
  EXPECT_EQ(Artifact::Open(path + ".missing").status().code(), StatusCode::kNotFound);
}

TEST(ArtifactTest, RefusesTruncatedFiles) {
  std::string bytes = BuildTestArtifact();
  uint64_t manifest_size = testing::GetU64(bytes, 24);
  EXPECT_REFUSED("", "file is 0 bytes, smaller than the 4096-byte .moex header");
  EXPECT_REFUSED(bytes.substr(0, 7), "file is 7 bytes, smaller than");
  EXPECT_REFUSED(bytes.substr(0, 100), "file is 100 bytes, smaller than");
  EXPECT_REFUSED(bytes.substr(0, kHeaderSize - 1), "file is 4095 bytes");
  // Inside the manifest, and inside the last segment.
  uint64_t in_manifest = kHeaderSize + manifest_size / 2;
  EXPECT_REFUSED(bytes.substr(0, in_manifest),
                 StrCat("header.file_size = ", bytes.size(), " but the file is ", in_manifest,
                        " bytes (truncated)"));
  EXPECT_REFUSED(bytes.substr(0, bytes.size() - 10), " bytes (truncated)");
  EXPECT_REFUSED(bytes + "x", "(trailing bytes)");
}

TEST(ArtifactTest, RefusesBadMagic) {
  std::string bytes = BuildTestArtifact();
  std::string text = bytes;
  std::memcpy(&text[0], "{\"model\"", 8);
  EXPECT_REFUSED(text, "bad magic: expected 4d 4f 45 58 00 0d 0a 1a");
  EXPECT_REFUSED(text, "found 7b 22 6d 6f 64 65 6c 22 (not a .moex artifact)");
  // CR LF turned into LF by a text-mode copy.
  std::string converted = bytes;
  converted.erase(5, 1);
  EXPECT_REFUSED(converted, "line endings");
}

TEST(ArtifactTest, RefusesUnsupportedVersion) {
  std::string bytes = BuildTestArtifact();
  testing::PutU32(bytes, 8, 7);
  testing::Reseal(bytes);
  EXPECT_REFUSED(bytes, StrCat("format version 7 is not supported: this moert reads version ", kFormatVersion));
  Result<Artifact> artifact = Artifact::OpenBuffer(bytes);
  EXPECT_EQ(artifact.status().code(), StatusCode::kUnimplemented);
}

TEST(ArtifactTest, RefusesAnInconsistentHeader) {
  std::string bytes = BuildTestArtifact();
  std::string misaligned = bytes;
  testing::PutU32(misaligned, 32, static_cast<uint32_t>(testing::GetU64(bytes, 32) + 8));
  EXPECT_REFUSED(misaligned, "header.segment_area_offset = ");
  EXPECT_REFUSED(misaligned, "is not a multiple of 4096");
  std::string overlapping = bytes;
  testing::PutU32(overlapping, 24, static_cast<uint32_t>(testing::GetU64(bytes, 32)));
  EXPECT_REFUSED(overlapping, "overlaps the segment area");
  std::string header_size = bytes;
  testing::PutU32(header_size, 12, 512);
  EXPECT_REFUSED(header_size, "header.header_size = 512");
}

TEST(ArtifactTest, RefusesAChecksumMismatch) {
  std::string bytes = BuildTestArtifact();
  bytes[kHeaderSize + testing::GetU64(bytes, 24) - 1] ^= 0x40;  // last manifest byte
  EXPECT_REFUSED(bytes, "checksum mismatch: header.checksum = 0x");
  std::string reserved = BuildTestArtifact();
  reserved[1000] = 1;  // the header's reserved bytes are covered too
  EXPECT_REFUSED(reserved, "checksum mismatch");
}

TEST(ArtifactTest, RefusesAManifestTheFlatBuffersVerifierRejects) {
  std::string bytes = BuildTestArtifact();
  testing::PutU32(bytes, kHeaderSize, 0x7ffffff0);  // root table offset far outside
  testing::Reseal(bytes);
  EXPECT_REFUSED(bytes, "fails the FlatBuffers verifier");
  std::string identifier = BuildTestArtifact();
  std::memcpy(&identifier[kHeaderSize + 4], "XEOM", 4);
  testing::Reseal(identifier);
  EXPECT_REFUSED(identifier, "lacks the FlatBuffers file identifier \"MOEX\"");
}

TEST(ArtifactTest, RefusesAnOutOfRangeSegmentIndex) {
  TestArtifactSpec spec;
  spec.weight0_segment = 9;
  EXPECT_REFUSED(BuildTestArtifact(spec),
                 "manifest.weights[0] (\"w.f32\").segment = 9 but the artifact has 4 segments");
}

TEST(ArtifactTest, RefusesOverlappingSegments) {
  TestArtifactSpec spec;
  spec.segment_offsets = {0, 4096, 4096, 12288};
  EXPECT_REFUSED(BuildTestArtifact(spec), "manifest.segments[2] [4096, 4110) overlaps "
                                          "manifest.segments[1] [4096, 4160)");
  spec.segment_offsets = {0, 4096, 8200, 12288};
  EXPECT_REFUSED(BuildTestArtifact(spec),
                 "manifest.segments[2].offset = 8200 is not a multiple of 4096");
}

TEST(ArtifactTest, RefusesAWeightOutsideItsSegment) {
  TestArtifactSpec spec;
  spec.weight1_offset = 160;
  EXPECT_REFUSED(BuildTestArtifact(spec),
                 "manifest.weights[1] (\"w.mxfp4\") [offset 160, size 68] runs past the end of "
                 "manifest.segments[0] (196 bytes)");
}

TEST(ArtifactTest, RefusesABindingPastItsBuffer) {
  TestArtifactSpec spec;
  spec.logits_binding_size = testing::kRows * testing::kVocab * 4 + 4;
  EXPECT_REFUSED(BuildTestArtifact(spec),
                 "manifest.entry_points[0] (\"prefill\").dispatches[1] (kernel \"lm_head\")"
                 ".bindings[2] [offset 0, size 132] runs past the end of manifest.buffers[3] "
                 "(\"logits\") (128 bytes)");
}

TEST(ArtifactTest, RefusesZeroWorkgroups) {
  TestArtifactSpec spec;
  spec.workgroups_x = 0;
  EXPECT_REFUSED(BuildTestArtifact(spec), "workgroups 0x1x1 must each be at least 1");
}

TEST(ArtifactTest, VerifySegmentChecksumsFindsADamagedSegment) {
  std::string bytes = BuildTestArtifact();
  bytes[bytes.size() - 4096 + 5] ^= 1;  // inside the last segment (probe logits)
  Result<Artifact> artifact = Artifact::OpenBuffer(bytes, "test.moex");
  ASSERT_TRUE(artifact.ok()) << artifact.status().ToString();  // not checked at open
  Status status = artifact->VerifySegmentChecksums();
  EXPECT_NE(status.message().find("manifest.segments[3] (128 bytes at segment-area offset 12288)"
                                  " hashes to 0x"),
            std::string::npos)
      << status.message();
}

TEST(ArtifactTest, RefusesAnotherTarget) {
  TestArtifactSpec cuda;
  cuda.target_kind = moex::TargetKind::CUDA;
  cuda.target_name = "sm_90a";
  Result<Artifact> artifact = Artifact::OpenBuffer(BuildTestArtifact(cuda), "test.moex");
  ASSERT_TRUE(artifact.ok());  // a well-formed artifact for another machine opens
  Status status = artifact->CheckTargetRunsOnHost();
  EXPECT_NE(status.message().find("test.moex: the artifact targets an NVIDIA GPU (CUDA sm_90a), not this CPU:"
                                  " it runs through moert's CUDA HAL, which needs the NVIDIA driver (libcuda.so.1)"),
            std::string::npos)
      << status.message();

  TestArtifactSpec cpu;
  cpu.required_features = {"avx2", "avx512fp16x"};
  artifact = Artifact::OpenBuffer(BuildTestArtifact(cpu), "test.moex");
  ASSERT_TRUE(artifact.ok());
  status = artifact->CheckTargetRunsOnHost();
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("requires CPU features this host lacks: avx512fp16x"),
            std::string::npos)
      << status.message();
  EXPECT_EQ(status.message().find("avx2,"), std::string::npos) << status.message();
}

TEST(ArtifactTest, HostCpuFeaturesAreDetected) {
  bool known = false;
  HostCpuHasFeature("avx512fp16x", &known);
  EXPECT_FALSE(known);
#if defined(__x86_64__)
  HostCpuHasFeature("avx2", &known);
  EXPECT_TRUE(known);
#endif
}

}  // namespace
}  // namespace moert
