#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "base/file_map.h"
#include "base/json.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/streaming_decoder.h"
#include "tokenizer/unicode_classes.h"
#include "base/utf8.h"
#include "test_data.h"

namespace moert {
namespace {

using testing::EncodeVector;
using testing::LoadEncodeVectors;
using testing::O200kTokenizer;

const std::vector<EncodeVector>& Vectors() {
  static const auto* vectors = new std::vector<EncodeVector>(LoadEncodeVectors());
  return *vectors;
}

std::vector<TokenId> MustEncode(const std::string& text) {
  Result<std::vector<TokenId>> ids = O200kTokenizer().EncodeOrdinary(text);
  EXPECT_TRUE(ids.ok()) << ids.status().ToString();
  return ids.ok() ? ids.value() : std::vector<TokenId>{};
}

std::vector<std::string> Pieces(const std::string& text) {
  std::vector<std::string> pieces;
  ForEachO200kPiece(text, [&](std::string_view p) { pieces.emplace_back(p); });
  return pieces;
}

TEST(TokenizerTest, LoadsTheRealRanksFile) {
  const Tokenizer& t = O200kTokenizer();
  EXPECT_EQ(t.num_ranks(), 199998u);
  EXPECT_EQ(t.vocab_size(), 201088u);
  EXPECT_EQ(*t.TokenBytes(0), "!");
  EXPECT_EQ(*t.TokenBytes(188), std::string(1, '\0'));
  EXPECT_EQ(*t.TokenBytes(220), " ");
}

TEST(TokenizerTest, EncodesEveryVector) {
  ASSERT_EQ(Vectors().size(), 406u);
  int failures = 0;
  for (const EncodeVector& v : Vectors()) {
    std::vector<TokenId> ids = MustEncode(v.text);
    if (ids != v.ids && ++failures <= 10) {
      ADD_FAILURE() << "o200k_vectors.jsonl line " << v.line << ": text "
                    << JsonValue::String(v.text).Serialize() << " encodes to "
                    << ::testing::PrintToString(ids) << ", expected "
                    << ::testing::PrintToString(v.ids);
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST(TokenizerTest, DecodesEveryVector) {
  for (const EncodeVector& v : Vectors()) {
    Result<std::string> text = O200kTokenizer().DecodeUtf8(v.ids);
    ASSERT_TRUE(text.ok()) << "line " << v.line << ": " << text.status().ToString();
    EXPECT_EQ(*text, v.text) << "line " << v.line;
  }
}

TEST(TokenizerTest, HeapMergeAgreesWithQuadraticMerge) {
  const Tokenizer& t = O200kTokenizer();
  for (const EncodeVector& v : Vectors()) {
    ForEachO200kPiece(v.text, [&](std::string_view piece) {
      std::vector<TokenId> quadratic, heap;
      t.EncodePiece(piece, &quadratic);
      t.EncodePiece(piece, &heap, /*force_heap_merge=*/true);
      EXPECT_EQ(quadratic, heap) << "line " << v.line << " piece \"" << piece << "\"";
    });
  }
  // Long pieces take the heap path by default; check them against the
  // vectors' ids through whole-text encoding as well.
  std::string long_word(5000, 'a');
  std::vector<TokenId> ids = MustEncode(long_word);
  EXPECT_EQ(*t.DecodeUtf8(ids), long_word);
}

TEST(TokenizerTest, StreamingDecodeEmitsOnlyWholeCharacters) {
  const Tokenizer& t = O200kTokenizer();
  for (const EncodeVector& v : Vectors()) {
    StreamingDecoder decoder(t);
    std::string emitted;
    for (size_t k = 0; k < v.ids.size(); ++k) {
      std::string chunk;
      ASSERT_TRUE(decoder.Push(v.ids[k], &chunk).ok());
      ASSERT_TRUE(IsValidUtf8(chunk)) << "line " << v.line << " after token " << k;
      emitted += chunk;
      // Everything emitted so far is a prefix of the text, on a character
      // boundary, and at most 3 bytes are held back.
      ASSERT_EQ(v.text.compare(0, emitted.size(), emitted), 0) << "line " << v.line;
      ASSERT_LE(decoder.pending_bytes(), 3u);
      // Ending the stream at this prefix still gives valid UTF-8.
      StreamingDecoder copy = decoder;
      ASSERT_TRUE(IsValidUtf8(copy.Finish())) << "line " << v.line;
    }
    emitted += decoder.Finish();
    EXPECT_EQ(emitted, v.text) << "line " << v.line;
  }
}

TEST(TokenizerTest, StreamingDecodeReplacesInvalidBytes) {
  const Tokenizer& t = O200kTokenizer();
  // Token 9552 is " \xF0\x9F" (space, then the start of a 4-byte character).
  ASSERT_EQ(*t.TokenBytes(9552), " \xF0\x9F");
  StreamingDecoder decoder(t);
  EXPECT_EQ(*decoder.Push(9552), " ");
  EXPECT_EQ(decoder.pending_bytes(), 2u);
  // "Hi" cannot continue the sequence: one U+FFFD for the two held bytes.
  EXPECT_EQ(*decoder.Push(12194), "\xEF\xBF\xBDHi");
  EXPECT_EQ(*decoder.Push(9552), " ");
  EXPECT_EQ(decoder.Finish(), "\xEF\xBF\xBD");  // truncated at the end
  EXPECT_EQ(decoder.pending_bytes(), 0u);
  EXPECT_FALSE(decoder.Push(4294967295u).ok());
}

TEST(TokenizerTest, GeneratedUnicodeTableCoversRangesAndWhiteSpace) {
  // <..., First>/<..., Last> ranges of UnicodeData.txt.
  EXPECT_EQ(CodePointClass(0x4E00 + 1234), kClassLo);   // CJK Ideograph
  EXPECT_EQ(CodePointClass(0xAC01), kClassLo);          // Hangul Syllable
  EXPECT_EQ(CodePointClass(0x20000 + 77), kClassLo);    // CJK Extension B
  EXPECT_EQ(CodePointClass(0xE000 + 5), 0);             // Private Use (Co)
  EXPECT_EQ(CodePointClass(0x10FFFF), 0);               // unassigned
  EXPECT_EQ(CodePointClass('A'), kClassLu);
  EXPECT_EQ(CodePointClass(0x01C5), kClassLt);          // Dž
  EXPECT_EQ(CodePointClass(0x02B0), kClassLm);
  EXPECT_EQ(CodePointClass(0x0301), kClassMark);        // combining acute
  EXPECT_EQ(CodePointClass(0x0663), kClassNumber);      // Arabic-Indic three
  EXPECT_EQ(CodePointClass(0x2167), kClassNumber);      // Roman numeral (Nl)
  // White_Space as Rust regex's \s: NEL and NBSP yes, BOM and ZWSP no.
  for (uint32_t cp : {0x09u, 0x0Du, 0x20u, 0x85u, 0xA0u, 0x1680u, 0x2000u, 0x200Au, 0x2028u,
                      0x2029u, 0x202Fu, 0x205Fu, 0x3000u}) {
    EXPECT_TRUE(IsUnicodeWhiteSpace(cp)) << std::hex << cp;
  }
  for (uint32_t cp : {0x08u, 0x0Eu, 0x180Eu, 0x200Bu, 0xFEFFu}) {
    EXPECT_FALSE(IsUnicodeWhiteSpace(cp)) << std::hex << cp;
  }
}

TEST(TokenizerTest, SpecTableExamples) {
  EXPECT_EQ(MustEncode("hello world"), (std::vector<TokenId>{24912, 2375}));
  EXPECT_EQ(MustEncode("analysis"), (std::vector<TokenId>{35644}));
  EXPECT_EQ(MustEncode("commentary"), (std::vector<TokenId>{12606, 815}));
  EXPECT_EQ(MustEncode(" to=functions.get_weather"),
            (std::vector<TokenId>{316, 28, 44580, 775, 170154}));
  EXPECT_EQ(MustEncode("Reasoning: high"), (std::vector<TokenId>{30377, 289, 25, 1932}));
  EXPECT_EQ(MustEncode("<|start|>"), (std::vector<TokenId>{27, 91, 5236, 91, 29}));
}

TEST(TokenizerTest, WhiteSpaceFollowsRustRegex) {
  // U+0085 is \s for Rust regex (White_Space), so it splits off on its own.
  EXPECT_EQ(MustEncode("x \xC2\x85!"), (std::vector<TokenId>{87, 220, 126, 227, 0}));
  EXPECT_EQ(Pieces("x \xC2\x85!"),
            (std::vector<std::string>{"x", " ", "\xC2\x85", "!"}));
  EXPECT_EQ(Pieces("   hello  \n\n  x"),
            (std::vector<std::string>{"  ", " hello", "  \n\n", " ", " x"}));
  EXPECT_EQ(Pieces("It'S ſ's I'ſ"), (std::vector<std::string>{"It'S", " ſ's", " I'ſ"}));
  // \s+(?!\S) leaves the tab to start the next piece; a lone tab before a
  // symbol is then a piece of its own (only ' ' may lead a symbol run).
  EXPECT_EQ(Pieces("1234567 \t!"), (std::vector<std::string>{"123", "456", "7", " ", "\t", "!"}));
}

TEST(TokenizerTest, SpecialTokens) {
  const Tokenizer& t = O200kTokenizer();
  EXPECT_EQ(SpecialTokenName(200006), "<|start|>");
  EXPECT_EQ(SpecialTokenName(200013), "<|reserved_200013|>");
  EXPECT_EQ(SpecialTokenName(201087), "<|reserved_201087|>");
  EXPECT_EQ(*t.TokenBytes(200018), "<|endofprompt|>");
  EXPECT_EQ(*t.FindSpecialToken("<|endofprompt|>"), 200018u);
  EXPECT_EQ(*t.FindSpecialToken("<|reserved_200018|>"), 200018u);
  EXPECT_FALSE(t.FindSpecialToken("<|reserved_201088|>").has_value());
  EXPECT_FALSE(t.TokenBytes(201088).ok());
  Result<std::string_view> bad = t.TokenBytes(4294967295u);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("4294967295"), std::string::npos);

  const std::string text = "<|start|>user<|message|>Hi<|end|><|reserved_200018|>";
  Result<std::vector<TokenId>> all = t.Encode(text, AllowedSpecialTokens::All());
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, (std::vector<TokenId>{200006, 1428, 200008, 12194, 200007, 200018}));
  Result<std::vector<TokenId>> some =
      t.Encode("<|start|>x<|end|>", AllowedSpecialTokens::Only({200007}));
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(*some, (std::vector<TokenId>{27, 91, 5236, 91, 29, 87, 200007}));
  EXPECT_EQ(*t.Encode(text, AllowedSpecialTokens::None()), MustEncode(text));
  EXPECT_EQ(*t.DecodeUtf8(*all), "<|start|>user<|message|>Hi<|end|><|endofprompt|>");
}

TEST(TokenizerTest, RejectsInvalidUtf8Text) {
  Result<std::vector<TokenId>> ids = O200kTokenizer().EncodeOrdinary("ab\xFF" "cd");
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(ids.status().message().find("not valid UTF-8"), std::string::npos);
  EXPECT_NE(ids.status().message().find("0xFF at byte offset 2"), std::string::npos)
      << ids.status().message();
  EXPECT_FALSE(O200kTokenizer().EncodeOrdinary("\xED\xA0\x80").ok());  // a surrogate
  EXPECT_FALSE(O200kTokenizer().Encode("x\xC3", AllowedSpecialTokens::All()).ok());
}

// A tiny valid ranks file: the 256 single bytes, then "ab".
std::string TinyRanks() {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (int b = 0; b < 256; ++b) {
    uint32_t group = static_cast<uint32_t>(b) << 16;
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += "== ";
    out += std::to_string(b) + "\n";
  }
  out += "YWI= 256\n";
  return out;
}

std::string LoadError(const std::string& contents) {
  Result<Tokenizer> t = Tokenizer::FromTiktokenText(contents, "test.tiktoken");
  return t.ok() ? "(loaded)" : t.status().message();
}

TEST(TokenizerTest, TinyRanksFileWorks) {
  Result<Tokenizer> t = Tokenizer::FromTiktokenText(TinyRanks(), "tiny.tiktoken");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->num_ranks(), 257u);
  EXPECT_EQ(*t->EncodeOrdinary("abc"), (std::vector<TokenId>{256, 'c'}));
  EXPECT_FALSE(t->TokenBytes(300).ok());  // a hole below the specials
  EXPECT_EQ(*t->TokenBytes(200006), "<|start|>");
}

TEST(TokenizerTest, RanksFileErrorsNameFileAndLine) {
  std::string ranks = TinyRanks();
  // Line 3 loses its rank.
  size_t line3 = ranks.find('\n', ranks.find('\n') + 1) + 1;
  std::string no_space = ranks;
  no_space.replace(no_space.find(' ', line3), 1, "");
  EXPECT_NE(LoadError(no_space).find("test.tiktoken:3: expected `base64 SP rank`"),
            std::string::npos)
      << LoadError(no_space);

  std::string bad_base64 = ranks;
  bad_base64.replace(line3, 1, "*");
  EXPECT_NE(LoadError(bad_base64).find("test.tiktoken:3: "), std::string::npos);
  EXPECT_NE(LoadError(bad_base64).find("is not valid base64"), std::string::npos);

  EXPECT_NE(LoadError(ranks + "YmM= x7\n").find("test.tiktoken:258: rank \"x7\" is not a decimal"),
            std::string::npos);
  EXPECT_NE(LoadError(ranks + "YmM= 300\n").find("test.tiktoken:258: rank 300 is out of order"),
            std::string::npos);
  EXPECT_NE(LoadError(ranks + "\nYmM= 257\n").find("test.tiktoken:258:"), std::string::npos);
  EXPECT_NE(LoadError(ranks + "YWI= 257\n").find("has the same bytes as token 256"),
            std::string::npos)
      << LoadError(ranks + "YWI= 257\n");
  EXPECT_NE(LoadError(ranks + "YmM= 199998\n").find("collides with the special tokens"),
            std::string::npos);
  // Without byte 0x00 (line 1), BPE could not encode every text.
  EXPECT_NE(LoadError(ranks.substr(ranks.find('\n') + 1)).find("rank 1 is out of order"),
            std::string::npos);

  Result<Tokenizer> missing = Tokenizer::LoadTiktokenFile("/nonexistent/ranks.tiktoken");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/ranks.tiktoken"), std::string::npos);
}

// GPT-2 byte-level string of `bytes` (the form tokenizer.json vocab keys use).
std::string ByteLevel(std::string_view bytes) {
  std::string out;
  for (char ch : bytes) {
    auto b = static_cast<uint8_t>(ch);
    bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    uint32_t cp = b;
    if (!printable) {
      cp = 0x100;
      for (uint32_t x = 0; x < b; ++x) {
        if (!((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE)) ++cp;
      }
    }
    AppendUtf8(out, cp);
  }
  return out;
}

TEST(TokenizerTest, LoadsHuggingFaceTokenizerJson) {
  // The first kRanks lines of the real ranks file, once as a ranks file and
  // once as a tokenizer.json; both must encode every vector the same way.
  // (A smaller vocabulary keeps the test fast: base/json.cc checks duplicate
  // object keys pairwise, so a full 200k-entry vocab takes minutes to parse.)
  constexpr TokenId kRanks = 5000;
  const Tokenizer& reference = O200kTokenizer();
  Result<std::string> ranks_file = ReadFileToString(testing::RanksPath());
  ASSERT_TRUE(ranks_file.ok());
  size_t cut = 0;
  for (TokenId i = 0; i < kRanks; ++i) cut = ranks_file->find('\n', cut) + 1;
  Result<Tokenizer> from_ranks =
      Tokenizer::FromTiktokenText(ranks_file->substr(0, cut), "head.tiktoken");
  ASSERT_TRUE(from_ranks.ok()) << from_ranks.status().ToString();

  std::string json = "{\"added_tokens\":[";
  for (TokenId id = 199998; id <= 200018; ++id) {
    if (id > 199998) json += ",";
    json += StrCat("{\"id\":", id, ",\"content\":");
    AppendJsonString(json, SpecialTokenName(id));
    json += ",\"special\":true}";
  }
  json += "],\"model\":{\"type\":\"BPE\",\"vocab\":{";
  for (TokenId rank = 0; rank < kRanks; ++rank) {
    if (rank > 0) json += ",";
    AppendJsonString(json, ByteLevel(*reference.TokenBytes(rank)));
    json += ":" + std::to_string(rank);
  }
  json += "},\"merges\":[]}}";

  Result<Tokenizer> hf = Tokenizer::FromHuggingFaceJson(json, "tokenizer.json");
  ASSERT_TRUE(hf.ok()) << hf.status().ToString();
  EXPECT_EQ(hf->num_ranks(), kRanks);
  for (const EncodeVector& v : Vectors()) {
    EXPECT_EQ(*hf->EncodeOrdinary(v.text), *from_ranks->EncodeOrdinary(v.text))
        << "line " << v.line;
  }
  EXPECT_EQ(*hf->EncodeOrdinary(" world"), (std::vector<TokenId>{2375}));

  std::string wrong_special = json;
  wrong_special.replace(wrong_special.find("<|start|>"), 9, "<|begin|>");
  Result<Tokenizer> bad = Tokenizer::FromHuggingFaceJson(wrong_special, "tokenizer.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("added_tokens[8] gives id 200006 to \"<|begin|>\""),
            std::string::npos)
      << bad.status().message();
}

TEST(TokenizerTest, ReadsTokenizerJsonOrRanksByContent) {
  std::string dir = ::testing::TempDir();
  std::string ranks_path = dir + "/tiny.tiktoken";
  ASSERT_TRUE(WriteStringToFile(ranks_path, TinyRanks()).ok());
  Result<Tokenizer> t = Tokenizer::LoadFile(ranks_path);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->num_ranks(), 257u);
  std::string json_path = dir + "/tokenizer.json";
  ASSERT_TRUE(WriteStringToFile(json_path, "{\"model\": {\"type\": \"Unigram\"}}").ok());
  Result<Tokenizer> j = Tokenizer::LoadFile(json_path);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("model.type is Unigram"), std::string::npos);
}

}  // namespace
}  // namespace moert
