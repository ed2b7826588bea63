#include "artifact/artifact.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

#include "base/checked_math.h"

namespace moert {
namespace {

// The number of elements of an optional FlatBuffers vector.
template <typename T>
uint32_t Count(const flatbuffers::Vector<T>* v) {
  return v == nullptr ? 0 : v->size();
}

std::string Str(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

std::string Hex(uint64_t v) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "0x%016llx", static_cast<unsigned long long>(v));
  return buffer;
}

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// Checks `index` < `limit`; `field` is "manifest.weights[3].segment".
Status CheckIndex(const std::string& source, const std::string& field, int64_t index,
                  uint32_t limit, const char* what) {
  if (index < 0 || static_cast<uint64_t>(index) >= limit) {
    return DataLoss(source, ": ", field, " = ", index, " but the artifact has ", limit, " ",
                    what);
  }
  return Status::Ok();
}

// [offset, offset + size) inside [0, limit); `what` names the range.
Status CheckRange(const std::string& source, const std::string& what, uint64_t offset,
                  uint64_t size, uint64_t limit, const std::string& container) {
  uint64_t end;
  if (!CheckedAdd(offset, size, &end) || end > limit) {
    return DataLoss(source, ": ", what, " [offset ", offset, ", size ", size,
                    "] runs past the end of ", container, " (", limit, " bytes)");
  }
  return Status::Ok();
}

Status VerifySegments(const moex::Manifest& m, uint64_t area_size, const std::string& source) {
  const auto* segments = m.segments();
  uint32_t n = Count(segments);
  std::vector<uint32_t> order;
  order.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    const moex::Segment* s = segments->Get(i);
    std::string field = StrCat("manifest.segments[", i, "]");
    if (s->offset() % kSegmentAlignment != 0) {
      return DataLoss(source, ": ", field, ".offset = ", s->offset(), " is not a multiple of ",
                      kSegmentAlignment);
    }
    MOERT_RETURN_IF_ERROR(
        CheckRange(source, field, s->offset(), s->size(), area_size, "the segment area"));
    order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    uint64_t oa = segments->Get(a)->offset(), ob = segments->Get(b)->offset();
    return oa != ob ? oa < ob : a < b;
  });
  for (size_t k = 1; k < order.size(); ++k) {
    const moex::Segment* prev = segments->Get(order[k - 1]);
    const moex::Segment* next = segments->Get(order[k]);
    if (prev->offset() + prev->size() > next->offset()) {
      return DataLoss(source, ": manifest.segments[", order[k], "] [", next->offset(), ", ",
                      next->offset() + next->size(), ") overlaps manifest.segments[",
                      order[k - 1], "] [", prev->offset(), ", ", prev->offset() + prev->size(),
                      ")");
    }
  }
  return Status::Ok();
}

Status VerifyWeights(const moex::Manifest& m, const std::string& source) {
  uint32_t num_segments = Count(m.segments());
  const auto* weights = m.weights();
  std::unordered_map<std::string_view, uint32_t> names;
  for (uint32_t i = 0; i < Count(weights); ++i) {
    const moex::Weight* w = weights->Get(i);
    std::string field = StrCat("manifest.weights[", i, "]");
    if (w->name() == nullptr || w->name()->size() == 0) {
      return DataLoss(source, ": ", field, ".name is missing");
    }
    std::string_view name = w->name()->string_view();
    auto [it, inserted] = names.emplace(name, i);
    if (!inserted) {
      return DataLoss(source, ": ", field, ".name \"", name, "\" repeats manifest.weights[",
                      it->second, "].name");
    }
    field = StrCat(field, " (\"", name, "\")");
    MOERT_RETURN_IF_ERROR(
        CheckIndex(source, field + ".segment", w->segment(), num_segments, "segments"));
    const moex::Segment* segment = m.segments()->Get(w->segment());
    MOERT_RETURN_IF_ERROR(CheckRange(source, field, w->offset(), w->size(), segment->size(),
                                     StrCat("manifest.segments[", w->segment(), "]")));
    MOERT_ASSIGN_OR_RETURN(uint64_t expected, TensorByteSize(w->dtype(), w->shape(), field));
    if (w->size() != expected) {
      return DataLoss(source, ": ", field, ".size = ", w->size(), " but ",
                      moex::EnumNameDType(w->dtype()), " of its shape needs ", expected,
                      " bytes");
    }
  }
  return Status::Ok();
}

