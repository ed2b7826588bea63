// What each dispatch of a run wrote, for finding the first kernel whose
// results differ between two executions of one plan: a GPU artifact on the
// device and the same kernels on the CPU emulator, or two CPU levels.
// `moert-run --trace FILE` saves one; `--compare-trace FILE` runs the same
// tokens and compares, write by write.
//
// A write is a binding of an ACTIVATION or OUTPUT buffer whose bytes a
// dispatch changed; KV caches, workspaces, inputs and weights are left out
// (a cache's contents show up in the attention outputs of later calls, and a
// workspace's layout depends on the workgroup count). Writes are found by
// reading every traced binding before and after the dispatch, so tracing
// runs the dispatches one at a time (no graph on a GPU) and is for
// diagnosis, never for speed.
#ifndef MOERT_EXEC_DISPATCH_TRACE_H_
#define MOERT_EXEC_DISPATCH_TRACE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "schema/moex_generated.h"

namespace moert::exec {

class DispatchTrace {
 public:
  struct Write {
    // "call 0/prefill.7.expert_gate_up_swiglu/binding 4": the call (Prefill
    // chunk or Decode, from 0), the kernel and the binding's index.
    std::string name;
    std::vector<uint8_t> bytes;
  };
  // Copies `binding`'s bytes (binding.size()) into `dst`, from wherever the
  // executor keeps them.
  using BindingReader = std::function<Status(const moex::Binding& binding, uint8_t* dst)>;

  // Executors: a new call starts (one Prefill chunk or one Decode).
  void BeginCall() { ++calls_; }
  // Executors: runs one dispatch (`run`) between two reads of its traced
  // bindings and records each that changed.
  Status TraceDispatch(const moex::Manifest& manifest, const moex::Dispatch& dispatch,
                       const BindingReader& read, const std::function<Status()>& run);

  uint32_t calls() const { return calls_; }
  const std::vector<Write>& writes() const { return writes_; }

  // A safetensors file: one U8 tensor per write, in order, named as the write.
  Status Save(const std::string& path) const;
  static Result<DispatchTrace> Load(const std::string& path);

 private:
  uint32_t calls_ = 0;
  std::vector<Write> writes_;
};

// One write compared: `got` against `want`, element by element as f32 (every
// traced buffer holds 4-byte elements: f32 activations and logits, i32 expert
// indices, whose differences show as a large error).
struct WriteComparison {
  std::string name;
  uint64_t values = 0;
  // ||got - want|| / ||want|| (RelativeError); 0 for identical bytes.
  double relative_error = 0;
  // A write only one trace has, or of another size: relative_error is
  // infinite.
  const char* mismatch = nullptr;
};

// Every write of `want`, in order, then those only `got` has.
std::vector<WriteComparison> CompareTraces(const DispatchTrace& got, const DispatchTrace& want);

}  // namespace moert::exec

#endif  // MOERT_EXEC_DISPATCH_TRACE_H_
