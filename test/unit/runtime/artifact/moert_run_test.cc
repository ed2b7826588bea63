// Runs the moert-run binary the way a user would: --inspect on a valid
// artifact, and every damaged artifact refused with exit code 1 and a message on
// stderr, never a signal.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "artifact/header.h"
#include "base/file_map.h"
#include "test_artifact.h"

namespace moert {
namespace {

using testing::BuildTestArtifact;
using testing::TestArtifactSpec;

struct CommandResult {
  int exit_code;  // -1 when the process died of a signal
  std::string out;
  std::string err;
};

// A path in the temporary directory private to this test process (ctest runs
// the tests of this file in parallel processes).
std::string TempPath(const std::string& name) {
  return StrCat(::testing::TempDir(), "/moert_run_", getpid(), "_", name);
}

CommandResult RunTool(const std::string& args) {
  std::string err_path = TempPath("stderr.txt");
  std::string command =
      std::string(MOEC_BINARY_DIR) + "/bin/moert-run " + args + " 2>" + err_path;
  CommandResult result{-1, "", ""};
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.out.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  Result<std::string> err = ReadFileToString(err_path);
  if (err.ok()) result.err = *err;
  return result;
}

std::string WriteArtifact(const std::string& name, const std::string& bytes) {
  std::string path = TempPath(name);
  EXPECT_TRUE(WriteStringToFile(path, bytes).ok());
  return path;
}

void ExpectRefused(const std::string& name, const std::string& bytes,
                   const std::string& fragment, const std::string& flags = "--inspect") {
  std::string path = WriteArtifact(name, bytes);
  CommandResult r = RunTool(path + " " + flags);
  EXPECT_EQ(r.exit_code, 1) << name << ": " << r.err;
  EXPECT_EQ(r.out, "") << name;
  EXPECT_EQ(r.err.rfind("moert-run: " + path, 0), 0u) << name << ": " << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << name << ": " << r.err;
}

TEST(MoertRunTest, InspectPrintsEveryPart) {
  std::string path = WriteArtifact("inspect.moex", BuildTestArtifact());
  CommandResult r = RunTool(path + " --inspect");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  for (const char* expected : {
           "target: CPU x86-64-v1, requires: nothing",
           "runs on this host: yes",
           "model: 2 layers, hidden 8, 2 heads (1 kv) x 4, 4 experts (top 2), intermediate 8, "
           "vocab 16",
           "segments: 4, ",
           "  [0] offset 0 size 196 fnv1a64 0x",
           " weights:2\n",
           "weights: 2, 196 bytes",
           "  [0] ELF_SHARED_OBJECT in segment 1",
           "    [1] lm_head symbol moe_k1, 3 bindings, 0 constants",
           "buffers: 8, 1 ACTIVATION (256 bytes), 1 KV_CACHE (512 bytes), 1 WEIGHT (128 bytes), "
           "4 INPUT (32 bytes), 1 OUTPUT (128 bytes)",
           "activation arena: 256 bytes",
           "tokenizer: o200k_harmony, ranks in segment 2",
           "probe: 2 tokens, logits in segment 3",
           "entry point \"prefill\": rows 2, tokens \"tokens\", positions \"positions\", slots \"slots\", "
           "live rows \"live_rows\", logits \"logits\"",
           "2 dispatches",
           "  [0] embed (image 0 kernel 0) workgroups 2x1x1 bindings {tokens[0, +8), "
           "w.f32[0, +128), hidden[0, +256)} constants {16}",
       }) {
    EXPECT_NE(r.out.find(expected), std::string::npos) << expected << "\n" << r.out;
  }
}

TEST(MoertRunTest, DefaultActionChecksTheHost) {
  std::string path = WriteArtifact("host.moex", BuildTestArtifact());
  CommandResult r = RunTool(path);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ok, a verified .moex artifact this host can run"), std::string::npos);
}

TEST(MoertRunTest, HelpAndUsageErrors) {
  CommandResult help = RunTool("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--inspect"), std::string::npos);
  CommandResult none = RunTool("");
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("expected one artifact path"), std::string::npos) << none.err;
  CommandResult unknown = RunTool("x.moex --frobnicate");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("frobnicate"), std::string::npos) << unknown.err;
  CommandResult missing = RunTool(TempPath("does-not-exist.moex") + " --inspect");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("does-not-exist.moex"), std::string::npos) << missing.err;
}

