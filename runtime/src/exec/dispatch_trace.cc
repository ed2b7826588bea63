#include "exec/dispatch_trace.h"

#include <cstring>
#include <limits>
#include <map>

#include "base/safetensors.h"
#include "base/tensor_compare.h"

namespace moert::exec {
namespace {

constexpr char kFormatKey[] = "format";
constexpr char kFormat[] = "moert-dispatch-trace";

bool IsTraced(moex::BufferKind kind) {
  return kind == moex::BufferKind::ACTIVATION || kind == moex::BufferKind::OUTPUT;
}

}  // namespace

Status DispatchTrace::TraceDispatch(const moex::Manifest& manifest, const moex::Dispatch& dispatch,
                                    const BindingReader& read, const std::function<Status()>& run) {
  // The executors verified the plan (plan_checks.h): indices are in range.
  const moex::Kernel* kernel = manifest.images()->Get(dispatch.image())->kernels()->Get(dispatch.kernel());
  const std::string prefix =
      StrCat("call ", calls_ == 0 ? 0 : calls_ - 1, "/", kernel->name() ? kernel->name()->str() : "?", "/binding ");
  const uint32_t count = dispatch.bindings() ? dispatch.bindings()->size() : 0;
  std::vector<std::vector<uint8_t>> before(count);
  for (uint32_t b = 0; b < count; ++b) {
    const moex::Binding* binding = dispatch.bindings()->Get(b);
    if (!IsTraced(manifest.buffers()->Get(binding->buffer())->kind())) continue;
    before[b].resize(binding->size());
    MOERT_RETURN_IF_ERROR(read(*binding, before[b].data()));
  }
  MOERT_RETURN_IF_ERROR(run());
  std::vector<uint8_t> after;
  for (uint32_t b = 0; b < count; ++b) {
    const moex::Binding* binding = dispatch.bindings()->Get(b);
    if (!IsTraced(manifest.buffers()->Get(binding->buffer())->kind())) continue;
    after.resize(binding->size());
    MOERT_RETURN_IF_ERROR(read(*binding, after.data()));
    if (after != before[b]) writes_.push_back({StrCat(prefix, b), after});
  }
  return Status::Ok();
}

Status DispatchTrace::Save(const std::string& path) const {
  std::vector<TensorSpec> specs;
  std::vector<const void*> data;
  for (const Write& w : writes_) {
    specs.push_back({w.name, DType::kU8, {static_cast<int64_t>(w.bytes.size())}});
    data.push_back(w.bytes.data());
  }
  return WriteSafetensors(path, specs, data, {{kFormatKey, kFormat}, {"calls", std::to_string(calls_)}});
}

Result<DispatchTrace> DispatchTrace::Load(const std::string& path) {
  MOERT_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::Open(path));
  const std::string* format = file.FindMetadata(kFormatKey);
  if (format == nullptr || *format != kFormat) {
    return InvalidArgument(path, " is not a dispatch trace (moert-run --trace writes one): its metadata has no "
                           "\"format\": \"", kFormat, "\"");
  }
  DispatchTrace trace;
  if (const std::string* calls = file.FindMetadata("calls")) {
    trace.calls_ = static_cast<uint32_t>(std::strtoul(calls->c_str(), nullptr, 10));
  }
  for (const TensorInfo& t : file.tensors()) {
    if (t.dtype != DType::kU8 || t.shape.size() != 1) {
      return InvalidArgument(path, ": write \"", t.name, "\" is ", DTypeName(t.dtype), " ", ShapeToString(t.shape),
                             ", not U8 [bytes]");
    }
    trace.writes_.push_back({t.name, std::vector<uint8_t>(t.data, t.data + t.byte_size)});
  }
  return trace;
}

std::vector<WriteComparison> CompareTraces(const DispatchTrace& got, const DispatchTrace& want) {
  std::map<std::string, const DispatchTrace::Write*> got_by_name;
  for (const DispatchTrace::Write& w : got.writes()) got_by_name.emplace(w.name, &w);
  std::vector<WriteComparison> out;
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  for (const DispatchTrace::Write& w : want.writes()) {
    WriteComparison c{w.name, w.bytes.size() / 4};
    auto it = got_by_name.find(w.name);
    if (it == got_by_name.end()) {
      c.relative_error = kInfinity;
      c.mismatch = "written only in the reference trace";
    } else if (it->second->bytes.size() != w.bytes.size() || w.bytes.size() % 4 != 0) {
      c.relative_error = kInfinity;
      c.mismatch = "of another size (or not 4-byte elements)";
    } else if (it->second->bytes != w.bytes) {
      std::vector<float> a(c.values), b(c.values);
      std::memcpy(a.data(), it->second->bytes.data(), w.bytes.size());
      std::memcpy(b.data(), w.bytes.data(), w.bytes.size());
      c.relative_error = RelativeError(a.data(), b.data(), c.values);
    }
    if (it != got_by_name.end()) got_by_name.erase(it);
    out.push_back(c);
  }
  for (const DispatchTrace::Write& w : got.writes()) {
    if (got_by_name.count(w.name)) out.push_back({w.name, w.bytes.size() / 4, kInfinity, "written only in this run"});
  }
  return out;
}

}  // namespace moert::exec
