#include "exec/session.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "artifact/synthetic.h"
#include "base/checked_math.h"
#include "exec/generate.h"
#include "exec/plan_checks.h"

namespace moert::exec {
namespace {

using moex::BufferKind;

// FlatBuffers store scalars little-endian; the executor hands the manifest's
// constants vectors to kernels as they are.
static_assert(FLATBUFFERS_LITTLEENDIAN, "moert's CPU executor needs a little-endian host");

constexpr uint64_t kPageSize = 4096;

template <typename T>
uint32_t Size(const flatbuffers::Vector<T>* v) {
  return v ? v->size() : 0;
}

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

std::string BufferName(const moex::Manifest& m, uint32_t index) { return BufferDescription(m, index); }

// MADV_POPULATE_WRITE (Linux 5.14), which older C libraries do not name.
#ifdef MADV_POPULATE_WRITE
constexpr int kMadvisePopulateWrite = MADV_POPULATE_WRITE;
#else
constexpr int kMadvisePopulateWrite = 23;
#endif

// One synthetic weight to generate into host memory.
struct PendingWeight {
  uint8_t* data = nullptr;
  uint64_t size = 0;
  std::vector<SyntheticRun> runs;
};

// Generates the weights on `threads` threads, in chunks of 8 MiB (a 20b model
// is 13 GB: every core helps).
Status GenerateSyntheticWeights(const std::vector<PendingWeight>& weights, uint32_t threads) {
  constexpr uint64_t kChunkBytes = uint64_t{8} << 20;
  struct Chunk {
    const PendingWeight* weight;
    uint64_t begin, end;
  };
  std::vector<Chunk> chunks;
  for (const PendingWeight& w : weights) {
    for (uint64_t begin = 0; begin < w.size; begin += kChunkBytes) {
      chunks.push_back({&w, begin, std::min(w.size, begin + kChunkBytes)});
    }
  }
  MOERT_ASSIGN_OR_RETURN(std::unique_ptr<hal::cpu::ThreadPool> pool, hal::cpu::ThreadPool::Create(threads));
  pool->ParallelFor(chunks.size(), [&chunks](size_t i) {
    const Chunk& c = chunks[i];
    // Fault the chunk's pages in with one call rather than one trap per page
    // (several times faster, in VMs most); best effort: older kernels lack it.
    madvise(c.weight->data + c.begin, c.end - c.begin, kMadvisePopulateWrite);
    GenerateSyntheticBytes(c.weight->runs, c.begin, c.end, c.weight->data + c.begin);
  });
  return Status::Ok();
}

}  // namespace

Program::~Program() {
  for (const HostMapping& mapping : synthetic_memory_) munmap(mapping.data, mapping.size);
}

Result<std::shared_ptr<const Program>> Program::Create(const moex::Manifest& m,
                                                       SegmentResolver segments,
                                                       ProgramOptions options) {
  std::shared_ptr<Program> program(new Program());
  program->manifest_ = &m;
  program->source_ = options.source;
  auto annotate = [&](const Status& s) { return s.Annotate(options.source); };

  if (m.target() && m.target()->kind() != moex::TargetKind::CPU) {
    return annotate(Unimplemented("the artifact targets ",
                                  moex::EnumNameTargetKind(m.target()->kind()),
                                  "; this executor runs CPU artifacts only"));
  }
  if (!m.model() || m.model()->vocab_size() == 0) {
    return annotate(DataLoss("manifest.model.vocab_size is missing or 0"));
  }
  if (m.model()->vocab_size() > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
    return annotate(DataLoss("manifest.model.vocab_size ", m.model()->vocab_size(),
                             " exceeds the i32 token ids"));
  }
  program->vocab_size_ = m.model()->vocab_size();
  program->eos_token_id_ = m.model()->eos_token_id();
  if (m.max_context() == 0) return annotate(DataLoss("manifest.max_context is 0"));
  if (m.num_slots() == 0) return annotate(DataLoss("manifest.num_slots is 0"));
  if (m.max_context() > static_cast<uint32_t>(std::numeric_limits<int32_t>::max()) ||
      m.num_slots() > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
    return annotate(DataLoss("manifest.max_context or num_slots exceeds the i32 inputs"));
  }

  auto segment = [&](uint32_t index, const std::string& who) -> Result<SegmentBytes> {
    if (index >= Size(m.segments())) {
      return DataLoss(who, " names segment ", index, " past the ", Size(m.segments()),
                      " segments");
    }
    Result<SegmentBytes> bytes = segments(index);
    if (!bytes.ok()) return bytes.status().Annotate(who);
    return bytes;
  };

  // Buffers: weights resolved to their bytes (synthetic ones to host memory,
  // generated once every buffer is checked), activations inside the arena.
  const uint32_t num_buffers = Size(m.buffers());
  program->weight_data_.assign(num_buffers, nullptr);
  std::vector<PendingWeight> pending;
  std::unordered_map<uint32_t, uint8_t*> synthetic_data;  // by weight index
  for (uint32_t i = 0; i < num_buffers; ++i) {
    const moex::Buffer* b = m.buffers()->Get(i);
    const std::string name = BufferName(m, i);
    if (!IsPowerOfTwo(b->alignment())) {
      return annotate(DataLoss(name, ".alignment ", b->alignment(), " is not a power of two"));
    }
    switch (b->kind()) {
      case BufferKind::ACTIVATION: {
        uint64_t end = 0;
        if (!CheckedAdd(b->arena_offset(), b->size(), &end) || end > m.activation_arena_size()) {
          return annotate(DataLoss(name, " = [", b->arena_offset(), ", +", b->size(),
                                   ") exceeds the activation arena of ",
                                   m.activation_arena_size(), " bytes"));
        }
        if (b->arena_offset() % b->alignment() != 0) {
          return annotate(DataLoss(name, ".arena_offset ", b->arena_offset(),
                                   " is not a multiple of its alignment ", b->alignment()));
        }
        program->arena_alignment_ = std::max<uint64_t>(program->arena_alignment_, b->alignment());
        break;
      }
      case BufferKind::WEIGHT: {
        if (b->weight() < 0 || static_cast<uint32_t>(b->weight()) >= Size(m.weights())) {
          return annotate(DataLoss(name, ".weight = ", b->weight(), " is not one of the ",
                                   Size(m.weights()), " weights"));
        }
        const uint32_t weight_index = static_cast<uint32_t>(b->weight());
        const moex::Weight* w = m.weights()->Get(weight_index);
        const std::string wname =
            StrCat("weight ", w->name() ? w->name()->str() : std::string("?"));
        if (b->size() > w->size()) {
          return annotate(DataLoss(name, " of ", b->size(), " bytes is larger than its ", wname,
                                   " of ", w->size(), " bytes"));
        }
        if (IsSynthetic(*w)) {
          auto [it, added] = synthetic_data.emplace(weight_index, nullptr);
          if (added) {
            Result<std::vector<SyntheticRun>> runs = SyntheticWeightRuns(m, weight_index);
            if (!runs.ok()) return annotate(runs.status());
            // Page-aligned, so every buffer alignment up to the page size holds.
            const uint64_t bytes = std::max<uint64_t>(w->size(), 1);
            if (bytes > std::numeric_limits<size_t>::max() - kPageSize) {
              return annotate(ResourceExhausted(wname, " of ", w->size(), " bytes is too large"));
            }
            void* data = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (data == MAP_FAILED) {
              return annotate(ResourceExhausted("allocating synthetic ", wname, " of ", w->size(),
                                                " bytes: ", std::strerror(errno)));
            }
            // Huge pages where the kernel allows them: 13 GB of weights in
            // 4 KiB pages is 3 million pages to fault in.
            madvise(data, bytes, MADV_HUGEPAGE);
            program->synthetic_memory_.push_back({data, static_cast<size_t>(bytes)});
            it->second = static_cast<uint8_t*>(data);
            pending.push_back({it->second, w->size(), std::move(*runs)});
          }
          if (b->alignment() > kPageSize) {
            return annotate(Unimplemented(name, ".alignment ", b->alignment(), " exceeds the page size ",
                                          kPageSize));
          }
          program->weight_data_[i] = it->second;
          break;
        }
        Result<SegmentBytes> resolved = segment(w->segment(), wname);
        if (!resolved.ok()) return annotate(resolved.status());
        const SegmentBytes bytes = *resolved;
        uint64_t end = 0;
        if (!CheckedAdd(w->offset(), w->size(), &end) || end > bytes.size) {
          return annotate(DataLoss(wname, " = [", w->offset(), ", +", w->size(),
                                   ") exceeds segment ", w->segment(), " of ", bytes.size,
                                   " bytes"));
        }
        const uint8_t* data = bytes.data + w->offset();
        if (reinterpret_cast<uintptr_t>(data) % b->alignment() != 0) {
          return annotate(DataLoss(name, ": the bytes of ", wname, " are not aligned to ",
                                   b->alignment()));
        }
        program->weight_data_[i] = data;
        break;
      }
      case BufferKind::KV_CACHE:
      case BufferKind::WORKSPACE:  // mapped zeroed, like the caches
      case BufferKind::INPUT:
      case BufferKind::OUTPUT:
        if (b->alignment() > kPageSize) {
          return annotate(Unimplemented(name, ".alignment ", b->alignment(),
                                        " exceeds the page size ", kPageSize));
        }
        break;
    }
  }
  if (program->arena_alignment_ > kPageSize) {
    return annotate(Unimplemented("activation alignment ", program->arena_alignment_,
                                  " exceeds the page size ", kPageSize));
  }

  // Entry points.
  for (uint32_t e = 0; e < Size(m.entry_points()); ++e) {
    const moex::EntryPoint* ep = m.entry_points()->Get(e);
    MOERT_RETURN_IF_ERROR(annotate(CheckEntryPointPlan(m, e, program->vocab_size_)));
    const std::string name = ep->name() ? ep->name()->str() : std::string();
    if (name == "prefill") program->prefill_ = ep;
    if (name == "decode") program->decode_ = ep;
  }

  // Device images, last: loading runs code (the image's constructors).
  for (uint32_t i = 0; i < Size(m.images()); ++i) {
    const moex::DeviceImage* image = m.images()->Get(i);
    const std::string name = StrCat(options.source, ": image ", i, " (segment ", image->segment(), ")");
    if (image->format() != moex::ImageFormat::ELF_SHARED_OBJECT) {
      return Unimplemented(name, " has format ", moex::EnumNameImageFormat(image->format()),
                           "; the CPU executor runs ELF_SHARED_OBJECT images only");
    }
    std::vector<std::string> symbols;
    symbols.reserve(Size(image->kernels()));
    for (uint32_t k = 0; k < Size(image->kernels()); ++k) {
      const moex::Kernel* kernel = image->kernels()->Get(k);
      if (!kernel->symbol() || kernel->symbol()->size() == 0) {
        return DataLoss(name, ": kernels[", k, "] has no symbol");
      }
      symbols.push_back(kernel->symbol()->str());
    }
    Result<SegmentBytes> bytes = segment(image->segment(), StrCat("image ", i));
    if (!bytes.ok()) return annotate(bytes.status());
    MOERT_ASSIGN_OR_RETURN(auto executable,
                           hal::cpu::Executable::Load(name, bytes->data, bytes->size, symbols,
                                                      options.load));
    program->images_.push_back(std::move(executable));
  }
  // Synthetic weights last, once everything else is known to be good.
  if (!pending.empty()) {
    MOERT_RETURN_IF_ERROR(annotate(GenerateSyntheticWeights(pending, options.generate_threads)));
    // Weights are read-only by contract; now the hardware says so too.
    for (const HostMapping& mapping : program->synthetic_memory_) mprotect(mapping.data, mapping.size, PROT_READ);
  }
  return std::shared_ptr<const Program>(std::move(program));
}

// --- Session ---------------------------------------------------------------

Result<std::unique_ptr<Session>> Session::Create(std::shared_ptr<const Program> program,
                                                 const SessionOptions& options) {
  if (!program) return InvalidArgument("Session::Create without a program");
  std::unique_ptr<Session> session(new Session());
  session->program_ = std::move(program);
  const Program& p = *session->program_;
  const moex::Manifest& m = p.manifest();
  MOERT_ASSIGN_OR_RETURN(session->pool_, hal::cpu::ThreadPool::Create(options.threads));

  auto map = [&](uint64_t size, const std::string& what) -> Result<uint8_t*> {
    // One page at least, so that every buffer has a distinct address.
    uint64_t bytes = size == 0 ? kPageSize : size;
    if (bytes > std::numeric_limits<size_t>::max() - kPageSize) {
      return ResourceExhausted(what, " of ", size, " bytes is too large");
    }
    void* data = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (data == MAP_FAILED) {
      return ResourceExhausted("allocating ", what, " of ", size, " bytes: ",
                               std::strerror(errno));
    }
    session->mappings_.push_back({static_cast<uint8_t*>(data), static_cast<size_t>(bytes)});
    return static_cast<uint8_t*>(data);
  };

  const uint32_t num_buffers = Size(m.buffers());
  session->mappings_.reserve(num_buffers + 1);
  MOERT_ASSIGN_OR_RETURN(uint8_t* arena, map(m.activation_arena_size(), "the activation arena"));
  session->buffer_base_.assign(num_buffers, nullptr);
  for (uint32_t i = 0; i < num_buffers; ++i) {
    const moex::Buffer* b = m.buffers()->Get(i);
    switch (b->kind()) {
      case BufferKind::ACTIVATION:
        session->buffer_base_[i] = arena + b->arena_offset();
        break;
      case BufferKind::WEIGHT:
        // Kernels get void* bindings; weights are read-only by contract (and
        // usually mapped read-only).
        session->buffer_base_[i] = const_cast<uint8_t*>(p.weight_data_[i]);
        break;
      case BufferKind::KV_CACHE:
      case BufferKind::WORKSPACE:  // mapped zeroed, like the caches
      case BufferKind::INPUT:
      case BufferKind::OUTPUT: {
        MOERT_ASSIGN_OR_RETURN(session->buffer_base_[i], map(b->size(), BufferName(m, i)));
        break;
      }
    }
  }

  if (p.prefill()) MOERT_RETURN_IF_ERROR(session->Prepare(p.prefill(), &session->prefill_));
  if (p.decode()) MOERT_RETURN_IF_ERROR(session->Prepare(p.decode(), &session->decode_));
  session->profile_ = options.profile;
  for (PreparedEntry* e : {&session->prefill_, &session->decode_}) {
    if (options.profile) {
      e->seconds.assign(e->dispatches.size(), 0.0);
      e->calls.assign(e->dispatches.size(), 0);
    }
  }

  uint64_t logits_floats = 0;
  if (!CheckedMul(p.num_slots(), p.vocab_size(), &logits_floats) ||
      logits_floats > std::numeric_limits<size_t>::max() / sizeof(float)) {
    return ResourceExhausted("logits for ", p.num_slots(), " slots of ", p.vocab_size(),
                             " tokens overflow");
  }
  session->positions_.assign(p.num_slots(), 0);
  session->has_logits_.assign(p.num_slots(), 0);
  session->slot_logits_.assign(static_cast<size_t>(logits_floats), 0.0f);
  return session;
}

Session::~Session() {
  // The pool first: no worker may touch a buffer after it is unmapped.
  pool_.reset();
  for (const Mapping& mapping : mappings_) munmap(mapping.data, mapping.size);
}

Status Session::Prepare(const moex::EntryPoint* ep, PreparedEntry* out) {
  out->entry = ep;
  out->rows = ep->rows();
  out->tokens = reinterpret_cast<int32_t*>(buffer_base_[ep->tokens()]);
  out->positions = reinterpret_cast<int32_t*>(buffer_base_[ep->positions()]);
  out->slots = reinterpret_cast<int32_t*>(buffer_base_[ep->slots()]);
  out->live_rows = reinterpret_cast<int32_t*>(buffer_base_[ep->live_rows()]);
  out->logits = reinterpret_cast<const float*>(buffer_base_[ep->logits()]);
  const uint32_t num_dispatches = Size(ep->dispatches());
  size_t total_bindings = 0;
  for (uint32_t d = 0; d < num_dispatches; ++d) {
    total_bindings += Size(ep->dispatches()->Get(d)->bindings());
  }
  // Reserved up front: the dispatches point into this vector.
  out->binding_pointers.reserve(total_bindings);
  out->dispatches.reserve(num_dispatches);
  for (uint32_t d = 0; d < num_dispatches; ++d) {
    const moex::Dispatch* dispatch = ep->dispatches()->Get(d);
    PreparedDispatch prepared;
    prepared.kernel = program_->images_[dispatch->image()]->kernel(dispatch->kernel());
    prepared.bindings = out->binding_pointers.data() + out->binding_pointers.size();
    for (uint32_t b = 0; b < Size(dispatch->bindings()); ++b) {
      const moex::Binding* binding = dispatch->bindings()->Get(b);
      out->binding_pointers.push_back(buffer_base_[binding->buffer()] + binding->offset());
    }
    prepared.constants = Size(dispatch->constants()) ? dispatch->constants()->data() : nullptr;
    prepared.workgroups_x = dispatch->workgroups_x();
    prepared.workgroups_y = dispatch->workgroups_y();
    prepared.workgroups_z = dispatch->workgroups_z();
    out->dispatches.push_back(prepared);
  }
  return Status::Ok();
}

Status Session::Run(PreparedEntry& entry) {
  if (trace_) {
    trace_->BeginCall();
    const DispatchTrace::BindingReader read = [this](const moex::Binding& b, uint8_t* dst) {
      std::memcpy(dst, buffer_base_[b.buffer()] + b.offset(), b.size());
      return Status::Ok();
    };
    for (size_t i = 0; i < entry.dispatches.size(); ++i) {
      const PreparedDispatch& d = entry.dispatches[i];
      MOERT_RETURN_IF_ERROR(trace_->TraceDispatch(
          program_->manifest(), *entry.entry->dispatches()->Get(static_cast<uint32_t>(i)), read, [&] {
            hal::cpu::RunKernel(d.kernel, d.bindings, d.constants, d.workgroups_x, d.workgroups_y,
                                d.workgroups_z, *pool_);
            return Status::Ok();
          }));
    }
    return Status::Ok();
  }
  if (!profile_) {
    for (const PreparedDispatch& d : entry.dispatches) {
      hal::cpu::RunKernel(d.kernel, d.bindings, d.constants, d.workgroups_x, d.workgroups_y,
                          d.workgroups_z, *pool_);
    }
    return Status::Ok();
  }
  for (size_t i = 0; i < entry.dispatches.size(); ++i) {
    const PreparedDispatch& d = entry.dispatches[i];
    const auto start = std::chrono::steady_clock::now();
    hal::cpu::RunKernel(d.kernel, d.bindings, d.constants, d.workgroups_x, d.workgroups_y,
                        d.workgroups_z, *pool_);
    entry.seconds[i] += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++entry.calls[i];
  }
  return Status::Ok();
}

std::vector<DispatchProfile> Session::profile() const {
  std::vector<DispatchProfile> out;
  for (const PreparedEntry* e : {&prefill_, &decode_}) {
    for (size_t i = 0; i < e->seconds.size(); ++i) {
      out.push_back({e->entry, static_cast<uint32_t>(i), e->calls[i], e->seconds[i]});
    }
  }
  return out;
}

Status Session::CheckSlot(uint32_t slot, const char* call) const {
  if (slot >= program_->num_slots()) {
    return InvalidArgument(call, ": slot ", slot, " is past the artifact's ",
                           program_->num_slots(), " slots");
  }
  return Status::Ok();
}

Status Session::CheckTokens(const int32_t* tokens, size_t count, const char* call) const {
  const int32_t vocab = static_cast<int32_t>(program_->vocab_size());
  for (size_t i = 0; i < count; ++i) {
    if (tokens[i] < 0 || tokens[i] >= vocab) {
      return InvalidArgument(call, ": token ", i, " = ", tokens[i],
                             " is outside the vocabulary of ", vocab);
    }
  }
  return Status::Ok();
}

Status Session::Prefill(uint32_t slot, const int32_t* tokens, size_t count, float* all_logits) {
  if (!prefill_.entry) {
    return FailedPrecondition(program_->source(), " has no \"prefill\" entry point");
  }
  MOERT_RETURN_IF_ERROR(CheckSlot(slot, "prefill"));
  if (count == 0) return InvalidArgument("prefill: no tokens");
  if (!tokens) return InvalidArgument("prefill: tokens is null");
  MOERT_RETURN_IF_ERROR(CheckTokens(tokens, count, "prefill"));
  const uint64_t start = positions_[slot];
  const uint64_t max_context = program_->max_context();
  if (count > max_context - start) {
    if (start == 0) {
      return OutOfRange("prompt of ", count, " tokens exceeds the artifact's context of ",
                        max_context);
    }
    return OutOfRange("slot ", slot, " holds ", start, " tokens; ", count,
                      " more would exceed the artifact's context of ", max_context);
  }

  PreparedEntry& e = prefill_;
  const size_t vocab = program_->vocab_size();
  for (size_t done = 0; done < count; done += e.rows) {
    const size_t real = std::min<size_t>(e.rows, count - done);
    for (size_t r = 0; r < e.rows; ++r) {
      const bool is_real = r < real;
      e.tokens[r] = is_real ? tokens[done + r] : 0;
      e.positions[r] = is_real ? static_cast<int32_t>(start + done + r) : -1;
      e.slots[r] = static_cast<int32_t>(slot);
    }
    // Without all_logits, only the chunk's last row's logits are read, and
    // only the final chunk's.
    e.live_rows[0] = static_cast<int32_t>(real);
    e.live_rows[1] = static_cast<int32_t>(all_logits ? 0 : done + real == count ? real - 1 : real);
    MOERT_RETURN_IF_ERROR(Run(e));
    if (all_logits) {
      std::memcpy(all_logits + done * vocab, e.logits, real * vocab * sizeof(float));
    }
    if (done + real == count) {
      std::memcpy(slot_logits_.data() + slot * vocab, e.logits + (real - 1) * vocab,
                  vocab * sizeof(float));
    }
  }
  positions_[slot] = static_cast<uint32_t>(start + count);
  has_logits_[slot] = 1;
  return Status::Ok();
}

Status Session::Decode(const uint32_t* slots, const int32_t* tokens, size_t count) {
  if (!decode_.entry) {
    return FailedPrecondition(program_->source(), " has no \"decode\" entry point");
  }
  PreparedEntry& e = decode_;
  if (count == 0) return InvalidArgument("decode: no sequences");
  if (!slots || !tokens) return InvalidArgument("decode: slots or tokens is null");
  if (count > e.rows) {
    return InvalidArgument("decode: batch of ", count, " sequences exceeds the artifact's ",
                           e.rows, " decode rows");
  }
  MOERT_RETURN_IF_ERROR(CheckTokens(tokens, count, "decode"));
  for (size_t i = 0; i < count; ++i) {
    MOERT_RETURN_IF_ERROR(CheckSlot(slots[i], "decode"));
    for (size_t j = 0; j < i; ++j) {
      if (slots[j] == slots[i]) {
        return InvalidArgument("decode: slot ", slots[i], " appears twice (rows ", j, " and ",
                               i, ")");
      }
    }
    if (positions_[slots[i]] >= program_->max_context()) {
      return OutOfRange("decode: slot ", slots[i], " is full: its ", positions_[slots[i]],
                        " tokens reach the artifact's context of ", program_->max_context());
    }
  }
  for (size_t r = 0; r < e.rows; ++r) {
    const bool is_real = r < count;
    e.tokens[r] = is_real ? tokens[r] : 0;
    e.positions[r] = is_real ? static_cast<int32_t>(positions_[slots[r]]) : -1;
    e.slots[r] = static_cast<int32_t>(is_real ? slots[r] : slots[0]);
  }
  e.live_rows[0] = static_cast<int32_t>(count);
  e.live_rows[1] = 0;
  MOERT_RETURN_IF_ERROR(Run(e));
  const size_t vocab = program_->vocab_size();
  for (size_t i = 0; i < count; ++i) {
    std::memcpy(slot_logits_.data() + slots[i] * vocab, e.logits + i * vocab,
                vocab * sizeof(float));
    positions_[slots[i]] += 1;
    has_logits_[slots[i]] = 1;
  }
  return Status::Ok();
}

const float* Session::logits(uint32_t slot) const {
  if (slot >= program_->num_slots() || !has_logits_[slot]) return nullptr;
  return slot_logits_.data() + static_cast<size_t>(slot) * program_->vocab_size();
}

Status Session::ResetSlot(uint32_t slot) {
  MOERT_RETURN_IF_ERROR(CheckSlot(slot, "reset"));
  positions_[slot] = 0;
  has_logits_[slot] = 0;
  return Status::Ok();
}

Result<int32_t> Session::Sample(uint32_t slot, Sampler& sampler) const {
  MOERT_RETURN_IF_ERROR(CheckSlot(slot, "sample"));
  if (sampler.vocab_size() != program_->vocab_size()) {
    return InvalidArgument("sample: the sampler covers ", sampler.vocab_size(),
                           " tokens; the artifact's vocabulary has ", program_->vocab_size());
  }
  const float* row = logits(slot);
  if (!row) {
    return FailedPrecondition("sample: slot ", slot, " has no logits yet (prefill first)");
  }
  return sampler.Sample(row, positions_[slot]);
}

Result<std::vector<int32_t>> Session::Generate(uint32_t slot, const std::vector<int32_t>& prompt,
                                               uint32_t max_new_tokens,
                                               const SamplingParams& params,
                                               const std::vector<int32_t>& stop_tokens) {
  return GenerateTokens(*this, program_->vocab_size(), program_->max_context(), slot, prompt, max_new_tokens, params,
                        stop_tokens);
}

}  // namespace moert::exec
