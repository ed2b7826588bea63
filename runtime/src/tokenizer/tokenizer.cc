#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <queue>
#include <utility>

#include "base/file_map.h"
#include "base/json.h"
#include "tokenizer/pretokenizer.h"
#include "base/utf8.h"

namespace moert {
namespace {

// Pieces longer than this use the heap-based merge: the quadratic loop is
// faster for the short pieces of ordinary text, but a long run of symbols or
// letters (one piece) would make it O(n^2) in the input length.
constexpr size_t kQuadraticMergeMaxBytes = 128;

// Decodes standard base64 (RFC 4648, with '=' padding). Returns false on any
// character outside the alphabet, a bad length or misplaced padding.
bool DecodeBase64(std::string_view in, std::string* out) {
  auto value_of = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out->clear();
  if (in.empty() || in.size() % 4 != 0) return false;
  for (size_t i = 0; i < in.size(); i += 4) {
    const bool last_group = i + 4 == in.size();
    int padding = 0;
    if (last_group) padding = (in[i + 3] == '=') + (in[i + 2] == '=' && in[i + 3] == '=');
    uint32_t group = 0;
    for (int k = 0; k < 4; ++k) {
      int v = k >= 4 - padding ? 0 : value_of(in[i + k]);
      if (v < 0) return false;
      group = (group << 6) | static_cast<uint32_t>(v);
    }
    out->push_back(static_cast<char>(group >> 16));
    if (padding < 2) out->push_back(static_cast<char>((group >> 8) & 0xFF));
    if (padding < 1) out->push_back(static_cast<char>(group & 0xFF));
  }
  return true;
}

// Names of the special tokens that are not `<|reserved_N|>`.
const char* NamedSpecialToken(TokenId id) {
  switch (id) {
    case 199998: return "<|startoftext|>";
    case 199999: return "<|endoftext|>";
    case 200002: return "<|return|>";
    case 200003: return "<|constrain|>";
    case 200005: return "<|channel|>";
    case 200006: return "<|start|>";
    case 200007: return "<|end|>";
    case 200008: return "<|message|>";
    case 200012: return "<|call|>";
    case 200018: return "<|endofprompt|>";
    default: return nullptr;
  }
}

// GPT-2's byte-level mapping used by Hugging Face tokenizer.json: printable
// bytes (! .. ~, ¡ .. ¬, ® .. ÿ) stand for themselves as code points; the
// other 68 bytes map, in byte order, to U+0100, U+0101, ...  Returns the byte
// a code point stands for, or -1.
int ByteForByteLevelCodePoint(uint32_t cp) {
  auto printable = [](uint32_t b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  };
  if (cp < 0x100) return printable(cp) ? static_cast<int>(cp) : -1;
  uint32_t index = cp - 0x100;
  for (uint32_t b = 0; b < 256; ++b) {
    if (printable(b)) continue;
    if (index == 0) return static_cast<int>(b);
    --index;
  }
  return -1;
}

Status InvalidUtf8Error(std::string_view text, size_t offset) {
  return InvalidArgument("text to encode is not valid UTF-8: bad byte 0x",
                         "0123456789ABCDEF"[static_cast<uint8_t>(text[offset]) >> 4],
                         "0123456789ABCDEF"[static_cast<uint8_t>(text[offset]) & 15],
                         " at byte offset ", offset, " of ", text.size());
}

// Merge positions are 32-bit; a text this large is a caller bug, not a prompt.
Status CheckEncodableSize(std::string_view text) {
  if (text.size() >= (uint64_t{1} << 32)) {
    return OutOfRange("text to encode is ", text.size(), " bytes; the limit is 4 GiB");
  }
  return Status::Ok();
}

}  // namespace

std::string SpecialTokenName(TokenId id) {
  if (const char* name = NamedSpecialToken(id)) return name;
  return StrCat("<|reserved_", id, "|>");
}

bool AllowedSpecialTokens::Allows(TokenId id) const {
  return all_ || std::find(ids_.begin(), ids_.end(), id) != ids_.end();
}

Tokenizer::Tokenizer(Vocabulary vocabulary) : vocabulary_(std::move(vocabulary)) {
  special_names_.reserve(kVocabSize - kFirstSpecialTokenId);
  for (TokenId id = kFirstSpecialTokenId; id < kVocabSize; ++id) {
    special_names_.push_back(SpecialTokenName(id));
    special_ids_.emplace(special_names_.back(), id);
  }
  special_ids_.emplace("<|reserved_200018|>", kTokenEndOfPrompt);
}

Result<Tokenizer> Tokenizer::LoadTiktokenFile(const std::string& path) {
  MOERT_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  return FromTiktokenText(file.view(), path);
}

Result<Tokenizer> Tokenizer::FromTiktokenText(std::string_view contents,
                                              const std::string& source_name) {
  std::vector<Vocabulary::Entry> entries;
  entries.reserve(contents.size() / 16);
  size_t line_start = 0;
  uint64_t line_number = 0;
  std::string bytes;
  while (line_start < contents.size()) {
    ++line_number;
    size_t line_end = contents.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = contents.size();
    std::string_view line = contents.substr(line_start, line_end - line_start);
    line_start = line_end + 1;
    auto where = [&] { return StrCat(source_name, ":", line_number); };

    size_t space = line.find(' ');
    if (space == std::string_view::npos) {
      return DataLoss(where(), ": expected `base64 SP rank`, found no space in \"",
                      line.substr(0, 80), "\"");
    }
    std::string_view encoded = line.substr(0, space);
    std::string_view rank_text = line.substr(space + 1);
    if (!DecodeBase64(encoded, &bytes)) {
      return DataLoss(where(), ": \"", encoded.substr(0, 80), "\" is not valid base64");
    }
    uint64_t rank = 0;
    bool digits_ok = !rank_text.empty() && rank_text.size() <= 10;
    for (char c : rank_text) {
      if (c < '0' || c > '9') digits_ok = false;
      rank = rank * 10 + static_cast<uint64_t>(c - '0');
    }
    if (!digits_ok) {
      return DataLoss(where(), ": rank \"", rank_text.substr(0, 80),
                      "\" is not a decimal number");
    }
    if (rank >= kFirstSpecialTokenId) {
      return DataLoss(where(), ": rank ", rank, " collides with the special tokens (ranks must be < ",
                      kFirstSpecialTokenId, ")");
    }
    if (rank != entries.size()) {
      return DataLoss(where(), ": rank ", rank, " is out of order (expected ", entries.size(),
                      "; ranks must be 0, 1, 2, ... line by line)");
    }
    entries.push_back({static_cast<TokenId>(rank), bytes, line_number});
  }
  if (entries.empty()) return DataLoss(source_name, ": the ranks file has no tokens");
  Result<Vocabulary> vocabulary = Vocabulary::Build(
      std::move(entries), [&](uint64_t line) { return StrCat(source_name, ":", line); });
  if (!vocabulary.ok()) {
    return Status(StatusCode::kDataLoss, vocabulary.status().message())
        .Annotate(StrCat("loading ", source_name));
  }
  return Tokenizer(std::move(vocabulary).value());
}

Result<Tokenizer> Tokenizer::LoadHuggingFaceFile(const std::string& path) {
  MOERT_ASSIGN_OR_RETURN(std::string contents, ReadFileToString(path));
  return FromHuggingFaceJson(contents, path);
}

Result<Tokenizer> Tokenizer::FromHuggingFaceJson(std::string_view json,
                                                 const std::string& source_name) {
  Result<JsonValue> parsed = ParseJson(json);
  if (!parsed.ok()) return parsed.status().Annotate(source_name);
  const JsonValue& root = parsed.value();
  const JsonValue* model = root.Find("model");
  if (model == nullptr || !model->is_object()) {
    return DataLoss(source_name, ": no \"model\" object");
  }
  const JsonValue* type = model->Find("type");
  if (type != nullptr && !(type->is_string() && type->string_value() == "BPE")) {
    return DataLoss(source_name, ": model.type is ",
                    type->is_string() ? type->string_value() : JsonKindName(type->kind()),
                    ", expected \"BPE\"");
  }
  const JsonValue* vocab = model->Find("vocab");
  if (vocab == nullptr || !vocab->is_object()) {
    return DataLoss(source_name, ": no model.vocab object");
  }
  std::vector<Vocabulary::Entry> entries;
  entries.reserve(vocab->members().size());
  for (const JsonValue::Member& member : vocab->members()) {
    const std::string& key = member.first;
    auto where = [&] { return StrCat(source_name, ": model.vocab[", JsonValue::String(key).Serialize(), "]"); };
    Result<int64_t> rank = member.second.AsInt64();
    if (!rank.ok() || rank.value() < 0 || rank.value() >= kFirstSpecialTokenId) {
      return DataLoss(where(), ": rank ", member.second.Serialize(),
                      " is not an integer in [0, ", kFirstSpecialTokenId, ")");
    }
    std::string bytes;
    for (size_t pos = 0; pos < key.size();) {
      size_t length;
      uint32_t cp = DecodeValidUtf8At(key, pos, &length);  // JSON strings are valid UTF-8
      int byte = ByteForByteLevelCodePoint(cp);
      if (byte < 0) {
        return DataLoss(where(), ": U+", std::hex, cp,
                        " is not a GPT-2 byte-level character");
      }
      bytes.push_back(static_cast<char>(byte));
      pos += length;
    }
    entries.push_back({static_cast<TokenId>(rank.value()), std::move(bytes), entries.size()});
  }
  Result<Vocabulary> vocabulary = Vocabulary::Build(std::move(entries), [&](uint64_t index) {
    return StrCat("model.vocab[", JsonValue::String(vocab->members()[index].first).Serialize(), "]");
  });
  if (!vocabulary.ok()) return vocabulary.status().Annotate(StrCat("loading ", source_name));
  Tokenizer tokenizer(std::move(vocabulary).value());

  if (const JsonValue* added = root.Find("added_tokens")) {
    if (!added->is_array()) return DataLoss(source_name, ": added_tokens is not an array");
    for (size_t i = 0; i < added->items().size(); ++i) {
      const JsonValue& token = added->items()[i];
      const JsonValue* id_value = token.Find("id");
      const JsonValue* content = token.Find("content");
      Result<int64_t> id = id_value != nullptr ? id_value->AsInt64()
                                               : Result<int64_t>(InvalidArgument("missing"));
      if (!id.ok() || content == nullptr || !content->is_string()) {
        return DataLoss(source_name, ": added_tokens[", i,
                        "] needs an integer \"id\" and a string \"content\"");
      }
      std::optional<TokenId> expected = tokenizer.FindSpecialToken(content->string_value());
      bool matches_rank = id.value() >= 0 && id.value() < tokenizer.num_ranks() &&
                          tokenizer.vocabulary_.Bytes(static_cast<TokenId>(id.value())) ==
                              content->string_value();
      if (!matches_rank && (!expected.has_value() || *expected != id.value())) {
        return DataLoss(source_name, ": added_tokens[", i, "] gives id ", id.value(), " to \"",
                        content->string_value(), "\", which o200k_harmony does not (",
                        expected.has_value() ? StrCat("its id is ", *expected)
                                             : std::string("not a known special token"),
                        ")");
      }
    }
  }
  return tokenizer;
}

bool Tokenizer::IsHuggingFaceJson(std::string_view contents) {
  const size_t first = contents.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && contents[first] == '{';
}

Result<Tokenizer> Tokenizer::FromContents(std::string_view contents, const std::string& source_name) {
  return IsHuggingFaceJson(contents) ? FromHuggingFaceJson(contents, source_name)
                                     : FromTiktokenText(contents, source_name);
}

Result<Tokenizer> Tokenizer::LoadFile(const std::string& path) {
  MOERT_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  return FromContents(file.view(), path);
}

std::optional<TokenId> Tokenizer::FindSpecialToken(std::string_view name) const {
  auto it = special_ids_.find(std::string(name));
  if (it == special_ids_.end()) return std::nullopt;
  return it->second;
}

Result<std::vector<TokenId>> Tokenizer::EncodeOrdinary(std::string_view text) const {
  std::vector<TokenId> out;
  MOERT_RETURN_IF_ERROR(EncodeOrdinaryInto(text, &out));
  return out;
}

Status Tokenizer::EncodeOrdinaryInto(std::string_view text, std::vector<TokenId>* out) const {
  MOERT_RETURN_IF_ERROR(CheckEncodableSize(text));
  Utf8Scan scan = ScanUtf8(text);
  if (scan.valid_up_to != text.size()) return InvalidUtf8Error(text, scan.valid_up_to);
  out->reserve(out->size() + text.size() / 4);
  EncodeValidUtf8(text, out);
  return Status::Ok();
}

Result<std::vector<TokenId>> Tokenizer::Encode(std::string_view text,
                                               const AllowedSpecialTokens& allowed) const {
  MOERT_RETURN_IF_ERROR(CheckEncodableSize(text));
  Utf8Scan scan = ScanUtf8(text);
  if (scan.valid_up_to != text.size()) return InvalidUtf8Error(text, scan.valid_up_to);
  std::vector<TokenId> out;
  out.reserve(text.size() / 4);
  // Text between allowed special tokens is encoded on its own, so no piece
  // crosses a special token (as in tiktoken).
  size_t segment_start = 0;
  size_t search = 0;
  while (true) {
    size_t open = text.find("<|", search);
    if (open == std::string_view::npos) break;
    size_t close = text.find("|>", open + 2);
    if (close == std::string_view::npos) break;
    std::string_view name = text.substr(open, close + 2 - open);
    std::optional<TokenId> id = FindSpecialToken(name);
    if (id.has_value() && allowed.Allows(*id)) {
      EncodeValidUtf8(text.substr(segment_start, open - segment_start), &out);
      out.push_back(*id);
      segment_start = close + 2;
      search = segment_start;
    } else {
      search = open + 1;
    }
  }
  EncodeValidUtf8(text.substr(segment_start), &out);
  return out;
}

void Tokenizer::EncodeValidUtf8(std::string_view text, std::vector<TokenId>* out) const {
  ForEachO200kPiece(text, [&](std::string_view piece) { EncodePiece(piece, out); });
}

void Tokenizer::EncodePiece(std::string_view piece, std::vector<TokenId>* out,
                            bool force_heap_merge) const {
  if (piece.size() == 1) {
    out->push_back(vocabulary_.SingleByteRank(static_cast<uint8_t>(piece[0])));
    return;
  }
  TokenId whole = vocabulary_.Find(piece);
  if (whole != Vocabulary::kNoRank) {
    out->push_back(whole);
    return;
  }
  if (force_heap_merge || piece.size() > kQuadraticMergeMaxBytes) {
    MergeWithHeap(piece, out);
  } else {
    MergeQuadratic(piece, out);
  }
}

// Byte-pair merging as tiktoken does it: start from single bytes, repeatedly
// merge the adjacent pair whose concatenation has the lowest rank (the
// leftmost one among equal ranks) until no adjacent concatenation is a token.
// `parts[i]` holds where part i starts and the rank of part i joined with part
// i + 1; the scan for the minimum is linear, which is fastest for short pieces.
void Tokenizer::MergeQuadratic(std::string_view piece, std::vector<TokenId>* out) const {
  struct Part {
    uint32_t start;
    TokenId pair_rank;
  };
  const size_t n = piece.size();
  Part stack_parts[kQuadraticMergeMaxBytes + 1];
  Part* parts = stack_parts;
  size_t count = n + 1;  // parts plus an end sentinel
  auto rank_of = [&](size_t begin, size_t end) {
    return vocabulary_.Find(piece.data() + begin, end - begin);
  };
  for (size_t i = 0; i + 1 < n; ++i) parts[i] = {static_cast<uint32_t>(i), rank_of(i, i + 2)};
  parts[n - 1] = {static_cast<uint32_t>(n - 1), Vocabulary::kNoRank};
  parts[n] = {static_cast<uint32_t>(n), Vocabulary::kNoRank};
  // Rank of parts i and i + 1 joined after i + 1 has absorbed i + 2.
  auto rank_after_merge = [&](size_t i) {
    return i + 3 < count ? rank_of(parts[i].start, parts[i + 3].start) : Vocabulary::kNoRank;
  };
  while (true) {
    TokenId min_rank = Vocabulary::kNoRank;
    size_t min_index = 0;
    for (size_t i = 0; i + 1 < count; ++i) {
      if (parts[i].pair_rank < min_rank) {
        min_rank = parts[i].pair_rank;
        min_index = i;
      }
    }
    if (min_rank == Vocabulary::kNoRank) break;
    size_t i = min_index;
    if (i > 0) parts[i - 1].pair_rank = rank_after_merge(i - 1);
    parts[i].pair_rank = rank_after_merge(i);
    std::copy(parts + i + 2, parts + count, parts + i + 1);
    --count;
  }
  for (size_t i = 0; i + 1 < count; ++i) out->push_back(rank_of(parts[i].start, parts[i + 1].start));
}

// The same merge order with a priority queue over (pair rank, position) and a
// doubly linked list of parts: O(n log n) for long pieces. Stale queue entries
// are recognised by a per-part version number.
void Tokenizer::MergeWithHeap(std::string_view piece, std::vector<TokenId>* out) const {
  const uint32_t n = static_cast<uint32_t>(piece.size());
  constexpr uint32_t kNone = 0xFFFFFFFFu;
  // Part i starts at byte i; parts are removed by linking around them.
  std::vector<uint32_t> next(n), prev(n), version(n, 0);
  for (uint32_t i = 0; i < n; ++i) {
    next[i] = i + 1 < n ? i + 1 : kNone;
    prev[i] = i > 0 ? i - 1 : kNone;
  }
  auto end_of = [&](uint32_t part) { return next[part] == kNone ? n : next[part]; };
  auto pair_rank = [&](uint32_t part) {
    if (part == kNone || next[part] == kNone) return Vocabulary::kNoRank;
    return vocabulary_.Find(piece.data() + part, end_of(next[part]) - part);
  };
  struct Candidate {
    TokenId rank;
    uint32_t part;
    uint32_t version;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : part > o.part;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  for (uint32_t i = 0; i + 1 < n; ++i) {
    TokenId rank = pair_rank(i);
    if (rank != Vocabulary::kNoRank) queue.push({rank, i, 0});
  }
  while (!queue.empty()) {
    Candidate c = queue.top();
    queue.pop();
    if (c.version != version[c.part]) continue;  // stale: the part changed since
    uint32_t absorbed = next[c.part];
    next[c.part] = next[absorbed];
    if (next[absorbed] != kNone) prev[next[absorbed]] = c.part;
    version[absorbed] = kNone;  // never matches again
    for (uint32_t part : {prev[c.part], c.part}) {
      if (part == kNone) continue;
      ++version[part];
      TokenId rank = pair_rank(part);
      if (rank != Vocabulary::kNoRank) queue.push({rank, part, version[part]});
    }
  }
  for (uint32_t part = 0; part != kNone; part = next[part]) {
    out->push_back(vocabulary_.Find(piece.data() + part, end_of(part) - part));
  }
}

Result<std::string_view> Tokenizer::TokenBytes(TokenId id) const {
  if (id < vocabulary_.size()) return vocabulary_.Bytes(id);
  if (IsSpecial(id)) return std::string_view(special_names_[id - kFirstSpecialTokenId]);
  return InvalidArgument("token id ", id, " is not in the vocabulary (ranks 0..",
                         vocabulary_.size() - 1, ", special tokens ", kFirstSpecialTokenId, "..",
                         kVocabSize - 1, ")");
}

Result<std::string> Tokenizer::DecodeBytes(const std::vector<TokenId>& ids) const {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    Result<std::string_view> bytes = TokenBytes(ids[i]);
    if (!bytes.ok()) return bytes.status().Annotate(StrCat("decoding token ", i));
    out.append(bytes.value());
  }
  return out;
}

Result<std::string> Tokenizer::DecodeUtf8(const std::vector<TokenId>& ids) const {
  MOERT_ASSIGN_OR_RETURN(std::string bytes, DecodeBytes(ids));
  Utf8Scan scan = ScanUtf8(bytes);
  if (scan.valid_up_to != bytes.size()) {
    return InvalidArgument("the tokens decode to invalid UTF-8 at byte offset ", scan.valid_up_to,
                           " of ", bytes.size());
  }
  return bytes;
}

}  // namespace moert
