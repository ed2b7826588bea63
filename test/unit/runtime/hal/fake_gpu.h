// The in-memory GPU both fake drivers (fake_cuda.cc, fake_hip.cc) expose
// through their API's entry points: a configurable device, allocations backed
// by malloc, modules accepted when their bytes start with kFakeModuleMagic,
// launches recorded in a log (and the "add_one", "echo_rows" and
// "synthetic_fill" kernels run on the host), and stream capture recording launches into graphs that
// replay them.
//
// Failure injection: Fail(name, code) makes the entry point `name` return
// `code`; Hide(name) makes the loader's lookup report it missing. Both are
// also read from the environment (<PREFIX>_FAIL="cuInit=3,cuMemAlloc=2",
// <PREFIX>_HIDE="cuLaunchKernel") when the state is created or reset.
#ifndef MOERT_TEST_FAKE_GPU_H_
#define MOERT_TEST_FAKE_GPU_H_

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/synthetic_weights.h"

namespace moert_fake {

inline constexpr char kFakeModuleMagic[] = "MOERT_FAKE_MODULE";

struct Function {
  std::string name;
};

// One launch as recorded: the kernel, its shape and, for kernels the fake
// knows, its parameter values (copied, as a driver does).
struct LaunchRecord {
  const Function* function = nullptr;
  unsigned grid[3] = {1, 1, 1};
  unsigned block[3] = {1, 1, 1};
  unsigned shared = 0;
  uint64_t pointer = 0;  // add_one: the uint32 array
  uint32_t count = 0;    // add_one: its length
  // echo_rows: the tokens, positions, slots (i32 [rows]) and logits
  // (f32 [rows, vocab]) addresses, then rows and vocab. synthetic_fill: the
  // destination and the synthetic::Part descriptor.
  uint64_t rows_pointers[4] = {};
  uint32_t rows = 0, vocab = 0;
};

struct Module {
  std::vector<std::unique_ptr<Function>> functions;
};

struct Stream {
  bool capturing = false;
  std::vector<LaunchRecord> captured;
};

struct Graph {
  std::vector<LaunchRecord> launches;
};

class FakeGpu {
 public:
  explicit FakeGpu(const char* env_prefix) : env_prefix_(env_prefix) { Reset(); }

  void Reset() {
    name = "Fake GPU";
    arch = "";
    major = 9;
    minor = 0;
    count = 1;
    total_memory = uint64_t{80} << 30;
    multiprocessors = 132;
    shared_optin = 232448;
    failures_.clear();
    hidden_.clear();
    log_.clear();
    for (void* p : allocations_) std::free(p);
    allocations_.clear();
    ParseEnv((env_prefix_ + "_FAIL").c_str(), true);
    ParseEnv((env_prefix_ + "_HIDE").c_str(), false);
  }

  void Fail(const std::string& entry, int code) { failures_[entry] = code; }
  void Hide(const std::string& entry) { hidden_.insert(entry); }
  bool Hidden(const std::string& entry) const { return hidden_.count(entry) != 0; }
  // The injected error for `entry`, else 0.
  int Failure(const std::string& entry) const {
    auto it = failures_.find(entry);
    return it == failures_.end() ? 0 : it->second;
  }

  const char* Log() const { return log_.c_str(); }
  int LiveAllocations() const { return static_cast<int>(allocations_.size()); }

  // Memory.
  void* Allocate(size_t size) {
    void* p = std::calloc(1, size);
    if (p != nullptr) allocations_.insert(p);
    return p;
  }
  bool Free(void* p) {
    if (allocations_.erase(p) == 0) return false;
    std::free(p);
    return true;
  }
  // Modules: "<magic> name1 name2 ..." (NUL or end terminates).
  Module* LoadModule(const void* image) {
    const char* text = static_cast<const char*>(image);
    size_t magic = std::strlen(kFakeModuleMagic);
    if (std::strncmp(text, kFakeModuleMagic, magic) != 0) return nullptr;
    auto module = std::make_unique<Module>();
    std::string word;
    for (const char* c = text + magic;; ++c) {
      if (*c == '\0' || *c == ' ' || *c == '\n') {
        if (!word.empty()) module->functions.push_back(std::make_unique<Function>(Function{word}));
        word.clear();
        if (*c == '\0') break;
      } else {
        word += *c;
      }
    }
    log_ += "load module\n";
    Module* raw = module.get();
    modules_[raw] = std::move(module);
    return raw;
  }
  bool UnloadModule(Module* module) { return modules_.erase(module) != 0; }
  bool HasModule(Module* module) const { return modules_.count(module) != 0; }
  static const Function* FindFunction(const Module* module, const char* name) {
    for (const auto& f : module->functions) {
      if (f->name == name) return f.get();
    }
    return nullptr;
  }