TEST(MoertRunTest, RefusesDamagedArtifacts) {
  std::string good = BuildTestArtifact();
  uint64_t manifest_size = testing::GetU64(good, 24);

  ExpectRefused("trunc-header.moex", good.substr(0, 100), "file is 100 bytes, smaller than");
  ExpectRefused("trunc-manifest.moex", good.substr(0, kHeaderSize + manifest_size / 2),
                "(truncated)");
  ExpectRefused("trunc-segment.moex", good.substr(0, good.size() - 10), "(truncated)");

  std::string magic = good;
  std::memcpy(&magic[0], "PK\x03\x04", 4);
  ExpectRefused("magic.moex", magic, "bad magic");

  std::string version = good;
  testing::PutU32(version, 8, kFormatVersion + 1);
  testing::Reseal(version);
  ExpectRefused("version.moex", version, StrCat("format version ", kFormatVersion + 1, " is not supported"));

  std::string checksum = good;
  checksum[kHeaderSize + 40] ^= 1;
  ExpectRefused("checksum.moex", checksum, "checksum mismatch");

  std::string verifier = good;
  testing::PutU32(verifier, kHeaderSize, 0x7ffffff0);
  testing::Reseal(verifier);
  ExpectRefused("verifier.moex", verifier, "fails the FlatBuffers verifier");

  TestArtifactSpec segment_index;
  segment_index.weight0_segment = 4;
  ExpectRefused("segment-index.moex", BuildTestArtifact(segment_index),
                ".segment = 4 but the artifact has 4 segments");

  TestArtifactSpec overlap;
  overlap.segment_offsets = {0, 0, 8192, 12288};
  ExpectRefused("overlap.moex", BuildTestArtifact(overlap), "overlaps manifest.segments[0]");

  TestArtifactSpec weight;
  weight.weight1_offset = 129;
  ExpectRefused("weight.moex", BuildTestArtifact(weight),
                "runs past the end of manifest.segments[0]");

  TestArtifactSpec binding;
  binding.logits_binding_size = 1000;
  ExpectRefused("binding.moex", BuildTestArtifact(binding),
                "runs past the end of manifest.buffers[3] (\"logits\")");
}

// A GPU artifact on a host without its driver (forced: the variable names a
// library that does not exist, so the test means the same on a GPU machine):
// the driver probe refuses it, and --inspect says why.
TEST(MoertRunTest, RefusesAnotherTargetButInspectsIt) {
  TestArtifactSpec cuda;
  cuda.target_kind = moex::TargetKind::CUDA;
  cuda.target_name = "sm_90a";
  std::string bytes = BuildTestArtifact(cuda);
  ASSERT_EQ(setenv("MOERT_CUDA_DRIVER", "/nonexistent/libcuda.so.1", 1), 0);
  ExpectRefused("cuda.moex", bytes, "moert: CUDA driver /nonexistent/libcuda.so.1 not found", "");
  CommandResult inspect = RunTool(WriteArtifact("cuda.moex", bytes) + " --inspect");
  unsetenv("MOERT_CUDA_DRIVER");
  EXPECT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find("runs on this host: no, moert: CUDA driver /nonexistent/libcuda.so.1 not found"),
            std::string::npos)
      << inspect.out;

  TestArtifactSpec cpu;
  cpu.required_features = {"avx512fp16x"};
  ExpectRefused("feature.moex", BuildTestArtifact(cpu),
                "requires CPU features this host lacks: avx512fp16x", "");
}

}  // namespace
}  // namespace moert
