// Executes the entry points of a CUDA or HIP .moex manifest on a GPU through
// the GPU HAL (hal/gpu_device.h); the GPU counterpart of exec::Session, with
// the same operations and semantics (see session.h and runner.h).
//
// Creation does everything once: every size of the manifest checked (each
// binding inside its buffer, each activation inside the arena, inputs and
// logits shaped for their entry point, parameter counts), the device images
// loaded and every kernel resolved, device memory for every buffer (WEIGHT
// buffers uploaded from the artifact's weight bytes, or generated on the
// device by the artifact's fill kernel for synthetic weights; KV_CACHE
// zero-filled; ACTIVATION buffers at their offsets in one arena allocation;
// INPUT/OUTPUT buffers), and each dispatch's launch prepared (function, grid = workgroups,
// block = Kernel.block_x, parameters = binding device addresses, then the
// constants). Prefill and Decode upload the tokens/positions/slots rows,
// launch the dispatches in order on one stream and download the logits rows;
// they allocate nothing. Decode runs its launches directly the first time and
// from then on replays a graph captured once (the inputs change only through
// the input buffers, whose addresses are fixed).
#ifndef MOERT_EXEC_GPU_SESSION_H_
#define MOERT_EXEC_GPU_SESSION_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/synthetic_weights.h"
#include "exec/runner.h"
#include "exec/session.h"
#include "hal/gpu_device.h"
#include "schema/moex_generated.h"

namespace moert::exec {

struct GpuSessionOptions {
  // Names the artifact in messages ("gpt-oss-20b.moex").
  std::string source = "<artifact>";
  // The device OpenGpuSession opens.
  int ordinal = 0;
};

class GpuSession final : public Runner {
 public:
  // `device`, `manifest` and the segment bytes (only during Create) must
  // outlive the session. The manifest's images must suit the device (PTX or
  // CUBIN on CUDA, HSACO on HIP).
  static Result<std::unique_ptr<GpuSession>> Create(hal::GpuDevice& device,
                                                    const moex::Manifest& manifest,
                                                    const SegmentResolver& segments,
                                                    const GpuSessionOptions& options = {});
  // As Create, and the session owns `device`.
  static Result<std::unique_ptr<GpuSession>> Create(std::unique_ptr<hal::GpuDevice> device,
                                                    const moex::Manifest& manifest,
                                                    const SegmentResolver& segments,
                                                    const GpuSessionOptions& options = {});
  ~GpuSession() override;

  const moex::Manifest& manifest() const { return *manifest_; }
  hal::GpuDevice& device() const { return *device_; }
  uint32_t vocab_size() const override { return vocab_size_; }
  uint32_t max_context() const override { return manifest_->max_context(); }
  uint32_t num_slots() const override { return manifest_->num_slots(); }
  // -1 when the model names none.
  int32_t eos_token_id() const { return eos_token_id_; }
  std::string description() const override;

  Status Prefill(uint32_t slot, const int32_t* tokens, size_t count,
                 float* all_logits = nullptr) override;
  Status Decode(const uint32_t* slots, const int32_t* tokens, size_t count) override;
  uint32_t position(uint32_t slot) const override { return positions_[slot]; }
  const float* logits(uint32_t slot) const override;
  Status ResetSlot(uint32_t slot) override;

  GpuSession* gpu_session() override { return this; }

  // Times every dispatch of the decode step on the device: each launch is
  // captured `repeats` times into a graph, replayed once to warm up and once
  // timed; the result is seconds per launch, in dispatch order. Uses the
  // inputs of the last Decode (at least one must have run). Kernels run
  // repeatedly on their own outputs, so the step's activations and the cache
  // entries of the last decoded position are left unspecified: profile
  // after the measurements that need them (moert-run --bench --profile).
  Result<std::vector<double>> ProfileDecodeDispatches(uint32_t repeats);

  // Records what every dispatch of the following calls writes into `trace`
  // (dispatch_trace.h), until set back to null; `trace` must outlive that.
  // Traced calls launch one dispatch at a time, never through a graph.
  void set_trace(DispatchTrace* trace) override { trace_ = trace; }