  // Launches: `params` follows the runtime's ABI (8-byte bindings, then
  // uint32 constants); the parameters of the kernels the fake runs are read.
  LaunchRecord Record(const Function* f, const unsigned grid[3], const unsigned block[3],
                      unsigned shared, void** params) {
    LaunchRecord r;
    r.function = f;
    for (int i = 0; i < 3; ++i) {
      r.grid[i] = grid[i];
      r.block[i] = block[i];
    }
    r.shared = shared;
    if (f->name == "add_one" && params != nullptr) {
      std::memcpy(&r.pointer, params[0], sizeof(uint64_t));
      std::memcpy(&r.count, params[1], sizeof(uint32_t));
    }
    if (f->name == "synthetic_fill" && params != nullptr) {
      for (int i = 0; i < 2; ++i) std::memcpy(&r.rows_pointers[i], params[i], sizeof(uint64_t));
    }
    if (f->name == "echo_rows" && params != nullptr) {
      for (int i = 0; i < 4; ++i) std::memcpy(&r.rows_pointers[i], params[i], sizeof(uint64_t));
      std::memcpy(&r.rows, params[4], sizeof(uint32_t));
      std::memcpy(&r.vocab, params[5], sizeof(uint32_t));
    }
    return r;
  }
  void Run(const LaunchRecord& r, const char* how) {
    std::string args;
    if (r.function->name == "echo_rows") {
      args = " args=" + std::to_string(r.rows_pointers[0]) + "," + std::to_string(r.rows_pointers[1]) +
             "," + std::to_string(r.rows_pointers[2]) + "," + std::to_string(r.rows_pointers[3]) +
             "," + std::to_string(r.rows) + "," + std::to_string(r.vocab);
    }
    if (r.function->name == "synthetic_fill") {
      // The device kernel's contract, on the host: the descriptor's bytes at dst.
      moert::synthetic::Part part;
      std::memcpy(&part, reinterpret_cast<const void*>(r.rows_pointers[1]), sizeof(part));
      moert::synthetic::FillRange(part, 0, part.size, reinterpret_cast<uint8_t*>(r.rows_pointers[0]));
      args = " size=" + std::to_string(part.size);
    }
    log_ += std::string(how) + " " + r.function->name + " grid=" + Dim(r.grid) +
            " block=" + Dim(r.block) + " shared=" + std::to_string(r.shared) + args + "\n";
    if (r.function->name == "add_one") {
      uint32_t* data = reinterpret_cast<uint32_t*>(r.pointer);
      for (uint32_t i = 0; i < r.count; ++i) data[i] += 1;
    }
    if (r.function->name == "echo_rows") {
      // Row i: all 0 but logits[(token + 1) % vocab] = 1 + position + 1000 * slot.
      const int32_t* tokens = reinterpret_cast<const int32_t*>(r.rows_pointers[0]);
      const int32_t* positions = reinterpret_cast<const int32_t*>(r.rows_pointers[1]);
      const int32_t* slots = reinterpret_cast<const int32_t*>(r.rows_pointers[2]);
      float* logits = reinterpret_cast<float*>(r.rows_pointers[3]);
      for (uint32_t i = 0; i < r.rows; ++i) {
        float* row = logits + static_cast<size_t>(i) * r.vocab;
        for (uint32_t v = 0; v < r.vocab; ++v) row[v] = 0;
        const uint32_t hot = static_cast<uint32_t>(tokens[i] + 1) % r.vocab;
        row[hot] = static_cast<float>(1 + positions[i] + 1000 * slots[i]);
      }
    }
  }
  void Launch(Stream* stream, const LaunchRecord& r) {
    if (stream != nullptr && stream->capturing) {
      stream->captured.push_back(r);
      log_ += "capture " + r.function->name + "\n";
      return;
    }
    Run(r, "launch");
  }
  void Replay(const Graph& graph) {
    for (const LaunchRecord& r : graph.launches) Run(r, "replay");
  }
  void Note(const std::string& line) { log_ += line + "\n"; }

  // Device configuration (the test sets these).
  std::string name;
  std::string arch;  // HIP: "gfx942"
  int major, minor, count;
  uint64_t total_memory;
  int multiprocessors;
  int shared_optin;

 private:
  static std::string Dim(const unsigned d[3]) {
    return std::to_string(d[0]) + "," + std::to_string(d[1]) + "," + std::to_string(d[2]);
  }
  void ParseEnv(const char* variable, bool with_codes) {
    const char* value = std::getenv(variable);
    if (value == nullptr) return;
    std::string list = value;
    size_t start = 0;
    while (start <= list.size()) {
      size_t end = list.find(',', start);
      if (end == std::string::npos) end = list.size();
      std::string item = list.substr(start, end - start);
      if (!item.empty()) {
        size_t eq = item.find('=');
        if (with_codes) {
          failures_[item.substr(0, eq)] = eq == std::string::npos ? 999 : std::atoi(item.c_str() + eq + 1);
        } else {
          hidden_.insert(item);
        }
      }
      start = end + 1;
    }
  }

  std::string env_prefix_;
  std::map<std::string, int> failures_;
  std::set<std::string> hidden_;
  std::string log_;
  std::set<void*> allocations_;
  std::map<Module*, std::unique_ptr<Module>> modules_;
};

}  // namespace moert_fake

#endif  // MOERT_TEST_FAKE_GPU_H_
