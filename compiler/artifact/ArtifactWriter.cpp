//===- ArtifactWriter.cpp - writes .moex artifacts -------------------------===//

#include "compiler/artifact/ArtifactWriter.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "artifact/artifact.h"
#include "artifact/header.h"
#include "base/checked_math.h"

namespace moec {

using moert::Status;

// Sequential output with one way back: the header and manifest are written last,
// over the zeros that held their place, once the segment checksums are known.
class ArtifactWriter::Output {
 public:
  virtual ~Output() = default;
  virtual Status append(const void* data, uint64_t size) = 0;
  virtual Status overwrite(uint64_t offset, const void* data, uint64_t size) = 0;
  virtual Status finish() = 0;

  Status appendZeros(uint64_t size) {
    static const uint8_t kZeros[4096] = {};
    while (size > 0) {
      uint64_t n = size < sizeof(kZeros) ? size : sizeof(kZeros);
      MOERT_RETURN_IF_ERROR(append(kZeros, n));
      size -= n;
    }
    return Status::Ok();
  }
};

namespace {

class StringOutput : public ArtifactWriter::Output {
 public:
  Status append(const void* data, uint64_t size) override {
    bytes.append(static_cast<const char*>(data), size);
    return Status::Ok();
  }
  Status overwrite(uint64_t offset, const void* data, uint64_t size) override {
    if (offset + size > bytes.size()) return moert::Internal("overwrite past the end");
    std::memcpy(&bytes[offset], data, size);
    return Status::Ok();
  }
  Status finish() override { return Status::Ok(); }
  std::string bytes;
};

// Writes `path`.tmp and renames it to `path` in finish(); removes it otherwise.
class FileOutput : public ArtifactWriter::Output {
 public:
  explicit FileOutput(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {}
  ~FileOutput() override {
    if (file_ != nullptr) std::fclose(file_);
    if (!finished_) std::remove(tmp_.c_str());
  }
  Status open() {
    file_ = std::fopen(tmp_.c_str(), "wb");
    if (file_ == nullptr) return error("cannot create");
    std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
    return Status::Ok();
  }
  Status append(const void* data, uint64_t size) override {
    if (std::fwrite(data, 1, size, file_) != size) return error("cannot write");
    return Status::Ok();
  }
  Status overwrite(uint64_t offset, const void* data, uint64_t size) override {
    if (fseeko(file_, static_cast<off_t>(offset), SEEK_SET) != 0) return error("cannot seek in");
    return append(data, size);
  }
  Status finish() override {
    if (std::fflush(file_) != 0 || fsync(fileno(file_)) != 0) return error("cannot flush");
    int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) return error("cannot close");
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
      return moert::Unavailable("cannot rename ", tmp_, " to ", path_, ": ",
                                std::strerror(errno));
    }
    finished_ = true;
    return Status::Ok();
  }

 private:
  Status error(const char* what) {
    return moert::Unavailable(what, " ", tmp_, ": ", std::strerror(errno));
  }
  std::string path_;
  std::string tmp_;
  std::FILE* file_ = nullptr;
  bool finished_ = false;
};

// Hashes and counts what a segment's producer writes, passing it on.
class HashingSink : public SegmentSink {
 public:
  HashingSink(ArtifactWriter::Output& out, uint64_t declared, uint32_t index)
      : out_(out), declared_(declared), index_(index) {}
  Status Write(const void* data, uint64_t size) override {
    uint64_t total;
    if (!moert::CheckedAdd(written_, size, &total) || total > declared_) {
      return moert::InvalidArgument("segment ", index_, ": the producer wrote more than the ",
                                    declared_, " bytes declared");
    }
    MOERT_RETURN_IF_ERROR(out_.append(data, size));
    hash_ = moert::Fnv1a64(data, size, hash_);
    written_ = total;
    return Status::Ok();
  }
  uint64_t written() const { return written_; }
  uint64_t hash() const { return hash_; }

 private:
  ArtifactWriter::Output& out_;
  uint64_t declared_;
  uint32_t index_;
  uint64_t written_ = 0;
  uint64_t hash_ = moert::kFnv1a64Offset;
};

}  // namespace

ArtifactWriter::ArtifactWriter() = default;
ArtifactWriter::~ArtifactWriter() = default;

void ArtifactWriter::setProducer(std::string producer) { producer_ = std::move(producer); }
void ArtifactWriter::setModelConfig(ModelConfigDesc config) { model_ = std::move(config); }
void ArtifactWriter::setTarget(TargetDesc target) { target_ = std::move(target); }
void ArtifactWriter::setContext(uint32_t maxContext, uint32_t numSlots) {
  maxContext_ = maxContext;
  numSlots_ = numSlots;
}
void ArtifactWriter::setActivationArenaSize(uint64_t bytes) { activationArenaSize_ = bytes; }
void ArtifactWriter::setTokenizer(TokenizerDesc tokenizer) { tokenizer_ = std::move(tokenizer); }
void ArtifactWriter::setProbe(ProbeDesc probe) { probe_ = std::move(probe); }
void ArtifactWriter::setSyntheticWeights(SyntheticWeightsDesc synthetic) { synthetic_ = synthetic; }

