// Malformed checkpoints given to the moec binary: each must be refused with a
// message that names what is wrong, and exit code 1 (never a signal).
#include <gtest/gtest.h>

#include <functional>

#include "base/file_map.h"
#include "base/json.h"
#include "gpt-oss/test_util.h"

namespace moec::gptoss {
namespace {

using moec::testing::OwnedTensor;
using moec::testing::TempDir;

// A writable copy of the golden tiny checkpoint.
struct TinyCopy {
  TempDir dir;
  TinyCopy() {
    moec::testing::CopyFile(moec::testing::GoldenModelDir("tiny") + "/config.json", dir.Join("config.json"));
    moec::testing::CopyFile(moec::testing::GoldenModelDir("tiny") + "/model.safetensors",
                            dir.Join("model.safetensors"));
  }
  std::string weights() const { return dir.Join("model.safetensors"); }

  std::string ReadWeights() const { return *moert::ReadFileToString(weights()); }
  void WriteWeights(const std::string& bytes) const {
    ASSERT_TRUE(moert::WriteStringToFile(weights(), bytes).ok());
  }
  // Applies `edit` to the parsed header JSON and writes it back, keeping the
  // data bytes as they are.
  void EditHeader(const std::function<void(moert::JsonValue&)>& edit) const {
    std::string bytes = ReadWeights();
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
    moert::Result<moert::JsonValue> header = moert::ParseJson(bytes.substr(8, n));
    ASSERT_TRUE(header.ok());
    edit(*header);
    std::string text = header->Serialize();
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(static_cast<uint64_t>(text.size()) >> (8 * i));
    WriteWeights(out + text + bytes.substr(8 + n));
  }
  // Rewrites the tensors (a fresh, well-formed file) after `edit`.
  void EditTensors(const std::function<void(std::vector<OwnedTensor>&)>& edit) const {
    std::vector<OwnedTensor> tensors = moec::testing::ReadAllTensors(weights());
    edit(tensors);
    moec::testing::WriteAllTensors(weights(), tensors);
  }
  void EditConfig(const std::function<void(moert::JsonValue&)>& edit) const {
    moert::Result<moert::JsonValue> json = moert::ParseJson(*moert::ReadFileToString(dir.Join("config.json")));
    ASSERT_TRUE(json.ok());
    edit(*json);
    ASSERT_TRUE(moert::WriteStringToFile(dir.Join("config.json"), json->Serialize(2)).ok());
  }
};

moert::JsonValue* TensorEntry(moert::JsonValue& header, const std::string& name) {
  for (auto& m : header.mutable_members()) {
    if (m.first == name) return &m.second;
  }
  ADD_FAILURE() << "no tensor " << name;
  return nullptr;
}

void SetOffsets(moert::JsonValue& header, const std::string& name, int64_t begin, int64_t end) {
  TensorEntry(header, name)->Set("data_offsets", moert::JsonValue::Array({moert::JsonValue::Integer(begin),
                                                                          moert::JsonValue::Integer(end)}));
}

void RemoveMember(moert::JsonValue& object, const std::string& key) {
  auto& members = object.mutable_members();
  for (auto it = members.begin(); it != members.end(); ++it) {
    if (it->first == key) {
      members.erase(it);
      return;
    }
  }
  ADD_FAILURE() << "no member " << key;
}

struct Malformation {
  const char* name;
  std::function<void(const TinyCopy&)> damage;
  std::vector<std::string> expect;  // substrings of the message
};

std::vector<Malformation> Malformations() {
  const std::string sinks = "model.layers.0.self_attn.sinks";
  return {
      {"truncated_body",
       [](const TinyCopy& t) {
         std::string b = t.ReadWeights();
         t.WriteWeights(b.substr(0, b.size() / 2));
       },
       {"model.safetensors", "run past the end of the data area"}},
      {"truncated_header",
       [](const TinyCopy& t) { t.WriteWeights(t.ReadWeights().substr(0, 100)); },
       {"model.safetensors", "truncated header"}},
      {"huge_header_length",
       [](const TinyCopy& t) {
         std::string b = t.ReadWeights();
         b[5] = 0x7F;  // header length ~ 2^46
         t.WriteWeights(b);
       },
       {"model.safetensors", "exceeds the limit"}},
      {"header_not_json",
       [](const TinyCopy& t) {
         std::string b = t.ReadWeights();
         b[8] = '[';
         b[9] = '[';
         t.WriteWeights(b);
       },
       {"model.safetensors", "not valid JSON", "line 1"}},
      {"offsets_past_end",
       [sinks](const TinyCopy& t) {
         t.EditHeader([&](moert::JsonValue& h) { SetOffsets(h, sinks, 1849000, 1849016); });
       },
       {sinks, "past the end"}},
      {"offsets_reversed",
       [sinks](const TinyCopy& t) {
         t.EditHeader([&](moert::JsonValue& h) { SetOffsets(h, sinks, 680352, 680336); });
       },
       {sinks, "reversed"}},
      {"offsets_overlapping",
       [sinks](const TinyCopy& t) {
         t.EditHeader([&](moert::JsonValue& h) { SetOffsets(h, sinks, 680336 - 8, 680352 - 8); });
       },
       {"overlaps"}},
      {"unknown_dtype",
       [sinks](const TinyCopy& t) {
         t.EditHeader([&](moert::JsonValue& h) { TensorEntry(h, sinks)->Set("dtype", moert::JsonValue::String("Q4_K")); });
       },
       {sinks, "unknown dtype \"Q4_K\""}},
      {"shape_not_matching_bytes",
       [sinks](const TinyCopy& t) {
         t.EditHeader([&](moert::JsonValue& h) {
           TensorEntry(h, sinks)->Set("shape", moert::JsonValue::Array({moert::JsonValue::Integer(9)}));
         });
       },
       {sinks, "needs 18 bytes"}},
      {"missing_tensor",
       [sinks](const TinyCopy& t) {
         t.EditTensors([&](std::vector<OwnedTensor>& ts) {
           for (auto it = ts.begin(); it != ts.end(); ++it) {
             if (it->spec.name == sinks) {
               ts.erase(it);
               break;
             }
           }
         });
       },
       {"missing tensor", sinks}},
      {"unexpected_tensor",
       [](const TinyCopy& t) {
         t.EditTensors([&](std::vector<OwnedTensor>& ts) {
           ts.push_back({{"model.layers.0.mlp.shared_expert.weight", moert::DType::kBF16, {2}}, {0, 0, 0, 0}});
         });
       },
       {"unexpected tensor", "shared_expert"}},
      {"wrong_dtype",
       [sinks](const TinyCopy& t) {
         t.EditTensors([&](std::vector<OwnedTensor>& ts) {
           for (auto& x : ts) {
             if (x.spec.name == sinks) {
               x.spec.dtype = moert::DType::kI16;
             }
           }
         });
       },
       {sinks, "dtype I16", "BF16, F16 or F32"}},
      {"mxfp4_blocks_wrong_shape",
       [](const TinyCopy& t) {
         t.EditTensors([&](std::vector<OwnedTensor>& ts) {
           for (auto& x : ts) {
             if (x.spec.name == "model.layers.1.mlp.experts.down_proj_blocks") x.spec.shape = {8, 128, 6, 8};
           }
         });
       },
       {"down_proj_blocks", "[8, 128, 6, 8]", "implies [8, 128, 3, 16]"}},
      {"shape_contradicts_config",
       [](const TinyCopy& t) {
         t.EditConfig([](moert::JsonValue& c) { c.Set("vocab_size", moert::JsonValue::Integer(2048)); });
       },
       {"model.embed_tokens.weight", "[1024, 128]", "implies [2048, 128]"}},
      {"config_field_missing",
       [](const TinyCopy& t) { t.EditConfig([](moert::JsonValue& c) { RemoveMember(c, "num_key_value_heads"); }); },
       {"config.json", "\"num_key_value_heads\" is missing"}},
      {"config_inconsistent",
       [](const TinyCopy& t) {
         t.EditConfig([](moert::JsonValue& c) { c.Set("num_key_value_heads", moert::JsonValue::Integer(3)); });
       },
       {"config.json", "num_attention_heads (8) is not divisible by num_key_value_heads (3)"}},
      {"more_layers_than_weights",
       [](const TinyCopy& t) {
         t.EditConfig([](moert::JsonValue& c) {
           c.Set("num_hidden_layers", moert::JsonValue::Integer(6));
           RemoveMember(c, "layer_types");
         });
       },
       {"missing tensor \"model.layers.4.", "num_hidden_layers = 6"}},
      {"config_not_json",
       [](const TinyCopy& t) { ASSERT_TRUE(moert::WriteStringToFile(t.dir.Join("config.json"), "{\"a\": 1,,}").ok()); },
       {"config.json", "invalid JSON at line 1"}},
      {"empty_weights_file",
       [](const TinyCopy& t) { t.WriteWeights(""); },
       {"model.safetensors", "too short"}},
      {"empty_directory",
       [](const TinyCopy& t) {
         std::remove(t.dir.Join("config.json").c_str());
         std::remove(t.weights().c_str());
       },
       {"no config.json"}},
      {"no_weights",
       [](const TinyCopy& t) { std::remove(t.weights().c_str()); },
       {"no .safetensors files"}},
      {"index_names_missing_file",
       [](const TinyCopy& t) {
         ASSERT_TRUE(moert::WriteStringToFile(t.dir.Join("model.safetensors.index.json"),
                                              R"({"weight_map": {"lm_head.weight": "model-00002-of-00002.safetensors"}})")
                         .ok());
       },
       {"model-00002-of-00002.safetensors", "no such file"}},
      {"index_omits_tensor",
       [](const TinyCopy& t) {
         ASSERT_TRUE(moert::WriteStringToFile(t.dir.Join("model.safetensors.index.json"),
                                              R"({"weight_map": {"lm_head.weight": "model.safetensors"}})")
                         .ok());
       },
       {"is not listed in", "model.safetensors.index.json"}},
  };
}

class MalformedCheckpointTest : public ::testing::TestWithParam<Malformation> {};

TEST_P(MalformedCheckpointTest, IsRefusedWithExitCodeOneAndAClearMessage) {
  TinyCopy copy;
  GetParam().damage(copy);
  std::string output;
  const int code = moec::testing::RunCommand(
      moec::testing::MoecBinary() + " reference '" + copy.dir.path() + "' --tokens 1,2,3", &output);
  EXPECT_EQ(code, 1) << output;
  for (const std::string& expect : GetParam().expect) {
    EXPECT_NE(output.find(expect), std::string::npos) << "expected \"" << expect << "\" in: " << output;
  }
  EXPECT_NE(output.find("moec reference: error: "), std::string::npos) << output;
}

INSTANTIATE_TEST_SUITE_P(Checkpoint, MalformedCheckpointTest, ::testing::ValuesIn(Malformations()),
                         [](const ::testing::TestParamInfo<Malformation>& info) { return info.param.name; });

TEST(MoecCliTest, UsageErrorsExitWithOne) {
  const std::string moec = moec::testing::MoecBinary();
  const std::string tiny = moec::testing::GoldenModelDir("tiny");
  struct Case {
    std::string args;
    const char* expect;
  } cases[] = {
      {"", "usage: moec COMMAND"},
      {"frobnicate", "unknown command \"frobnicate\""},
      {"reference " + tiny + " --tokens 1,2 --bogus", "unknown option --bogus"},
      {"reference " + tiny, "needs --tokens"},
      {"reference " + tiny + " --tokens 1,x", "--tokens entry 1: expected an integer"},
      {"reference " + tiny + " --tokens 1,5000", "outside [0, 1023]"},
      {"reference " + tiny + " --tokens 1 --generate -3", "--generate is -3"},
      {"reference " + tiny + " --tokens 1,2,3 --generate 5 --max-context 4", "exceeds the context limit of 4"},
      {"reference /nonexistent/model --tokens 1", "/nonexistent/model: not a directory"},
      {"synth -o /tmp/x", "exactly one of --preset NAME or --config FILE"},
      {"synth --preset 7b -o /tmp/x", "unknown preset \"7b\""},
      {"synth --preset tiny", "needs -o DIR"},
      {"synth --preset tiny --seed", "--seed needs a value"},
  };
  for (const Case& c : cases) {
    std::string output;
    EXPECT_EQ(moec::testing::RunCommand(moec + " " + c.args, &output), 1) << c.args << "\n" << output;
    EXPECT_NE(output.find(c.expect), std::string::npos) << c.args << "\n" << output;
  }
}

TEST(MoecCliTest, EveryCommandHasHelp) {
  for (const char* command : {"reference", "synth", "inspect"}) {
    std::string output;
    EXPECT_EQ(moec::testing::RunCommand(moec::testing::MoecBinary() + " " + command + " --help", &output), 0);
    EXPECT_NE(output.find("usage: moec " + std::string(command)), std::string::npos) << output;
    EXPECT_NE(output.find("--help"), std::string::npos) << output;
  }
}

}  // namespace
}  // namespace moec::gptoss