Status VerifyImages(const moex::Manifest& m, const std::string& source) {
  uint32_t num_segments = Count(m.segments());
  const auto* images = m.images();
  for (uint32_t i = 0; i < Count(images); ++i) {
    const moex::DeviceImage* image = images->Get(i);
    std::string field = StrCat("manifest.images[", i, "]");
    if (image->format() > moex::ImageFormat::MAX) {
      return DataLoss(source, ": ", field, ".format = ", static_cast<int>(image->format()),
                      " is not an ImageFormat");
    }
    MOERT_RETURN_IF_ERROR(
        CheckIndex(source, field + ".segment", image->segment(), num_segments, "segments"));
    for (uint32_t k = 0; k < Count(image->kernels()); ++k) {
      const moex::Kernel* kernel = image->kernels()->Get(k);
      if (kernel->symbol() == nullptr || kernel->symbol()->size() == 0) {
        return DataLoss(source, ": ", field, ".kernels[", k, "].symbol is missing");
      }
    }
  }
  return Status::Ok();
}

Status VerifyBuffers(const moex::Manifest& m, const std::string& source) {
  const auto* buffers = m.buffers();
  uint32_t num_weights = Count(m.weights());
  for (uint32_t i = 0; i < Count(buffers); ++i) {
    const moex::Buffer* b = buffers->Get(i);
    std::string field = StrCat("manifest.buffers[", i, "] (\"", Str(b->name()), "\")");
    if (b->kind() > moex::BufferKind::MAX) {
      return DataLoss(source, ": ", field, ".kind = ", static_cast<int>(b->kind()),
                      " is not a BufferKind");
    }
    if (!IsPowerOfTwo(b->alignment()) || b->alignment() < 64) {
      return DataLoss(source, ": ", field, ".alignment = ", b->alignment(),
                      " is not a power of two >= 64");
    }
    if (b->kind() == moex::BufferKind::WEIGHT) {
      MOERT_RETURN_IF_ERROR(
          CheckIndex(source, field + ".weight", b->weight(), num_weights, "weights"));
      uint64_t weight_size = m.weights()->Get(b->weight())->size();
      if (b->size() != weight_size) {
        return DataLoss(source, ": ", field, ".size = ", b->size(), " but manifest.weights[",
                        b->weight(), "] is ", weight_size, " bytes");
      }
    } else if (b->weight() != -1) {
      return DataLoss(source, ": ", field, ".weight = ", b->weight(), " but a ",
                      moex::EnumNameBufferKind(b->kind()), " buffer has no weight (-1)");
    }
    if (b->kind() == moex::BufferKind::ACTIVATION) {
      if (b->arena_offset() % b->alignment() != 0) {
        return DataLoss(source, ": ", field, ".arena_offset = ", b->arena_offset(),
                        " is not a multiple of its alignment ", b->alignment());
      }
      MOERT_RETURN_IF_ERROR(CheckRange(source, field, b->arena_offset(), b->size(),
                                       m.activation_arena_size(), "the activation arena"));
    }
  }
  return Status::Ok();
}

// An entry point's INPUT i32 [rows] or OUTPUT f32 [rows, vocab] buffer.
Status CheckIoBuffer(const moex::Manifest& m, const std::string& source,
                     const std::string& field, uint32_t index, moex::BufferKind kind,
                     uint64_t expected_size, const std::string& shape) {
  MOERT_RETURN_IF_ERROR(CheckIndex(source, field, index, Count(m.buffers()), "buffers"));
  const moex::Buffer* b = m.buffers()->Get(index);
  if (b->kind() != kind) {
    return DataLoss(source, ": ", field, " = ", index, " names buffer \"", Str(b->name()),
                    "\" of kind ", moex::EnumNameBufferKind(b->kind()), ", expected ",
                    moex::EnumNameBufferKind(kind));
  }
  if (b->size() != expected_size) {
    return DataLoss(source, ": ", field, " = ", index, " names buffer \"", Str(b->name()),
                    "\" of ", b->size(), " bytes, expected ", expected_size, " (", shape, ")");
  }
  return Status::Ok();
}