uint32_t ArtifactWriter::addSegment(std::string bytes) {
  SegmentEntry entry;
  entry.size = bytes.size();
  entry.bytes = std::move(bytes);
  segments_.push_back(std::move(entry));
  return segments_.size() - 1;
}

uint32_t ArtifactWriter::addSegment(const void* data, uint64_t size) {
  return addSegment(std::string(static_cast<const char*>(data), size));
}

uint32_t ArtifactWriter::addStreamedSegment(uint64_t size, SegmentProducer producer) {
  SegmentEntry entry;
  entry.size = size;
  entry.producer = std::move(producer);
  segments_.push_back(std::move(entry));
  return segments_.size() - 1;
}

uint64_t ArtifactWriter::segmentSize(uint32_t index) const { return segments_[index].size; }
uint32_t ArtifactWriter::numSegments() const { return segments_.size(); }

uint32_t ArtifactWriter::addWeight(WeightDesc weight) {
  weights_.push_back(std::move(weight));
  return weights_.size() - 1;
}
uint32_t ArtifactWriter::addImage(DeviceImageDesc image) {
  images_.push_back(std::move(image));
  return images_.size() - 1;
}
uint32_t ArtifactWriter::addBuffer(BufferDesc buffer) {
  buffers_.push_back(std::move(buffer));
  return buffers_.size() - 1;
}
uint32_t ArtifactWriter::addEntryPoint(EntryPointDesc entryPoint) {
  entryPoints_.push_back(std::move(entryPoint));
  return entryPoints_.size() - 1;
}

