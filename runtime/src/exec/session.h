// Executes the entry points of a .moex manifest on the CPU.
//
// Program: what every session of one artifact shares, built once: the device
// images loaded and their kernels resolved, WEIGHT buffers resolved to their
// bytes (synthetic weights generated into host memory, on every CPU), and
// every size of the manifest checked (each binding inside its buffer, each
// activation inside the arena, inputs and logits shaped for their entry
// point). Immutable afterwards.
//
// Session: one set of sequences in flight: the ACTIVATION arena, the KV_CACHE
// buffers (zeroed, persistent), the INPUT/OUTPUT buffers, a position per slot
// and the latest logits per slot. Prefill and Decode fill the inputs, run the
// entry point's dispatches in order (each sees the writes of the ones before)
// and copy logits out; they check their arguments but no sizes, and allocate
// nothing. A session is used by one thread at a time.
#ifndef MOERT_EXEC_SESSION_H_
#define MOERT_EXEC_SESSION_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "exec/dispatch_trace.h"
#include "exec/sampler.h"
#include "hal/cpu/executable.h"
#include "hal/cpu/thread_pool.h"
#include "schema/moex_generated.h"

namespace moert::exec {

// Bytes of one segment of the artifact; valid as long as the Program lives.
struct SegmentBytes {
  const uint8_t* data = nullptr;
  uint64_t size = 0;
};

// Returns segment `index` of Manifest.segments (the artifact reader provides
// it: moert::Artifact::segment). Called only while a Program is created.
using SegmentResolver = std::function<Result<SegmentBytes>(uint32_t index)>;

struct ProgramOptions {
  // Names the artifact in messages ("gpt-oss-20b.moex").
  std::string source = "<artifact>";
  hal::cpu::LoadOptions load;
  // Threads generating synthetic weights, the caller included; 0 means the
  // CPUs available to the process.
  uint32_t generate_threads = 0;
};

class Program {
 public:
  ~Program();
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  // `manifest` (and the segment bytes) must outlive the Program. Loads every
  // device image and checks every size once; fails naming the field at fault.
  static Result<std::shared_ptr<const Program>> Create(const moex::Manifest& manifest,
                                                       SegmentResolver segments,
                                                       ProgramOptions options = {});

  const moex::Manifest& manifest() const { return *manifest_; }
  const std::string& source() const { return source_; }
  uint32_t vocab_size() const { return vocab_size_; }
  uint32_t max_context() const { return manifest_->max_context(); }
  uint32_t num_slots() const { return manifest_->num_slots(); }
  // -1 when the model names none.
  int32_t eos_token_id() const { return eos_token_id_; }
  // Entry points by name; null when the artifact has none.
  const moex::EntryPoint* prefill() const { return prefill_; }
  const moex::EntryPoint* decode() const { return decode_; }

 private:
  friend class Session;
  Program() = default;

