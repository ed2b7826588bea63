#include "gpt-oss/importer.h"

#include <gtest/gtest.h>

#include "compiler/Registration.h"
#include "gpt-oss/test_util.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

namespace moec::gptoss {
namespace {

using moec::testing::GoldenModelDir;
using moec::testing::TempDir;

class ImporterTest : public ::testing::Test {
 protected:
  ImporterTest() {
    mlir::DialectRegistry registry;
    moec::registerAllDialects(registry);
    context_.appendDialectRegistry(registry);
  }

  std::string ImportText(const std::string& dir, const ImportOptions& options) {
    moert::Result<Checkpoint> checkpoint = Checkpoint::Open(dir);
    EXPECT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
    if (!checkpoint.ok()) return "";
    moert::Result<mlir::OwningOpRef<mlir::ModuleOp>> module = ImportCheckpoint(*checkpoint, options, &context_);
    EXPECT_TRUE(module.ok()) << module.status().ToString();
    if (!module.ok()) return "";
    std::string text;
    llvm::raw_string_ostream os(text);
    (*module)->print(os);
    return text;
  }

  mlir::MLIRContext context_;
};

TEST_F(ImporterTest, OriginalAndHuggingFaceLayoutsImportToTheSameModule) {
  TempDir dir;
  moec::testing::WriteOriginalLayout(dir.path());
  ImportOptions options{64, 16, 2};
  const std::string from_original = ImportText(dir.path(), options);
  const std::string from_hf = ImportText(GoldenModelDir("tiny"), options);
  ASSERT_FALSE(from_hf.empty());
  // The functions are identical; only the module's config differs, because
  // an original config.json carries no eos_token_id.
  auto functions = [](const std::string& text) { return text.substr(text.find('\n')); };
  EXPECT_EQ(functions(from_original), functions(from_hf));
  EXPECT_EQ(from_original.find("eos_token_id"), std::string::npos);
  EXPECT_NE(from_hf.find("eos_token_id = 1000"), std::string::npos);
}

TEST_F(ImporterTest, OutputParsesBackAndIsDeterministic) {
  const std::string text = ImportText(GoldenModelDir("tiny-wide"), ImportOptions{256, 32, 4});
  EXPECT_EQ(text, ImportText(GoldenModelDir("tiny-wide"), ImportOptions{256, 32, 4}));
  mlir::OwningOpRef<mlir::ModuleOp> parsed = mlir::parseSourceString<mlir::ModuleOp>(text, &context_);
  ASSERT_TRUE(parsed);
  std::string again;
  llvm::raw_string_ostream os(again);
  parsed->print(os);
  EXPECT_EQ(again, text);
}

TEST_F(ImporterTest, RefusesOptionsTheModelCannotHonour) {
  moert::Result<Checkpoint> checkpoint = Checkpoint::Open(GoldenModelDir("tiny"));
  ASSERT_TRUE(checkpoint.ok());
  struct Case {
    ImportOptions options;
    const char* expect;
  } cases[] = {
      {{0, 1, 1}, "max context 0"},
      {{200000, 128, 1}, "max context 200000 must be in [1, 131072]"},
      {{64, 65, 1}, "prefill chunk 65 must be in [1, max context = 64]"},
      {{64, 16, 0}, "decode batch 0"},
  };
  for (const Case& c : cases) {
    moert::Result<mlir::OwningOpRef<mlir::ModuleOp>> module = ImportCheckpoint(*checkpoint, c.options, &context_);
    ASSERT_FALSE(module.ok());
    EXPECT_NE(module.status().message().find(c.expect), std::string::npos) << module.status().message();
  }
}

}  // namespace
}  // namespace moec::gptoss