std::string ArtifactWriter::buildManifest(const std::vector<uint64_t>& offsets,
                                          const std::vector<uint64_t>& checksums) const {
  flatbuffers::FlatBufferBuilder fbb(1 << 16);
  auto str = [&](const std::string& s) { return fbb.CreateString(s); };

  flatbuffers::Offset<moex::ModelConfig> model;
  if (model_) {
    const ModelConfigDesc& c = *model_;
    std::vector<uint8_t> sliding(c.sliding_layers.begin(), c.sliding_layers.end());
    auto slidingVec = fbb.CreateVector(sliding);
    moex::ModelConfigBuilder b(fbb);
    b.add_num_layers(c.num_layers);
    b.add_hidden_size(c.hidden_size);
    b.add_num_heads(c.num_heads);
    b.add_num_kv_heads(c.num_kv_heads);
    b.add_head_dim(c.head_dim);
    b.add_num_experts(c.num_experts);
    b.add_experts_per_token(c.experts_per_token);
    b.add_intermediate_size(c.intermediate_size);
    b.add_vocab_size(c.vocab_size);
    b.add_sliding_window(c.sliding_window);
    b.add_sliding_layers(slidingVec);
    b.add_rope_theta(c.rope_theta);
    b.add_rope_scaling_factor(c.rope_scaling_factor);
    b.add_rope_beta_fast(c.rope_beta_fast);
    b.add_rope_beta_slow(c.rope_beta_slow);
    b.add_rope_original_context(c.rope_original_context);
    b.add_rope_truncate(c.rope_truncate);
    b.add_rms_norm_eps(c.rms_norm_eps);
    b.add_swiglu_limit(c.swiglu_limit);
    b.add_swiglu_alpha(c.swiglu_alpha);
    b.add_eos_token_id(c.eos_token_id);
    model = b.Finish();
  }

  flatbuffers::Offset<moex::Target> target;
  if (target_) {
    std::vector<flatbuffers::Offset<flatbuffers::String>> features;
    for (const std::string& f : target_->required_features) features.push_back(str(f));
    auto featuresVec = fbb.CreateVector(features);
    auto name = str(target_->name);
    target = moex::CreateTarget(fbb, target_->kind, name, featuresVec);
  }

  std::vector<moex::Segment> segments;
  for (size_t i = 0; i < segments_.size(); ++i) {
    segments.emplace_back(offsets[i], segments_[i].size, checksums[i]);
  }
  auto segmentsVec = fbb.CreateVectorOfStructs(segments);

  flatbuffers::Offset<moex::Tokenizer> tokenizer;
  if (tokenizer_) {
    auto encoding = str(tokenizer_->encoding);
    tokenizer = moex::CreateTokenizer(fbb, tokenizer_->ranks_segment, encoding);
  }

  std::vector<flatbuffers::Offset<moex::Weight>> weights;
  for (const WeightDesc& w : weights_) {
    auto name = str(w.name);
    auto shape = fbb.CreateVector(w.shape);
    auto layout = str(w.layout);
    flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<moex::SyntheticPart>>> synthetic;
    if (!w.synthetic.empty()) {
      std::vector<flatbuffers::Offset<moex::SyntheticPart>> parts;
      for (const SyntheticPartDesc& p : w.synthetic) {
        parts.push_back(moex::CreateSyntheticPart(fbb, p.offset, p.size, p.name_hash, p.distribution, p.center,
                                                  p.amplitude, p.exponent));
      }
      synthetic = fbb.CreateVector(parts);
    }
    // A synthetic weight has no segment: 0 is the default, which the builder
    // leaves out, so the reader sees none.
    const bool hasBytes = w.synthetic.empty();
    weights.push_back(moex::CreateWeight(fbb, name, hasBytes ? w.segment : 0, hasBytes ? w.offset : 0, w.size,
                                         w.dtype, shape, layout, synthetic));
  }
  auto weightsVec = fbb.CreateVector(weights);

  std::vector<flatbuffers::Offset<moex::DeviceImage>> images;
  for (const DeviceImageDesc& image : images_) {
    std::vector<flatbuffers::Offset<moex::Kernel>> kernels;
    for (const KernelDesc& k : image.kernels) {
      auto name = str(k.name);
      auto symbol = str(k.symbol);
      kernels.push_back(
          moex::CreateKernel(fbb, name, symbol, k.num_bindings, k.num_constants, k.block_x,
                             k.shared_memory_bytes));
    }
    auto kernelsVec = fbb.CreateVector(kernels);
    images.push_back(moex::CreateDeviceImage(fbb, image.format, image.segment, kernelsVec));
  }
  auto imagesVec = fbb.CreateVector(images);

  std::vector<flatbuffers::Offset<moex::Buffer>> buffers;
  for (const BufferDesc& b : buffers_) {
    auto name = str(b.name);
    buffers.push_back(
        moex::CreateBuffer(fbb, name, b.kind, b.size, b.alignment, b.weight, b.arena_offset));
  }
  auto buffersVec = fbb.CreateVector(buffers);

  std::vector<flatbuffers::Offset<moex::EntryPoint>> entries;
  for (const EntryPointDesc& e : entryPoints_) {
    std::vector<flatbuffers::Offset<moex::Dispatch>> dispatches;
    for (const DispatchDesc& d : e.dispatches) {
      std::vector<moex::Binding> bindings;
      for (const BindingDesc& b : d.bindings) bindings.emplace_back(b.buffer, b.offset, b.size);
      auto bindingsVec = fbb.CreateVectorOfStructs(bindings);
      auto constantsVec = fbb.CreateVector(d.constants);
      dispatches.push_back(moex::CreateDispatch(fbb, d.image, d.kernel, d.workgroups_x,
                                                d.workgroups_y, d.workgroups_z, bindingsVec,
                                                constantsVec));
    }
    auto name = str(e.name);
    auto dispatchesVec = fbb.CreateVector(dispatches);
    entries.push_back(moex::CreateEntryPoint(fbb, name, e.rows, e.tokens, e.positions, e.slots,
                                             e.logits, dispatchesVec, e.live_rows));
  }
  auto entriesVec = fbb.CreateVector(entries);

  flatbuffers::Offset<moex::Probe> probe;
  if (probe_) {
    auto tokens = fbb.CreateVector(probe_->tokens);
    probe = moex::CreateProbe(fbb, tokens, probe_->logits_segment, probe_->tolerance);
  }

  flatbuffers::Offset<moex::SyntheticWeights> synthetic;
  if (synthetic_) {
    synthetic = moex::CreateSyntheticWeights(fbb, synthetic_->seed, synthetic_->fill_image, synthetic_->fill_kernel);
  }

  auto producer = str(producer_);
  moex::ManifestBuilder m(fbb);
  m.add_format_version(moert::kFormatVersion);
  m.add_producer(producer);
  m.add_model(model);
  m.add_target(target);
  m.add_max_context(maxContext_);
  m.add_num_slots(numSlots_);
  m.add_segments(segmentsVec);
  m.add_tokenizer(tokenizer);
  m.add_weights(weightsVec);
  m.add_images(imagesVec);
  m.add_buffers(buffersVec);
  m.add_activation_arena_size(activationArenaSize_);
  m.add_entry_points(entriesVec);
  m.add_probe(probe);
  m.add_synthetic(synthetic);
  moex::FinishManifestBuffer(fbb, m.Finish());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

Status ArtifactWriter::writeTo(Output& out, const std::string& source,
                               const WriteOptions& options) {
  // Segment offsets, in the order added, each at the next 4096 boundary.
  std::vector<uint64_t> offsets;
  uint64_t areaSize = 0;
  for (size_t i = 0; i < segments_.size(); ++i) {
    offsets.push_back(areaSize);
    uint64_t end;
    if (!moert::CheckedAdd(areaSize, segments_[i].size, &end) || !moert::AlignUp(end, &areaSize)) {
      return moert::InvalidArgument(source, ": segment ", i, " of ", segments_[i].size,
                                    " bytes overflows the segment area");
    }
  }
  std::vector<uint64_t> checksums(segments_.size(), 0);
  std::string manifest = buildManifest(offsets, checksums);
  if (manifest.size() > moert::kMaxManifestSize) {
    return moert::InvalidArgument(source, ": the manifest is ", manifest.size(),
                                  " bytes, over the FlatBuffers limit of ",
                                  moert::kMaxManifestSize);
  }
  if (options.verify) {
    // Everything but the checksums is final: refuse a bad description before
    // streaming gigabytes of segments.
    MOERT_RETURN_IF_ERROR(moert::VerifyManifest(
        *moex::GetManifest(manifest.data()), areaSize, source + " (being written)"));
  }

  uint64_t areaOffset;
  moert::Header header;
  header.manifest_offset = moert::kHeaderSize;
  header.manifest_size = manifest.size();
  if (!moert::AlignUp(moert::kHeaderSize + manifest.size(), &areaOffset) ||
      !moert::CheckedAdd(areaOffset, areaSize, &header.file_size)) {
    return moert::InvalidArgument(source, ": the artifact's size overflows 64 bits");
  }
  header.segment_area_offset = areaOffset;
  header.segment_area_size = areaSize;

  // Zeros hold the place of header and manifest until the checksums are known.
  MOERT_RETURN_IF_ERROR(out.appendZeros(areaOffset));
  uint64_t position = 0;  // within the segment area
  for (size_t i = 0; i < segments_.size(); ++i) {
    MOERT_RETURN_IF_ERROR(out.appendZeros(offsets[i] - position));
    const SegmentEntry& segment = segments_[i];
    HashingSink sink(out, segment.size, i);
    if (segment.producer) {
      Status status = segment.producer(sink);
      if (!status.ok()) return status.Annotate(moert::StrCat(source, ": segment ", i));
    } else {
      MOERT_RETURN_IF_ERROR(sink.Write(segment.bytes.data(), segment.bytes.size()));
    }
    if (sink.written() != segment.size) {
      return moert::InvalidArgument(source, ": segment ", i, ": the producer wrote ",
                                    sink.written(), " bytes but declared ", segment.size);
    }
    checksums[i] = sink.hash();
    position = offsets[i] + segment.size;
  }
  MOERT_RETURN_IF_ERROR(out.appendZeros(areaSize - position));

  // The same manifest with the checksums: the same size, since only the values
  // of fixed-size struct fields changed.
  std::string final = buildManifest(offsets, checksums);
  if (final.size() != manifest.size()) {
    return moert::Internal(source, ": the manifest changed size from ", manifest.size(), " to ",
                           final.size(), " when the checksums were filled in");
  }
  uint8_t headerBytes[moert::kHeaderSize];
  moert::EncodeHeader(header, headerBytes);
  header.checksum = moert::ComputeArtifactChecksum(
      headerBytes, reinterpret_cast<const uint8_t*>(final.data()), final.size());
  moert::EncodeHeader(header, headerBytes);
  MOERT_RETURN_IF_ERROR(out.overwrite(0, headerBytes, sizeof(headerBytes)));
  MOERT_RETURN_IF_ERROR(out.overwrite(moert::kHeaderSize, final.data(), final.size()));
  return out.finish();
}

Status ArtifactWriter::write(const std::string& path, const WriteOptions& options) {
  FileOutput out(path);
  MOERT_RETURN_IF_ERROR(out.open());
  MOERT_RETURN_IF_ERROR(writeTo(out, path, options));
  if (options.verify) {
    moert::Result<moert::Artifact> reopened = moert::Artifact::Open(path);
    if (!reopened.ok()) {
      return moert::Internal("the writer produced an artifact its reader refuses: ",
                             reopened.status().message());
    }
  }
  return Status::Ok();
}

moert::Result<std::string> ArtifactWriter::writeToString(const WriteOptions& options) {
  StringOutput out;
  MOERT_RETURN_IF_ERROR(writeTo(out, "<memory>", options));
  if (options.verify) {
    moert::Result<moert::Artifact> reopened = moert::Artifact::OpenBuffer(out.bytes);
    if (!reopened.ok()) {
      return moert::Internal("the writer produced an artifact its reader refuses: ",
                             reopened.status().message());
    }
  }
  return std::move(out.bytes);
}

}  // namespace moec