  // The device address of manifest buffer `index` (for tools and tests).
  uint64_t buffer_address(uint32_t index) const { return buffers_[index].address; }
  // Whether decode's graph has been captured.
  bool decode_graph_captured() const { return decode_.graph != nullptr; }

 private:
  struct PreparedEntry {
    const moex::EntryPoint* entry = nullptr;
    uint32_t rows = 0;
    hal::DeviceBuffer tokens, positions, slots, live_rows, logits;
    // Host staging of the inputs and of the logits rows; host_live_rows is
    // {real rows, first row whose logits are read} (EntryPoint.live_rows).
    std::vector<int32_t> host_tokens, host_positions, host_slots;
    int32_t host_live_rows[2] = {0, 0};
    std::vector<float> host_logits;
    std::vector<uint64_t> addresses;  // every launch's bindings, back to back
    std::vector<hal::KernelLaunch> launches;
    hal::GpuGraph graph = nullptr;
  };

  GpuSession() = default;
  Status Init(const SegmentResolver& segments, const GpuSessionOptions& options);
  Status Prepare(const moex::EntryPoint* entry, PreparedEntry* out);
  // Runs the artifact's fill kernel for every synthetic weight run and waits.
  Status GenerateSyntheticWeights();
  Status CheckSlot(uint32_t slot, const char* call) const;
  Status CheckTokens(const int32_t* tokens, size_t count, const char* call) const;
  // Uploads the staged inputs, runs the launches (or the graph) and waits.
  Status Run(PreparedEntry& entry, bool use_graph);

  // Declared first: destroyed last, after everything made on it.
  std::unique_ptr<hal::GpuDevice> owned_device_;
  hal::GpuDevice* device_ = nullptr;
  const moex::Manifest* manifest_ = nullptr;
  std::string source_;
  uint32_t vocab_size_ = 0;
  int32_t eos_token_id_ = -1;
  std::vector<hal::GpuModule> modules_;
  std::vector<std::vector<hal::GpuFunction>> functions_;  // per image, per kernel
  std::vector<hal::DeviceBuffer> allocations_;              // what the destructor frees
  std::vector<hal::DeviceBuffer> buffers_;                  // per manifest buffer
  hal::GpuStream stream_ = nullptr;
  // Synthetic weight runs to generate on the device: the WEIGHT buffer, the
  // run's offset in it and the generator's descriptor (cut to the buffer).
  struct SyntheticFill {
    uint32_t buffer = 0;
    uint64_t offset = 0;
    synthetic::Part part;
  };
  std::vector<SyntheticFill> synthetic_fills_;
  bool decoded_once_ = false;
  DispatchTrace* trace_ = nullptr;
  PreparedEntry prefill_;
  PreparedEntry decode_;
  std::vector<uint32_t> positions_;
  std::vector<uint8_t> has_logits_;
  std::vector<float> slot_logits_;
};

// Opens GPU `ordinal` of the HAL `target` names (CUDA: CudaDevice, HIP:
// HipDevice) and checks it is the target's architecture ("sm_90a",
// "gfx942"). Fails with the HAL's message when the driver or a GPU is
// missing or of another architecture, and with InvalidArgument for a CPU
// target. moert-run uses it alone to say whether this host can run a GPU
// artifact.
Result<std::unique_ptr<hal::GpuDevice>> OpenGpuDevice(const moex::Target& target, int ordinal);

// Opens device options.ordinal of the HAL the manifest's target names
// (CUDA: CudaDevice, HIP: HipDevice, with the target's name, "sm_90a" or
// "gfx942") and creates a GpuSession owning it. Fails with the HAL's message
// (after options.source) when the driver or a GPU is missing, and with
// InvalidArgument for a CPU artifact.
Result<std::unique_ptr<GpuSession>> OpenGpuSession(const moex::Manifest& manifest,
                                                   const SegmentResolver& segments,
                                                   const GpuSessionOptions& options = {});

}  // namespace moert::exec

#endif  // MOERT_EXEC_GPU_SESSION_H_
