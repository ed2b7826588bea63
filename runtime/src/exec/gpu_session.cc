#include "exec/gpu_session.h"

#include "exec/plan_checks.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>

#include "artifact/synthetic.h"
#include "base/checked_math.h"
#include "hal/cuda/device.h"
#include "hal/hip/device.h"

namespace moert::exec {
namespace {

using moex::BufferKind;

// Kernels get the manifest's constants as they are stored (little-endian).
static_assert(FLATBUFFERS_LITTLEENDIAN, "moert's GPU executor needs a little-endian host");

// What a device allocation's address is aligned to at least (CUDA and HIP
// both give 256 bytes).
constexpr uint64_t kDeviceAlignment = 256;

template <typename T>
uint32_t Size(const flatbuffers::Vector<T>* v) {
  return v ? v->size() : 0;
}

std::string Str(const flatbuffers::String* s) { return s ? s->str() : std::string("?"); }

std::string BufferName(const moex::Manifest& m, uint32_t index) { return BufferDescription(m, index); }

// The shared plan checks, then what a GPU launch adds: a parameter list the
// driver accepts and a workgroup size.
Status CheckEntryPoint(const moex::Manifest& m, uint32_t e, uint32_t vocab) {
  MOERT_RETURN_IF_ERROR(CheckEntryPointPlan(m, e, vocab));
  const moex::EntryPoint* ep = m.entry_points()->Get(e);
  for (uint32_t d = 0; d < Size(ep->dispatches()); ++d) {
    const moex::Dispatch* dispatch = ep->dispatches()->Get(d);
    const moex::Kernel* kernel = m.images()->Get(dispatch->image())->kernels()->Get(dispatch->kernel());
    const std::string at = StrCat("entry_points[", e, "] (", Str(ep->name()), ").dispatches[", d, "] (",
                                  Str(kernel->name()), ")");
    if (uint64_t{kernel->num_bindings()} + kernel->num_constants() > hal::kMaxKernelParameters) {
      return DataLoss(at, " passes ", kernel->num_bindings(), " bindings + ", kernel->num_constants(),
                      " constants, above the ", hal::kMaxKernelParameters, " kernel parameters a launch may pass");
    }
    if (kernel->block_x() == 0) return DataLoss(at, " has block_x 0");
  }
  return Status::Ok();
}

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace

Result<std::unique_ptr<GpuSession>> GpuSession::Create(hal::GpuDevice& device,
                                                       const moex::Manifest& manifest,
                                                       const SegmentResolver& segments,
                                                       const GpuSessionOptions& options) {
  std::unique_ptr<GpuSession> session(new GpuSession());
  session->device_ = &device;
  session->manifest_ = &manifest;
  session->source_ = options.source;
  MOERT_RETURN_IF_ERROR(session->Init(segments, options).Annotate(options.source));
  return session;
}

Result<std::unique_ptr<GpuSession>> GpuSession::Create(std::unique_ptr<hal::GpuDevice> device,
                                                       const moex::Manifest& manifest,
                                                       const SegmentResolver& segments,
                                                       const GpuSessionOptions& options) {
  if (!device) return InvalidArgument("GpuSession::Create without a device");
  std::unique_ptr<GpuSession> session(new GpuSession());
  session->device_ = device.get();
  session->owned_device_ = std::move(device);
  session->manifest_ = &manifest;
  session->source_ = options.source;
  MOERT_RETURN_IF_ERROR(session->Init(segments, options).Annotate(options.source));
  return session;
}

GpuSession::~GpuSession() {
  if (device_ == nullptr) return;
  // Teardown errors have nowhere to go; the device releases what is left.
  if (stream_ != nullptr) (void)device_->Synchronize(stream_);
  for (PreparedEntry* e : {&prefill_, &decode_}) {
    if (e->graph != nullptr) (void)device_->DestroyGraph(e->graph);
  }
  if (stream_ != nullptr) (void)device_->DestroyStream(stream_);
  for (const hal::DeviceBuffer& b : allocations_) (void)device_->Free(b);
  for (hal::GpuModule module : modules_) (void)device_->UnloadModule(module);
}

Status GpuSession::Init(const SegmentResolver& segments, const GpuSessionOptions&) {
  const moex::Manifest& m = *manifest_;
  hal::GpuDevice& device = *device_;
  const std::string api = device.info().api;
  if (!m.model() || m.model()->vocab_size() == 0) {
    return DataLoss("manifest.model.vocab_size is missing or 0");
  }
  if (m.model()->vocab_size() > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
    return DataLoss("manifest.model.vocab_size ", m.model()->vocab_size(), " exceeds the i32 token ids");
  }
  vocab_size_ = m.model()->vocab_size();
  eos_token_id_ = m.model()->eos_token_id();
  if (m.max_context() == 0) return DataLoss("manifest.max_context is 0");
  if (m.num_slots() == 0) return DataLoss("manifest.num_slots is 0");
  if (m.max_context() > static_cast<uint32_t>(std::numeric_limits<int32_t>::max()) ||
      m.num_slots() > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
    return DataLoss("manifest.max_context or num_slots exceeds the i32 inputs");
  }
  auto segment = [&](uint32_t index, const std::string& who) -> Result<SegmentBytes> {
    if (index >= Size(m.segments())) {
      return DataLoss(who, " names segment ", index, " past the ", Size(m.segments()), " segments");
    }
    Result<SegmentBytes> bytes = segments(index);
    if (!bytes.ok()) return bytes.status().Annotate(who);
    return bytes;
  };

  // Every size first, before any device work.
  const uint32_t num_buffers = Size(m.buffers());
  for (uint32_t i = 0; i < num_buffers; ++i) {
    const moex::Buffer* b = m.buffers()->Get(i);
    const std::string name = BufferName(m, i);
    if (!IsPowerOfTwo(b->alignment())) {
      return DataLoss(name, ".alignment ", b->alignment(), " is not a power of two");
    }
    if (b->alignment() > kDeviceAlignment) {
      return Unimplemented(name, ".alignment ", b->alignment(), " exceeds the ", kDeviceAlignment,
                           " bytes device allocations are aligned to");
    }
    if (b->kind() == BufferKind::ACTIVATION) {
      uint64_t end = 0;
      if (!CheckedAdd(b->arena_offset(), b->size(), &end) || end > m.activation_arena_size()) {
        return DataLoss(name, " = [", b->arena_offset(), ", +", b->size(),
                        ") exceeds the activation arena of ", m.activation_arena_size(), " bytes");
      }
      if (b->arena_offset() % b->alignment() != 0) {
        return DataLoss(name, ".arena_offset ", b->arena_offset(),
                        " is not a multiple of its alignment ", b->alignment());
      }
    } else if (b->kind() == BufferKind::WEIGHT) {
      if (b->weight() < 0 || static_cast<uint32_t>(b->weight()) >= Size(m.weights())) {
        return DataLoss(name, ".weight = ", b->weight(), " is not one of the ", Size(m.weights()),
                        " weights");
      }
      const uint32_t weight_index = static_cast<uint32_t>(b->weight());
      const moex::Weight* w = m.weights()->Get(weight_index);
      if (b->size() > w->size()) {
        return DataLoss(name, " of ", b->size(), " bytes is larger than its weight ",
                        Str(w->name()), " of ", w->size(), " bytes");
      }
      if (IsSynthetic(*w)) {
        MOERT_ASSIGN_OR_RETURN(std::vector<SyntheticRun> runs, SyntheticWeightRuns(m, weight_index));
        if (m.synthetic()->fill_image() < 0 || m.synthetic()->fill_kernel() < 0 ||
            static_cast<uint32_t>(m.synthetic()->fill_image()) >= Size(m.images()) ||
            static_cast<uint32_t>(m.synthetic()->fill_kernel()) >=
                Size(m.images()->Get(static_cast<uint32_t>(m.synthetic()->fill_image()))->kernels())) {
          return DataLoss("weight ", Str(w->name()), " is synthetic but manifest.synthetic names no fill kernel "
                          "(fill_image ", m.synthetic()->fill_image(), ", fill_kernel ",
                          m.synthetic()->fill_kernel(), "): a GPU generates synthetic weights on the device");
        }
        // Only the buffer's bytes: a run past them is cut short.
        for (const SyntheticRun& run : runs) {
          if (run.offset >= b->size()) break;
          SyntheticFill fill{i, run.offset, run.part};
          fill.part.size = std::min(run.part.size, b->size() - run.offset);
          synthetic_fills_.push_back(fill);
        }
      }
    } else if (b->kind() > BufferKind::MAX) {
      return DataLoss(name, ".kind ", static_cast<int>(b->kind()), " is not a BufferKind");
    }
  }
  for (uint32_t e = 0; e < Size(m.entry_points()); ++e) {
    MOERT_RETURN_IF_ERROR(CheckEntryPoint(m, e, vocab_size_));
  }
  for (uint32_t i = 0; i < Size(m.images()); ++i) {
    const moex::DeviceImage* image = m.images()->Get(i);
    const bool cuda = image->format() == moex::ImageFormat::PTX ||
                      image->format() == moex::ImageFormat::CUBIN;
    const bool hip = image->format() == moex::ImageFormat::HSACO;
    if (!(cuda && api == "CUDA") && !(hip && api == "HIP")) {
      return Unimplemented("image ", i, " has format ", moex::EnumNameImageFormat(image->format()),
                           ", which a ", api, " device does not load");
    }
    for (uint32_t k = 0; k < Size(image->kernels()); ++k) {
      const moex::Kernel* kernel = image->kernels()->Get(k);
      if (!kernel->symbol() || kernel->symbol()->size() == 0) {
        return DataLoss("image ", i, ": kernels[", k, "] has no symbol");
      }
    }
  }
  uint64_t logits_floats = 0;
  if (!CheckedMul(m.num_slots(), vocab_size_, &logits_floats) ||
      logits_floats > std::numeric_limits<size_t>::max() / sizeof(float)) {
    return ResourceExhausted("logits for ", m.num_slots(), " slots of ", vocab_size_, " tokens overflow");
  }

  // Device images and their kernels.
  for (uint32_t i = 0; i < Size(m.images()); ++i) {
    const moex::DeviceImage* image = m.images()->Get(i);
    const std::string name = StrCat("image ", i, " (segment ", image->segment(), ")");
    MOERT_ASSIGN_OR_RETURN(SegmentBytes bytes, segment(image->segment(), name));
    MOERT_ASSIGN_OR_RETURN(hal::GpuModule module, device.LoadModule(name, bytes.data, bytes.size));
    modules_.push_back(module);
    functions_.emplace_back();
    for (uint32_t k = 0; k < Size(image->kernels()); ++k) {
      const moex::Kernel* kernel = image->kernels()->Get(k);
      Result<hal::GpuFunction> function = device.GetFunction(module, kernel->symbol()->str());
      if (!function.ok()) {
        return function.status().Annotate(StrCat(name, " kernel ", k, " (", Str(kernel->name()), ")"));
      }
      functions_.back().push_back(*function);
    }
  }

  // Device memory.
  auto allocate = [&](uint64_t size, const std::string& what) -> Result<hal::DeviceBuffer> {
    // One byte at least: drivers refuse empty allocations.
    Result<hal::DeviceBuffer> buffer = device.Allocate(std::max<uint64_t>(size, 1));
    if (!buffer.ok()) return buffer.status().Annotate(StrCat("allocating ", what, " of ", size, " bytes"));
    allocations_.push_back(*buffer);
    return hal::DeviceBuffer{buffer->address, size};
  };
  allocations_.reserve(num_buffers + 1);
  MOERT_ASSIGN_OR_RETURN(hal::DeviceBuffer arena,
                         allocate(m.activation_arena_size(), "the activation arena"));
  buffers_.assign(num_buffers, hal::DeviceBuffer{});
  for (uint32_t i = 0; i < num_buffers; ++i) {
    const moex::Buffer* b = m.buffers()->Get(i);
    const std::string name = BufferName(m, i);
    switch (b->kind()) {
      case BufferKind::ACTIVATION:
        buffers_[i] = {arena.address + b->arena_offset(), b->size()};
        break;
      case BufferKind::WEIGHT: {
        const moex::Weight* w = m.weights()->Get(static_cast<uint32_t>(b->weight()));
        const std::string wname = StrCat("weight ", Str(w->name()));
        if (IsSynthetic(*w)) {
          // Generated by the fill kernel below, once the stream exists.
          MOERT_ASSIGN_OR_RETURN(buffers_[i], allocate(b->size(), name));
          break;
        }
        MOERT_ASSIGN_OR_RETURN(SegmentBytes bytes, segment(w->segment(), wname));
        uint64_t end = 0;
        if (!CheckedAdd(w->offset(), w->size(), &end) || end > bytes.size) {
          return DataLoss(wname, " = [", w->offset(), ", +", w->size(), ") exceeds segment ",
                          w->segment(), " of ", bytes.size, " bytes");
        }
        MOERT_ASSIGN_OR_RETURN(buffers_[i], allocate(b->size(), name));
        MOERT_RETURN_IF_ERROR(device.CopyToDevice(buffers_[i], 0, bytes.data + w->offset(), b->size())
                                  .Annotate(StrCat("uploading ", wname)));
        break;
      }
      case BufferKind::KV_CACHE:
      case BufferKind::WORKSPACE: {
        MOERT_ASSIGN_OR_RETURN(buffers_[i], allocate(b->size(), name));
        MOERT_RETURN_IF_ERROR(device.Fill(buffers_[i], 0, b->size(), 0).Annotate(StrCat("zeroing ", name)));
        break;
      }
      case BufferKind::INPUT:
      case BufferKind::OUTPUT: {
        MOERT_ASSIGN_OR_RETURN(buffers_[i], allocate(b->size(), name));
        break;
      }
    }
  }
  MOERT_ASSIGN_OR_RETURN(stream_, device.CreateStream());
  MOERT_RETURN_IF_ERROR(GenerateSyntheticWeights());

  for (uint32_t e = 0; e < Size(m.entry_points()); ++e) {
    const moex::EntryPoint* ep = m.entry_points()->Get(e);
    const std::string name = ep->name() ? ep->name()->str() : std::string();
    if (name == "prefill" && prefill_.entry == nullptr) MOERT_RETURN_IF_ERROR(Prepare(ep, &prefill_));
    if (name == "decode" && decode_.entry == nullptr) MOERT_RETURN_IF_ERROR(Prepare(ep, &decode_));
  }
  positions_.assign(m.num_slots(), 0);
  has_logits_.assign(m.num_slots(), 0);
  slot_logits_.assign(static_cast<size_t>(logits_floats), 0.0f);
  return Status::Ok();
}

Status GpuSession::GenerateSyntheticWeights() {
  if (synthetic_fills_.empty()) return Status::Ok();
  const moex::Manifest& m = *manifest_;
  hal::GpuDevice& device = *device_;
  const uint32_t image = static_cast<uint32_t>(m.synthetic()->fill_image());
  const uint32_t kernel = static_cast<uint32_t>(m.synthetic()->fill_kernel());
  const uint32_t block = m.images()->Get(image)->kernels()->Get(kernel)->block_x();
  if (block == 0) return DataLoss("the synthetic fill kernel has block_x 0");
  // Every run's descriptor in one upload; freed once the fills are done.
  std::vector<synthetic::Part> parts;
  for (const SyntheticFill& fill : synthetic_fills_) parts.push_back(fill.part);
  const uint64_t bytes = parts.size() * sizeof(synthetic::Part);
  MOERT_ASSIGN_OR_RETURN(hal::DeviceBuffer descriptors, device.Allocate(bytes));
  Status status = device.CopyToDevice(descriptors, 0, parts.data(), bytes);
  for (size_t k = 0; k < synthetic_fills_.size() && status.ok(); ++k) {
    const SyntheticFill& fill = synthetic_fills_[k];
    // One thread per 8 bytes, grid-stride beyond 2^16 workgroups.
    const uint64_t words = (fill.part.size + 7) / 8;
    const uint64_t workgroups = std::min<uint64_t>((words + block - 1) / block, uint64_t{1} << 16);
    const uint64_t bindings[2] = {buffers_[fill.buffer].address + fill.offset,
                                  descriptors.address + k * sizeof(synthetic::Part)};
    hal::KernelLaunch launch;
    launch.function = functions_[image][kernel];
    launch.grid[0] = static_cast<uint32_t>(std::max<uint64_t>(workgroups, 1));
    launch.block[0] = block;
    launch.bindings = bindings;
    launch.binding_count = 2;
    status = device.Launch(stream_, launch)
                 .Annotate(StrCat("generating synthetic ", BufferName(m, fill.buffer), " bytes [", fill.offset,
                                  ", +", fill.part.size, ")"));
  }
  if (status.ok()) status = device.Synchronize(stream_).Annotate("generating synthetic weights");
  Status freed = device.Free(descriptors);
  MOERT_RETURN_IF_ERROR(status);
  return freed;
}

Status GpuSession::Prepare(const moex::EntryPoint* ep, PreparedEntry* out) {
  out->entry = ep;
  out->rows = ep->rows();
  out->tokens = buffers_[ep->tokens()];
  out->positions = buffers_[ep->positions()];
  out->slots = buffers_[ep->slots()];
  out->live_rows = buffers_[ep->live_rows()];
  out->logits = buffers_[ep->logits()];
  out->host_tokens.assign(out->rows, 0);
  out->host_positions.assign(out->rows, 0);
  out->host_slots.assign(out->rows, 0);
  out->host_logits.assign(static_cast<size_t>(out->rows) * vocab_size_, 0.0f);
  const uint32_t num_dispatches = Size(ep->dispatches());
  size_t total_bindings = 0;
  for (uint32_t d = 0; d < num_dispatches; ++d) total_bindings += Size(ep->dispatches()->Get(d)->bindings());
  // Reserved up front: the launches point into this vector.
  out->addresses.reserve(total_bindings);
  out->launches.reserve(num_dispatches);
  for (uint32_t d = 0; d < num_dispatches; ++d) {
    const moex::Dispatch* dispatch = ep->dispatches()->Get(d);
    const moex::Kernel* kernel = manifest_->images()->Get(dispatch->image())->kernels()->Get(dispatch->kernel());
    hal::KernelLaunch launch;
    launch.function = functions_[dispatch->image()][dispatch->kernel()];
    launch.grid[0] = dispatch->workgroups_x();
    launch.grid[1] = dispatch->workgroups_y();
    launch.grid[2] = dispatch->workgroups_z();
    launch.block[0] = kernel->block_x();
    launch.shared_memory_bytes = kernel->shared_memory_bytes();
    launch.bindings = out->addresses.data() + out->addresses.size();
    launch.binding_count = Size(dispatch->bindings());
    for (uint32_t b = 0; b < launch.binding_count; ++b) {
      const moex::Binding* binding = dispatch->bindings()->Get(b);
      out->addresses.push_back(buffers_[binding->buffer()].address + binding->offset());
    }
    launch.constants = Size(dispatch->constants()) ? dispatch->constants()->data() : nullptr;
    launch.constant_count = Size(dispatch->constants());
    out->launches.push_back(launch);
  }
  return Status::Ok();
}

Status GpuSession::Run(PreparedEntry& e, bool use_graph) {
  const uint64_t bytes = uint64_t{e.rows} * sizeof(int32_t);
  MOERT_RETURN_IF_ERROR(device_->CopyToDevice(e.tokens, 0, e.host_tokens.data(), bytes));
  MOERT_RETURN_IF_ERROR(device_->CopyToDevice(e.positions, 0, e.host_positions.data(), bytes));
  MOERT_RETURN_IF_ERROR(device_->CopyToDevice(e.slots, 0, e.host_slots.data(), bytes));
  MOERT_RETURN_IF_ERROR(device_->CopyToDevice(e.live_rows, 0, e.host_live_rows, sizeof e.host_live_rows));
  if (trace_) {
    trace_->BeginCall();
    const DispatchTrace::BindingReader read = [this](const moex::Binding& b, uint8_t* dst) {
      return device_->CopyToHost(dst, buffers_[b.buffer()], b.offset(), b.size());
    };
    for (size_t i = 0; i < e.launches.size(); ++i) {
      const moex::Dispatch* d = e.entry->dispatches()->Get(static_cast<uint32_t>(i));
      Status status = trace_->TraceDispatch(*manifest_, *d, read, [&] {
        MOERT_RETURN_IF_ERROR(device_->Launch(stream_, e.launches[i]));
        return device_->Synchronize(stream_);
      });
      if (!status.ok()) {
        const moex::Kernel* k = manifest_->images()->Get(d->image())->kernels()->Get(d->kernel());
        return status.Annotate(StrCat(Str(e.entry->name()), " dispatch ", i, " (", Str(k->name()), ")"));
      }
    }
    return Status::Ok();
  }
  if (use_graph) {
    if (e.graph == nullptr) {
      MOERT_ASSIGN_OR_RETURN(e.graph, device_->CaptureGraph(stream_, e.launches.data(), e.launches.size()));
    }
    MOERT_RETURN_IF_ERROR(device_->ReplayGraph(e.graph, stream_));
  } else {
    for (size_t i = 0; i < e.launches.size(); ++i) {
      Status status = device_->Launch(stream_, e.launches[i]);
      if (!status.ok()) {
        const moex::Dispatch* d = e.entry->dispatches()->Get(static_cast<uint32_t>(i));
        const moex::Kernel* k = manifest_->images()->Get(d->image())->kernels()->Get(d->kernel());
        return status.Annotate(StrCat(Str(e.entry->name()), " dispatch ", i, " (", Str(k->name()), ")"));
      }
    }
  }
  return device_->Synchronize(stream_);
}

Status GpuSession::CheckSlot(uint32_t slot, const char* call) const {
  if (slot >= num_slots()) {
    return InvalidArgument(call, ": slot ", slot, " is past the artifact's ", num_slots(), " slots");
  }
  return Status::Ok();
}

Status GpuSession::CheckTokens(const int32_t* tokens, size_t count, const char* call) const {
  const int32_t vocab = static_cast<int32_t>(vocab_size_);
  for (size_t i = 0; i < count; ++i) {
    if (tokens[i] < 0 || tokens[i] >= vocab) {
      return InvalidArgument(call, ": token ", i, " = ", tokens[i], " is outside the vocabulary of ", vocab);
    }
  }
  return Status::Ok();
}

Status GpuSession::Prefill(uint32_t slot, const int32_t* tokens, size_t count, float* all_logits) {
  if (!prefill_.entry) return FailedPrecondition(source_, " has no \"prefill\" entry point");
  MOERT_RETURN_IF_ERROR(CheckSlot(slot, "prefill"));
  if (count == 0) return InvalidArgument("prefill: no tokens");
  if (!tokens) return InvalidArgument("prefill: tokens is null");
  MOERT_RETURN_IF_ERROR(CheckTokens(tokens, count, "prefill"));
  const uint64_t start = positions_[slot];
  const uint64_t max_context = manifest_->max_context();
  if (count > max_context - start) {
    if (start == 0) {
      return OutOfRange("prompt of ", count, " tokens exceeds the artifact's context of ", max_context);
    }
    return OutOfRange("slot ", slot, " holds ", start, " tokens; ", count,
                      " more would exceed the artifact's context of ", max_context);
  }
  PreparedEntry& e = prefill_;
  const size_t vocab = vocab_size_;
  const uint64_t row_bytes = vocab * sizeof(float);
  // Until this call succeeds the slot's logits are stale.
  has_logits_[slot] = 0;
  for (size_t done = 0; done < count; done += e.rows) {
    const size_t real = std::min<size_t>(e.rows, count - done);
    for (size_t r = 0; r < e.rows; ++r) {
      const bool is_real = r < real;
      e.host_tokens[r] = is_real ? tokens[done + r] : 0;
      e.host_positions[r] = is_real ? static_cast<int32_t>(start + done + r) : -1;
      e.host_slots[r] = static_cast<int32_t>(slot);
    }
    // Without all_logits, only the final chunk's last row's logits are read.
    e.host_live_rows[0] = static_cast<int32_t>(real);
    e.host_live_rows[1] = static_cast<int32_t>(all_logits ? 0 : done + real == count ? real - 1 : real);
    MOERT_RETURN_IF_ERROR(Run(e, /*use_graph=*/false));
    if (all_logits) {
      MOERT_RETURN_IF_ERROR(device_->CopyToHost(all_logits + done * vocab, e.logits, 0, real * row_bytes));
    }
    if (done + real == count) {
      float* dst = slot_logits_.data() + slot * vocab;
      if (all_logits) {
        std::memcpy(dst, all_logits + (count - 1) * vocab, row_bytes);
      } else {
        MOERT_RETURN_IF_ERROR(device_->CopyToHost(dst, e.logits, (real - 1) * row_bytes, row_bytes));
      }
    }
  }
  positions_[slot] = static_cast<uint32_t>(start + count);
  has_logits_[slot] = 1;
  return Status::Ok();
}

Status GpuSession::Decode(const uint32_t* slots, const int32_t* tokens, size_t count) {
  if (!decode_.entry) return FailedPrecondition(source_, " has no \"decode\" entry point");
  PreparedEntry& e = decode_;
  if (count == 0) return InvalidArgument("decode: no sequences");
  if (!slots || !tokens) return InvalidArgument("decode: slots or tokens is null");
  if (count > e.rows) {
    return InvalidArgument("decode: batch of ", count, " sequences exceeds the artifact's ", e.rows,
                           " decode rows");
  }
  MOERT_RETURN_IF_ERROR(CheckTokens(tokens, count, "decode"));
  for (size_t i = 0; i < count; ++i) {
    MOERT_RETURN_IF_ERROR(CheckSlot(slots[i], "decode"));
    for (size_t j = 0; j < i; ++j) {
      if (slots[j] == slots[i]) {
        return InvalidArgument("decode: slot ", slots[i], " appears twice (rows ", j, " and ", i, ")");
      }
    }
    if (positions_[slots[i]] >= manifest_->max_context()) {
      return OutOfRange("decode: slot ", slots[i], " is full: its ", positions_[slots[i]],
                        " tokens reach the artifact's context of ", manifest_->max_context());
    }
  }
  for (size_t r = 0; r < e.rows; ++r) {
    const bool is_real = r < count;
    e.host_tokens[r] = is_real ? tokens[r] : 0;
    e.host_positions[r] = is_real ? static_cast<int32_t>(positions_[slots[r]]) : -1;
    e.host_slots[r] = static_cast<int32_t>(is_real ? slots[r] : slots[0]);
  }
  e.host_live_rows[0] = static_cast<int32_t>(count);
  e.host_live_rows[1] = 0;
  // The first call runs the launches directly (the driver's first launches
  // may compile and load); every later one replays the graph captured once.
  const bool use_graph = decoded_once_;
  MOERT_RETURN_IF_ERROR(Run(e, use_graph));
  decoded_once_ = true;
  const size_t vocab = vocab_size_;
  MOERT_RETURN_IF_ERROR(device_->CopyToHost(e.host_logits.data(), e.logits, 0, count * vocab * sizeof(float)));
  for (size_t i = 0; i < count; ++i) {
    std::memcpy(slot_logits_.data() + slots[i] * vocab, e.host_logits.data() + i * vocab,
                vocab * sizeof(float));
    positions_[slots[i]] += 1;
    has_logits_[slots[i]] = 1;
  }
  return Status::Ok();
}

Result<std::vector<double>> GpuSession::ProfileDecodeDispatches(uint32_t repeats) {
  if (!decode_.entry) return FailedPrecondition(source_, " has no \"decode\" entry point");
  if (!decoded_once_) return FailedPrecondition("profiling the decode step needs one decode first (its inputs)");
  if (repeats == 0) return InvalidArgument("profiling needs at least one repeat");
  std::vector<double> seconds;
  std::vector<hal::KernelLaunch> copies(repeats);
  for (size_t i = 0; i < decode_.launches.size(); ++i) {
    std::fill(copies.begin(), copies.end(), decode_.launches[i]);
    MOERT_ASSIGN_OR_RETURN(hal::GpuGraph graph, device_->CaptureGraph(stream_, copies.data(), copies.size()));
    Status status = device_->ReplayGraph(graph, stream_);  // warm-up
    if (status.ok()) status = device_->Synchronize(stream_);
    const auto start = std::chrono::steady_clock::now();
    if (status.ok()) status = device_->ReplayGraph(graph, stream_);
    if (status.ok()) status = device_->Synchronize(stream_);
    const auto end = std::chrono::steady_clock::now();
    const Status destroyed = device_->DestroyGraph(graph);
    MOERT_RETURN_IF_ERROR(status.Annotate(StrCat("profiling decode dispatch ", i)));
    MOERT_RETURN_IF_ERROR(destroyed);
    seconds.push_back(std::chrono::duration<double>(end - start).count() / repeats);
  }
  return seconds;
}

const float* GpuSession::logits(uint32_t slot) const {
  if (slot >= num_slots() || !has_logits_[slot]) return nullptr;
  return slot_logits_.data() + static_cast<size_t>(slot) * vocab_size_;
}

Status GpuSession::ResetSlot(uint32_t slot) {
  MOERT_RETURN_IF_ERROR(CheckSlot(slot, "reset"));
  positions_[slot] = 0;
  has_logits_[slot] = 0;
  return Status::Ok();
}

std::string GpuSession::description() const {
  const hal::GpuDeviceInfo& info = device_->info();
  return StrCat(info.api, " device ", info.ordinal, ": ", info.name, " (", info.arch, ")");
}

Result<std::unique_ptr<hal::GpuDevice>> OpenGpuDevice(const moex::Target& target, int ordinal) {
  const std::string name = target.name() ? target.name()->str() : std::string();
  switch (target.kind()) {
    case moex::TargetKind::CUDA: {
      MOERT_ASSIGN_OR_RETURN(auto cuda, hal::cuda::CudaDevice::Open(ordinal, name));
      return std::unique_ptr<hal::GpuDevice>(std::move(cuda));
    }
    case moex::TargetKind::HIP: {
      MOERT_ASSIGN_OR_RETURN(auto hip, hal::hip::HipDevice::Open(ordinal, name));
      return std::unique_ptr<hal::GpuDevice>(std::move(hip));
    }
    default:
      return InvalidArgument("the artifact targets ", moex::EnumNameTargetKind(target.kind()),
                             "; the GPU executor runs CUDA and HIP artifacts");
  }
}

Result<std::unique_ptr<GpuSession>> OpenGpuSession(const moex::Manifest& manifest,
                                                   const SegmentResolver& segments,
                                                   const GpuSessionOptions& options) {
  if (!manifest.target()) return DataLoss(options.source, ": the manifest names no target");
  auto device = OpenGpuDevice(*manifest.target(), options.ordinal);
  if (!device.ok()) return device.status().Annotate(options.source);
  return GpuSession::Create(std::move(device).value(), manifest, segments, options);
}

}  // namespace moert::exec