Status VerifyEntryPoints(const moex::Manifest& m, const std::string& source) {
  const auto* entries = m.entry_points();
  uint32_t vocab = m.model()->vocab_size();
  for (uint32_t e = 0; e < Count(entries); ++e) {
    const moex::EntryPoint* entry = entries->Get(e);
    std::string field = StrCat("manifest.entry_points[", e, "] (\"", Str(entry->name()), "\")");
    if (entry->name() == nullptr || entry->name()->size() == 0) {
      return DataLoss(source, ": ", field, ".name is missing");
    }
    for (uint32_t other = 0; other < e; ++other) {
      if (Str(entries->Get(other)->name()) == entry->name()->str()) {
        return DataLoss(source, ": ", field, ".name repeats manifest.entry_points[", other,
                        "].name");
      }
    }
    if (entry->rows() == 0) return DataLoss(source, ": ", field, ".rows = 0");
    uint64_t input_size = uint64_t{entry->rows()} * 4;
    uint64_t logits_size;
    if (!CheckedProduct({entry->rows(), vocab, 4}, &logits_size)) {
      return DataLoss(source, ": ", field, ": rows x vocab_size overflows");
    }
    std::string in_shape = StrCat("i32 [", entry->rows(), "]");
    std::string out_shape = StrCat("f32 [", entry->rows(), ", ", vocab, "]");
    MOERT_RETURN_IF_ERROR(CheckIoBuffer(m, source, field + ".tokens", entry->tokens(),
                                        moex::BufferKind::INPUT, input_size, in_shape));
    MOERT_RETURN_IF_ERROR(CheckIoBuffer(m, source, field + ".positions", entry->positions(),
                                        moex::BufferKind::INPUT, input_size, in_shape));
    MOERT_RETURN_IF_ERROR(CheckIoBuffer(m, source, field + ".slots", entry->slots(),
                                        moex::BufferKind::INPUT, input_size, in_shape));
    MOERT_RETURN_IF_ERROR(CheckIoBuffer(m, source, field + ".logits", entry->logits(),
                                        moex::BufferKind::OUTPUT, logits_size, out_shape));

    for (uint32_t d = 0; d < Count(entry->dispatches()); ++d) {
      const moex::Dispatch* dispatch = entry->dispatches()->Get(d);
      std::string dfield = StrCat(field, ".dispatches[", d, "]");
      MOERT_RETURN_IF_ERROR(
          CheckIndex(source, dfield + ".image", dispatch->image(), Count(m.images()), "images"));
      const moex::DeviceImage* image = m.images()->Get(dispatch->image());
      MOERT_RETURN_IF_ERROR(CheckIndex(source, dfield + ".kernel", dispatch->kernel(),
                                       Count(image->kernels()),
                                       StrCat("kernels in manifest.images[", dispatch->image(),
                                              "]").c_str()));
      const moex::Kernel* kernel = image->kernels()->Get(dispatch->kernel());
      dfield = StrCat(dfield, " (kernel \"", Str(kernel->name()), "\")");
      if (dispatch->workgroups_x() == 0 || dispatch->workgroups_y() == 0 ||
          dispatch->workgroups_z() == 0) {
        return DataLoss(source, ": ", dfield, ": workgroups ", dispatch->workgroups_x(), "x",
                        dispatch->workgroups_y(), "x", dispatch->workgroups_z(),
                        " must each be at least 1");
      }
      if (Count(dispatch->bindings()) != kernel->num_bindings()) {
        return DataLoss(source, ": ", dfield, " passes ", Count(dispatch->bindings()),
                        " bindings but the kernel takes ", kernel->num_bindings());
      }
      if (Count(dispatch->constants()) != kernel->num_constants()) {
        return DataLoss(source, ": ", dfield, " passes ", Count(dispatch->constants()),
                        " constants but the kernel takes ", kernel->num_constants());
      }
      for (uint32_t k = 0; k < Count(dispatch->bindings()); ++k) {
        const moex::Binding* binding = dispatch->bindings()->Get(k);
        std::string bfield = StrCat(dfield, ".bindings[", k, "]");
        MOERT_RETURN_IF_ERROR(CheckIndex(source, bfield + ".buffer", binding->buffer(),
                                         Count(m.buffers()), "buffers"));
        const moex::Buffer* buffer = m.buffers()->Get(binding->buffer());
        MOERT_RETURN_IF_ERROR(CheckRange(
            source, bfield, binding->offset(), binding->size(), buffer->size(),
            StrCat("manifest.buffers[", binding->buffer(), "] (\"", Str(buffer->name()), "\")")));
      }
    }
  }
  return Status::Ok();
}

