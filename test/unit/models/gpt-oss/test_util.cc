#include "gpt-oss/test_util.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/file_map.h"
#include "base/numeric_formats.h"

namespace moec::testing {

TempDir::TempDir() {
  char tmpl[] = "/tmp/moec-test-XXXXXX";
  char* p = mkdtemp(tmpl);
  EXPECT_NE(p, nullptr);
  path_ = p ? p : "/tmp";
}

TempDir::~TempDir() {
  if (path_.rfind("/tmp/moec-test-", 0) == 0) std::system(("rm -rf '" + path_ + "'").c_str());
}

std::string GoldenModelDir(const std::string& name) {
  return std::string(MOEC_TESTDATA_DIR) + "/gpt-oss/" + name;
}


std::vector<float> TensorAsFloats(const moert::TensorInfo& t) {
  EXPECT_EQ(t.dtype, moert::DType::kF32) << t.name;
  std::vector<float> v(t.num_elements);
  std::memcpy(v.data(), t.data, t.byte_size);
  return v;
}

std::vector<int32_t> TensorAsInts(const moert::TensorInfo& t) {
  EXPECT_EQ(t.dtype, moert::DType::kI32) << t.name;
  std::vector<int32_t> v(t.num_elements);
  std::memcpy(v.data(), t.data, t.byte_size);
  return v;
}

std::vector<OwnedTensor> ReadAllTensors(const std::string& path) {
  moert::Result<moert::SafetensorsFile> file = moert::SafetensorsFile::Open(path);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  std::vector<OwnedTensor> out;
  if (!file.ok()) return out;
  for (const moert::TensorInfo& t : file->tensors()) {
    out.push_back({{t.name, t.dtype, t.shape}, std::vector<uint8_t>(t.data, t.data + t.byte_size)});
  }
  return out;
}

void WriteAllTensors(const std::string& path, const std::vector<OwnedTensor>& tensors) {
  std::vector<moert::TensorSpec> specs;
  std::vector<const void*> data;
  for (const OwnedTensor& t : tensors) {
    specs.push_back(t.spec);
    data.push_back(t.bytes.data());
  }
  moert::Status s = moert::WriteSafetensors(path, specs, data);
  ASSERT_TRUE(s.ok()) << s.ToString();
}

void CopyFile(const std::string& from, const std::string& to) {
  moert::Result<std::string> bytes = moert::ReadFileToString(from);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  ASSERT_TRUE(moert::WriteStringToFile(to, *bytes).ok());
}

int RunCommand(const std::string& command, std::string* output) {
  std::string full = command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) return -2;
  char buffer[4096];
  output->clear();
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output->append(buffer, n);
  int status = pclose(pipe);
  if (WIFSIGNALED(status)) return -1;
  int code = WEXITSTATUS(status);
  // The shell reports a child killed by a signal as 128 + the signal.
  return code > 128 ? -1 : code;
}

// Rewrites the golden tiny checkpoint into the OpenAI original layout (q, k
// and v concatenated into qkv, original names) under dir/original/.
void WriteOriginalLayout(const std::string& dir) {
  std::vector<OwnedTensor> hf = ReadAllTensors(GoldenModelDir("tiny") + "/model.safetensors");
  auto take = [&](const std::string& name) {
    for (const OwnedTensor& t : hf) {
      if (t.spec.name == name) return t;
    }
    ADD_FAILURE() << "no " << name;
    return OwnedTensor{};
  };
  auto renamed = [&](const std::string& from, const std::string& to) {
    OwnedTensor t = take(from);
    t.spec.name = to;
    return t;
  };
  std::vector<OwnedTensor> out;
  out.push_back(renamed("model.embed_tokens.weight", "embedding.weight"));
  for (int l = 0; l < 4; ++l) {
    const std::string hp = "model.layers." + std::to_string(l) + ".";
    const std::string op = "block." + std::to_string(l) + ".";
    for (const char* part : {"weight", "bias"}) {
      OwnedTensor q = take(hp + "self_attn.q_proj." + part);
      OwnedTensor k = take(hp + "self_attn.k_proj." + part);
      OwnedTensor v = take(hp + "self_attn.v_proj." + part);
      OwnedTensor qkv = q;
      qkv.spec.name = op + "attn.qkv." + part;
      qkv.spec.shape[0] = q.spec.shape[0] + k.spec.shape[0] + v.spec.shape[0];
      qkv.bytes.insert(qkv.bytes.end(), k.bytes.begin(), k.bytes.end());
      qkv.bytes.insert(qkv.bytes.end(), v.bytes.begin(), v.bytes.end());
      out.push_back(qkv);
    }
    const std::pair<const char*, const char*> names[] = {
        {"input_layernorm.weight", "attn.norm.scale"},
        {"self_attn.sinks", "attn.sinks"},
        {"self_attn.o_proj.weight", "attn.out.weight"},
        {"self_attn.o_proj.bias", "attn.out.bias"},
        {"post_attention_layernorm.weight", "mlp.norm.scale"},
        {"mlp.router.weight", "mlp.gate.weight"},
        {"mlp.router.bias", "mlp.gate.bias"},
        {"mlp.experts.gate_up_proj_blocks", "mlp.mlp1_weight.blocks"},
        {"mlp.experts.gate_up_proj_scales", "mlp.mlp1_weight.scales"},
        {"mlp.experts.gate_up_proj_bias", "mlp.mlp1_bias"},
        {"mlp.experts.down_proj_blocks", "mlp.mlp2_weight.blocks"},
        {"mlp.experts.down_proj_scales", "mlp.mlp2_weight.scales"},
        {"mlp.experts.down_proj_bias", "mlp.mlp2_bias"},
    };
    for (const auto& [from, to] : names) out.push_back(renamed(hp + from, op + to));
  }
  out.push_back(renamed("model.norm.weight", "norm.scale"));
  out.push_back(renamed("lm_head.weight", "unembedding.weight"));
  ASSERT_TRUE(moert::MakeDirectories(dir + "/original").ok());
  WriteAllTensors(dir + "/original/model.safetensors", out);
  ASSERT_TRUE(moert::WriteStringToFile(
                  dir + "/original/config.json",
                  R"({"num_hidden_layers":4,"num_experts":8,"experts_per_token":4,"vocab_size":1024,)"
                  R"("hidden_size":128,"intermediate_size":96,"swiglu_limit":7.0,"head_dim":32,)"
                  R"("num_attention_heads":8,"num_key_value_heads":2,"sliding_window":16,)"
                  R"("initial_context_length":4096,"rope_theta":150000,"rope_scaling_factor":32.0,)"
                  R"("rope_ntk_alpha":1,"rope_ntk_beta":32})")
                  .ok());
}

std::string MoecBinary() { return std::string(MOEC_BINARY_DIR) + "/bin/moec"; }

}  // namespace moec::testing