  const moex::Manifest* manifest_ = nullptr;
  std::string source_;
  uint32_t vocab_size_ = 0;
  int32_t eos_token_id_ = -1;
  const moex::EntryPoint* prefill_ = nullptr;
  const moex::EntryPoint* decode_ = nullptr;
  // Per manifest buffer: the weight bytes of a WEIGHT buffer, else null.
  std::vector<const uint8_t*> weight_data_;
  // Host memory of the synthetic weights, generated once in Create (read-only
  // afterwards) and unmapped with the Program.
  struct HostMapping {
    void* data = nullptr;
    size_t size = 0;
  };
  std::vector<HostMapping> synthetic_memory_;
  // Alignment of the activation arena (64 or the largest buffer alignment).
  uint64_t arena_alignment_ = 64;
  std::vector<std::unique_ptr<hal::cpu::Executable>> images_;
};

struct SessionOptions {
  // Threads running a dispatch's workgroups, the caller included; 0 means the
  // CPUs available to the process, 1 runs everything on the calling thread.
  uint32_t threads = 0;
  // Time every dispatch (two clock reads each); see Session::profile().
  bool profile = false;
};

// Accumulated wall time of one dispatch of an entry point.
struct DispatchProfile {
  const moex::EntryPoint* entry = nullptr;
  uint32_t dispatch = 0;  // index into entry->dispatches()
  uint64_t calls = 0;
  double seconds = 0;
};

class Session {
 public:
  static Result<std::unique_ptr<Session>> Create(std::shared_ptr<const Program> program,
                                                 const SessionOptions& options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const Program& program() const { return *program_; }
  uint32_t thread_count() const { return pool_->thread_count(); }

  // Appends `tokens[0, count)` to the sequence in `slot` (from its current
  // position; 0 after ResetSlot) through the "prefill" entry point, in chunks
  // of its rows; padding rows get token 0, position -1 and the same slot.
  // Afterwards logits(slot) holds the last token's logits, and when
  // `all_logits` is not null it receives every token's: count * vocab floats.
  // Without it only the last token's logits are computed (EntryPoint.live_rows),
  // which at gpt-oss's vocabulary is most of a short chunk's work saved.
  Status Prefill(uint32_t slot, const int32_t* tokens, size_t count, float* all_logits = nullptr);

  // Appends one token to each of `count` distinct slots through the "decode"
  // entry point: row i is (slots[i], tokens[i]); rows past count are padding
  // (token 0, position -1, slot slots[0]). count <= the entry point's rows.
  // Afterwards logits(slots[i]) holds row i's logits.
  Status Decode(const uint32_t* slots, const int32_t* tokens, size_t count);

  // Tokens in the sequence of `slot` (the position the next one takes).
  uint32_t position(uint32_t slot) const { return positions_[slot]; }
  // vocab_size() logits of the latest token fed to `slot`; null before any.
  const float* logits(uint32_t slot) const;

  // Forgets the sequence in `slot`: position 0, no logits. The cache entries
  // are overwritten as a new sequence advances (kernels read only positions
  // below the current one).
  Status ResetSlot(uint32_t slot);

  // Draws the next token of `slot` from logits(slot); the step keying the
  // random draw is position(slot), so a seed replays the same tokens.
  Result<int32_t> Sample(uint32_t slot, Sampler& sampler) const;

  // Prefills `prompt`, then samples and decodes until `max_new_tokens` tokens,
  // a token in `stop_tokens` (included in the result), or a full context.
  Result<std::vector<int32_t>> Generate(uint32_t slot, const std::vector<int32_t>& prompt,
                                        uint32_t max_new_tokens, const SamplingParams& params,
                                        const std::vector<int32_t>& stop_tokens = {});

  // Per-dispatch times since the session was created (empty unless
  // SessionOptions::profile), prefill's dispatches first, then decode's.
  std::vector<DispatchProfile> profile() const;

  // The memory behind manifest buffer `index` (for tools and tests).
  uint8_t* buffer_data(uint32_t index) const { return buffer_base_[index]; }

  // Records what every dispatch of the following calls writes into `trace`
  // (dispatch_trace.h), until set back to null; `trace` must outlive that.
  void set_trace(DispatchTrace* trace) { trace_ = trace; }

 private:
  struct PreparedDispatch {
    hal::cpu::KernelFn kernel;
    void* const* bindings;
    const uint32_t* constants;
    uint32_t workgroups_x, workgroups_y, workgroups_z;
  };
  struct PreparedEntry {
    const moex::EntryPoint* entry = nullptr;
    uint32_t rows = 0;
    int32_t* tokens = nullptr;
    int32_t* positions = nullptr;
    int32_t* slots = nullptr;
    // {real rows, first row whose logits are read} (EntryPoint.live_rows).
    int32_t* live_rows = nullptr;
    const float* logits = nullptr;
    std::vector<void*> binding_pointers;
    std::vector<PreparedDispatch> dispatches;
    // With SessionOptions::profile: seconds and calls per dispatch.
    std::vector<double> seconds;
    std::vector<uint64_t> calls;
  };
  // An anonymous private mapping: page-aligned, zeroed, committed lazily.
  struct Mapping {
    uint8_t* data = nullptr;
    size_t size = 0;
  };

  Session() = default;
  Status Prepare(const moex::EntryPoint* entry, PreparedEntry* out);
  Status CheckSlot(uint32_t slot, const char* call) const;
  Status CheckTokens(const int32_t* tokens, size_t count, const char* call) const;
  Status Run(PreparedEntry& entry);

  std::shared_ptr<const Program> program_;
  std::unique_ptr<hal::cpu::ThreadPool> pool_;
  std::vector<Mapping> mappings_;
  std::vector<uint8_t*> buffer_base_;
  PreparedEntry prefill_;
  PreparedEntry decode_;
  bool profile_ = false;
  DispatchTrace* trace_ = nullptr;
  std::vector<uint32_t> positions_;
  std::vector<uint8_t> has_logits_;
  std::vector<float> slot_logits_;
};

}  // namespace moert::exec

#endif  // MOERT_EXEC_SESSION_H_