Status VerifyModelAndTarget(const moex::Manifest& m, const std::string& source) {
  if (m.format_version() != kFormatVersion) {
    return DataLoss(source, ": manifest.format_version = ", m.format_version(),
                    " but the header's version is ", kFormatVersion);
  }
  if (m.model() == nullptr) return DataLoss(source, ": manifest.model is missing");
  if (m.target() == nullptr) return DataLoss(source, ": manifest.target is missing");
  const moex::ModelConfig& model = *m.model();
  if (model.vocab_size() == 0) return DataLoss(source, ": manifest.model.vocab_size = 0");
  if (model.sliding_layers() != nullptr && model.sliding_layers()->size() != model.num_layers()) {
    return DataLoss(source, ": manifest.model.sliding_layers has ",
                    model.sliding_layers()->size(), " entries but num_layers = ",
                    model.num_layers());
  }
  if (m.target()->kind() > moex::TargetKind::MAX) {
    return DataLoss(source, ": manifest.target.kind = ", static_cast<int>(m.target()->kind()),
                    " is not a TargetKind");
  }
  return Status::Ok();
}

Status VerifyTokenizerAndProbe(const moex::Manifest& m, const std::string& source) {
  uint32_t num_segments = Count(m.segments());
  if (m.tokenizer() != nullptr) {
    MOERT_RETURN_IF_ERROR(CheckIndex(source, "manifest.tokenizer.ranks_segment",
                                     m.tokenizer()->ranks_segment(), num_segments, "segments"));
  }
  if (const moex::Probe* probe = m.probe()) {
    MOERT_RETURN_IF_ERROR(CheckIndex(source, "manifest.probe.logits_segment",
                                     probe->logits_segment(), num_segments, "segments"));
    uint32_t vocab = m.model()->vocab_size();
    uint32_t n = Count(probe->tokens());
    for (uint32_t i = 0; i < n; ++i) {
      int32_t token = probe->tokens()->Get(i);
      if (token < 0 || static_cast<uint32_t>(token) >= vocab) {
        return DataLoss(source, ": manifest.probe.tokens[", i, "] = ", token,
                        " is outside the vocabulary [0, ", vocab, ")");
      }
    }
    uint64_t expected = uint64_t{n} * vocab * 4;
    uint64_t got = m.segments()->Get(probe->logits_segment())->size();
    if (got != expected) {
      return DataLoss(source, ": manifest.probe.logits_segment = ", probe->logits_segment(),
                      " is ", got, " bytes, expected ", expected, " (f32 [", n, ", ", vocab,
                      "])");
    }
    if (!(probe->tolerance() >= 0) || !std::isfinite(probe->tolerance())) {
      return DataLoss(source, ": manifest.probe.tolerance = ", probe->tolerance(),
                      " is not a finite value >= 0");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<uint64_t> TensorByteSize(moex::DType dtype, const flatbuffers::Vector<int64_t>* shape,
                                const std::string& what) {
  uint64_t elements = 1;
  for (uint32_t i = 0; i < Count(shape); ++i) {
    int64_t dim = shape->Get(i);
    if (dim < 0) return DataLoss(what, ".shape[", i, "] = ", dim, " is negative");
    if (!CheckedMul(elements, static_cast<uint64_t>(dim), &elements)) {
      return DataLoss(what, ".shape overflows 64 bits");
    }
  }
  if (dtype > moex::DType::MAX) {
    return DataLoss(what, ".dtype = ", static_cast<int>(dtype), " is not a DType");
  }
  uint64_t element_bytes = 0;
  switch (dtype) {
    case moex::DType::F32: element_bytes = 4; break;
    case moex::DType::BF16: element_bytes = 2; break;
    case moex::DType::F16: element_bytes = 2; break;
    case moex::DType::I32: element_bytes = 4; break;
    case moex::DType::I64: element_bytes = 8; break;
    case moex::DType::U8: element_bytes = 1; break;
    case moex::DType::MXFP4: {
      int64_t last = Count(shape) == 0 ? 1 : shape->Get(Count(shape) - 1);
      if (last % 32 != 0) {
        return DataLoss(what, ": MXFP4 blocks of 32 run along the last dimension, but it is ",
                        last);
      }
      return elements / 32 * 17;
    }
  }
  uint64_t bytes;
  if (!CheckedMul(elements, element_bytes, &bytes)) {
    return DataLoss(what, ": byte size overflows 64 bits");
  }
  return bytes;
}

Status VerifyManifest(const moex::Manifest& m, uint64_t segment_area_size,
                      const std::string& source) {
  MOERT_RETURN_IF_ERROR(VerifyModelAndTarget(m, source));
  MOERT_RETURN_IF_ERROR(VerifySegments(m, segment_area_size, source));
  MOERT_RETURN_IF_ERROR(VerifyWeights(m, source));
  MOERT_RETURN_IF_ERROR(VerifyImages(m, source));
  MOERT_RETURN_IF_ERROR(VerifyBuffers(m, source));
  MOERT_RETURN_IF_ERROR(VerifyEntryPoints(m, source));
  MOERT_RETURN_IF_ERROR(VerifyTokenizerAndProbe(m, source));
  return Status::Ok();
}

Result<Artifact> Artifact::Open(const std::string& path) {
  auto storage = std::make_unique<Storage>();
  storage->source = path;
  MOERT_ASSIGN_OR_RETURN(storage->file, MappedFile::Open(path));
  storage->data = storage->file.data();
  storage->size = storage->file.size();
  return Verify(std::move(storage));
}

Result<Artifact> Artifact::OpenBuffer(std::string bytes, const std::string& source) {
  auto storage = std::make_unique<Storage>();
  storage->source = source;
  storage->bytes = std::move(bytes);
  storage->data = reinterpret_cast<const uint8_t*>(storage->bytes.data());
  storage->size = storage->bytes.size();
  return Verify(std::move(storage));
}

Result<Artifact> Artifact::Verify(std::unique_ptr<Storage> storage) {
  const std::string& source = storage->source;
  const uint8_t* data = storage->data;
  MOERT_ASSIGN_OR_RETURN(Header header, DecodeHeader(data, storage->size, source));

  const uint8_t* manifest_bytes = data + header.manifest_offset;
  uint64_t checksum = ComputeArtifactChecksum(data, manifest_bytes, header.manifest_size);
  if (checksum != header.checksum) {
    return DataLoss(source, ": checksum mismatch: header.checksum = ", Hex(header.checksum),
                    " but the header and manifest hash to ", Hex(checksum),
                    " (the file is damaged)");
  }

  flatbuffers::Verifier verifier(manifest_bytes, header.manifest_size);
  if (!moex::ManifestBufferHasIdentifier(manifest_bytes)) {
    return DataLoss(source, ": the manifest lacks the FlatBuffers file identifier \"",
                    moex::ManifestIdentifier(), "\"");
  }
  if (!moex::VerifyManifestBuffer(verifier)) {
    return DataLoss(source, ": the manifest (", header.manifest_size,
                    " bytes) fails the FlatBuffers verifier: an offset, vector or string "
                    "points outside it");
  }
  const moex::Manifest* manifest = moex::GetManifest(manifest_bytes);
  MOERT_RETURN_IF_ERROR(VerifyManifest(*manifest, header.segment_area_size, source));

  Artifact artifact;
  artifact.header_ = header;
  artifact.manifest_ = manifest;
  artifact.segment_area_ = data + header.segment_area_offset;
  if (manifest->weights() != nullptr) {
    for (uint32_t i = 0; i < manifest->weights()->size(); ++i) {
      artifact.weights_by_name_.emplace(manifest->weights()->Get(i)->name()->string_view(), i);
    }
  }
  artifact.storage_ = std::move(storage);
  return artifact;
}

uint32_t Artifact::num_segments() const { return Count(manifest_->segments()); }

ByteSpan Artifact::segment(uint32_t index) const {
  const moex::Segment* s = manifest_->segments()->Get(index);
  return ByteSpan{segment_area_ + s->offset(), s->size()};
}

uint32_t Artifact::num_weights() const { return Count(manifest_->weights()); }

const moex::Weight& Artifact::weight(uint32_t index) const {
  return *manifest_->weights()->Get(index);
}

ByteSpan Artifact::weight_bytes(uint32_t index) const {
  const moex::Weight& w = weight(index);
  ByteSpan s = segment(w.segment());
  return ByteSpan{s.data + w.offset(), w.size()};
}

Result<uint32_t> Artifact::FindWeight(std::string_view name) const {
  auto it = weights_by_name_.find(name);
  if (it == weights_by_name_.end()) {
    return NotFound(source(), ": no weight named \"", name, "\" among ", num_weights());
  }
  return it->second;
}

Status Artifact::VerifySegmentChecksums() const {
  for (uint32_t i = 0; i < num_segments(); ++i) {
    ByteSpan bytes = segment(i);
    uint64_t expected = manifest_->segments()->Get(i)->checksum();
    uint64_t got = Fnv1a64(bytes.data, bytes.size);
    if (got != expected) {
      return DataLoss(source(), ": manifest.segments[", i, "] (", bytes.size,
                      " bytes at segment-area offset ", manifest_->segments()->Get(i)->offset(),
                      ") hashes to ", Hex(got), " but its checksum is ", Hex(expected),
                      " (the segment is damaged)");
    }
  }
  return Status::Ok();
}

Status Artifact::CheckTargetRunsOnHost() const {
  return moert::CheckTargetRunsOnHost(*manifest_->target()).Annotate(source());
}

}  // namespace moert
