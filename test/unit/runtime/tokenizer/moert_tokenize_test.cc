// Runs the moert-tokenize binary the way a user would and checks its output.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "base/file_map.h"
#include "test_data.h"

namespace moert {
namespace {

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};

CommandResult RunCommand(const std::string& command) {
  CommandResult result{-1, ""};
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string Tool() { return std::string(MOEC_BINARY_DIR) + "/bin/moert-tokenize"; }

std::string WriteInput(const std::string& name, const std::string& contents) {
  std::string path = ::testing::TempDir() + "/" + name;
  EXPECT_TRUE(WriteStringToFile(path, contents).ok());
  return path;
}

TEST(MoertTokenizeTest, PrintsIdsPerLineInOrder) {
  std::string input = WriteInput("in.jsonl",
                                 "{\"text\": \"hello world\"}\n"
                                 "{\"text\": \"<|start|>\", \"other\": 1}\n"
                                 "{\"text\": \"\"}\n"
                                 "{\"text\": \"caf\\u00e9 \\ud83d\\ude00\"}\n");
  CommandResult r =
      RunCommand(Tool() + " --ranks " + testing::RanksPath() + " --jsonl " + input);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output,
            "{\"text\":\"hello world\",\"ids\":[24912,2375]}\n"
            "{\"text\":\"<|start|>\",\"ids\":[27,91,5236,91,29]}\n"
            "{\"text\":\"\",\"ids\":[]}\n"
            "{\"text\":\"caf\xC3\xA9 \xF0\x9F\x98\x80\",\"ids\":[66,103112,88038]}\n");
  // The same ids as the library gives.
  EXPECT_EQ(*testing::O200kTokenizer().EncodeOrdinary("caf\xC3\xA9 \xF0\x9F\x98\x80"),
            (std::vector<TokenId>{66, 103112, 88038}));
}

TEST(MoertTokenizeTest, ReproducesTheVectorsFile) {
  std::string vectors = testing::TestDataPath("tokenizer/o200k_vectors.jsonl");
  CommandResult r =
      RunCommand(Tool() + " --ranks " + testing::RanksPath() + " --jsonl " + vectors);
  ASSERT_EQ(r.exit_code, 0) << r.output.substr(0, 500);
  Result<std::string> expected = ReadFileToString(vectors);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(r.output, *expected);  // same JSON spelling, same ids, same order
}

TEST(MoertTokenizeTest, HelpAndErrors) {
  CommandResult help = RunCommand(Tool() + " --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("Usage: moert-tokenize"), std::string::npos);

  CommandResult unknown = RunCommand(Tool() + " --frobnicate");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.output.find("frobnicate"), std::string::npos) << unknown.output;

  CommandResult no_ranks = RunCommand(Tool() + " --jsonl x.jsonl");
  EXPECT_EQ(no_ranks.exit_code, 1);
  EXPECT_NE(no_ranks.output.find("--ranks FILE is required"), std::string::npos);

  std::string bad = WriteInput("bad.jsonl", "{\"text\": \"ok\"}\n{\"txt\": \"no\"}\n");
  CommandResult bad_line =
      RunCommand(Tool() + " --ranks " + testing::RanksPath() + " --jsonl " + bad);
  EXPECT_EQ(bad_line.exit_code, 1);
  EXPECT_NE(bad_line.output.find("bad.jsonl:2: expected an object with a string \"text\""),
            std::string::npos)
      << bad_line.output;

  std::string broken = WriteInput("broken.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"x\"\n");
  CommandResult broken_json =
      RunCommand(Tool() + " --ranks " + testing::RanksPath() + " --jsonl " + broken);
  EXPECT_EQ(broken_json.exit_code, 1);
  EXPECT_NE(broken_json.output.find("broken.jsonl:2"), std::string::npos) << broken_json.output;

  CommandResult missing_ranks = RunCommand(Tool() + " --ranks /nonexistent.tiktoken --jsonl " + bad);
  EXPECT_EQ(missing_ranks.exit_code, 1);
  EXPECT_NE(missing_ranks.output.find("/nonexistent.tiktoken"), std::string::npos);
}

TEST(MoertTokenizeTest, BenchPrintsThroughput) {
  std::string input = WriteInput("bench.jsonl", "{\"text\": \"The quick brown fox.\"}\n");
  CommandResult r = RunCommand(Tool() + " --ranks " + testing::RanksPath() + " --jsonl " +
                               input + " --bench --bench-mb 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(" MB/s"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace moert
