// Artifact: an opened, verified .moex file (see runtime/schema/moex.fbs and
// header.h for the format).
//
// Everything is checked once, in Open: the header, the checksum over header and
// manifest, the FlatBuffers verifier, and the manifest's semantics (every index
// in range, segments aligned and disjoint, weights inside their segments and
// sized for their dtype and shape, bindings inside their buffers, entry points'
// inputs and logits shaped as the executor expects). Afterwards the accessors
// return trusted views and never fail. Segment checksums cost a pass over every
// byte and are checked only on request (VerifySegmentChecksums).
#ifndef MOERT_ARTIFACT_ARTIFACT_H_
#define MOERT_ARTIFACT_ARTIFACT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "artifact/header.h"
#include "base/file_map.h"
#include "base/status.h"
#include "schema/moex_generated.h"

namespace moert {

// A read-only byte range inside an open artifact.
struct ByteSpan {
  const uint8_t* data = nullptr;
  uint64_t size = 0;
};

class Artifact {
 public:
  // Maps `path` and verifies it.
  static Result<Artifact> Open(const std::string& path);
  // Verifies an artifact held in memory; takes ownership of `bytes`. `source`
  // names it in messages.
  static Result<Artifact> OpenBuffer(std::string bytes, const std::string& source = "<memory>");

  Artifact(Artifact&&) = default;
  Artifact& operator=(Artifact&&) = default;

  // The path, or the name given to OpenBuffer.
  const std::string& source() const { return storage_->source; }
  const Header& header() const { return header_; }
  uint64_t file_size() const { return header_.file_size; }
  const moex::Manifest& manifest() const { return *manifest_; }

  uint32_t num_segments() const;
  // `index` < num_segments().
  ByteSpan segment(uint32_t index) const;

  uint32_t num_weights() const;
  const moex::Weight& weight(uint32_t index) const;
  ByteSpan weight_bytes(uint32_t index) const;
  // The index of the weight called `name`; NotFound names it otherwise.
  Result<uint32_t> FindWeight(std::string_view name) const;

  // Recomputes every segment's FNV-1a 64 and compares it with the manifest's.
  Status VerifySegmentChecksums() const;

  // Whether this host can run the artifact's target (see CheckTargetRunsOnHost).
  Status CheckTargetRunsOnHost() const;

 private:
  struct Storage {
    std::string source;
    MappedFile file;     // when opened from a path
    std::string bytes;   // when opened from memory
    const uint8_t* data = nullptr;
    uint64_t size = 0;
  };
  Artifact() = default;
  static Result<Artifact> Verify(std::unique_ptr<Storage> storage);

  // Heap-held so that views stay valid when the Artifact moves.
  std::unique_ptr<Storage> storage_;
  Header header_;
  const moex::Manifest* manifest_ = nullptr;
  const uint8_t* segment_area_ = nullptr;
  std::unordered_map<std::string_view, uint32_t> weights_by_name_;
};

// The manifest's semantic checks (the last step of Artifact::Open), for a
// manifest that already passed the FlatBuffers verifier. `segment_area_size`
// bounds the segments. The compiler's writer runs them before it writes any
// segment bytes.
Status VerifyManifest(const moex::Manifest& manifest, uint64_t segment_area_size,
                      const std::string& source);

// Bytes a tensor of `dtype` and `shape` occupies (MXFP4: 17 bytes per block of
// 32 values along the last dimension: 16 of packed nibbles and one E8M0 scale).
// `what` names the tensor in messages.
Result<uint64_t> TensorByteSize(moex::DType dtype, const flatbuffers::Vector<int64_t>* shape,
                                const std::string& what);

// Refuses a target this host cannot run, naming what is missing: for a CPU
// target, the target's architecture and every required feature the running CPU
// lacks; for CUDA and HIP, the GPU and the runtime it needs.
Status CheckTargetRunsOnHost(const moex::Target& target);

// Whether the running CPU has `feature` ("avx2", "avx512bf16", ...); false for
// names moert does not know.
bool HostCpuHasFeature(std::string_view feature, bool* known = nullptr);

}  // namespace moert

#endif  // MOERT_ARTIFACT_ARTIFACT_H_
