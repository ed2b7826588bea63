// moert-tokenize: encodes text with the o200k_harmony tokenizer.
//
//   moert-tokenize --ranks o200k_base.tiktoken --jsonl in.jsonl
//     reads one JSON object {"text": "..."} per line and prints, in the same
//     order, {"text": "...", "ids": [...]} (ordinary encoding: special-token
//     names are plain text).
//   moert-tokenize --ranks o200k_base.tiktoken --jsonl in.jsonl --bench
//     repeats the texts of in.jsonl until they fill --bench-mb megabytes and
//     prints the encode throughput.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "base/file_map.h"
#include "base/flags.h"
#include "base/json.h"
#include "tokenizer/tokenizer.h"

namespace moert {
namespace {

std::vector<FlagSpec> Flags() {
  return {
      {"ranks", true, "FILE", "o200k ranks file (.tiktoken) or Hugging Face tokenizer.json"},
      {"jsonl", true, "FILE", "input: one JSON object {\"text\": ...} per line (- for stdin)"},
      {"bench", false, "", "measure encode throughput instead of printing ids"},
      {"bench-mb", true, "N", "benchmark text size in MB (default 32)"},
      {"help", false, "", "print this help", 'h'},
  };
}

void PrintHelp() {
  std::printf(
      "Usage: moert-tokenize --ranks FILE --jsonl IN.jsonl [--bench [--bench-mb N]]\n\n"
      "Encodes the \"text\" of each line of IN.jsonl with the o200k_harmony tokenizer\n"
      "(ordinary encoding) and prints {\"text\": ..., \"ids\": [...]} per line, in order.\n"
      "With --bench, prints encode throughput over the texts repeated to N MB.\n\n%s",
      FormatFlagHelp(Flags()).c_str());
}

// The whole file, or standard input for "-".
Result<std::string> ReadInput(const std::string& path) {
  if (path != "-") return ReadFileToString(path);
  std::string contents;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), stdin)) > 0) contents.append(buffer, n);
  if (std::ferror(stdin)) return Unavailable("cannot read standard input");
  return contents;
}

// The "text" of every line of a JSONL file; errors name the file and line.
Result<std::vector<std::string>> ReadTexts(const std::string& path) {
  MOERT_ASSIGN_OR_RETURN(std::string contents, ReadInput(path));
  std::vector<std::string> texts;
  size_t start = 0;
  uint64_t line_number = 0;
  while (start < contents.size()) {
    size_t end = contents.find('\n', start);
    if (end == std::string::npos) end = contents.size();
    std::string_view line(contents.data() + start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank line
    Result<JsonValue> value = ParseJson(line);
    if (!value.ok()) return value.status().Annotate(StrCat(path, ":", line_number));
    const JsonValue* text = value->is_object() ? value->Find("text") : nullptr;
    if (text == nullptr || !text->is_string()) {
      return InvalidArgument(path, ":", line_number,
                             ": expected an object with a string \"text\" member");
    }
    texts.push_back(text->string_value());
  }
  return texts;
}

Status Run(const ParsedFlags& flags) {
  if (!flags.positional().empty()) {
    return InvalidArgument("unexpected argument \"", flags.positional()[0], "\"");
  }
  if (!flags.Has("ranks")) return InvalidArgument("--ranks FILE is required");
  if (!flags.Has("jsonl")) return InvalidArgument("--jsonl FILE is required");
  MOERT_ASSIGN_OR_RETURN(int64_t bench_mb, flags.GetInt("bench-mb", 32, 1, 4096));
  if (flags.Has("bench-mb") && !flags.Has("bench")) {
    return InvalidArgument("--bench-mb needs --bench");
  }
  MOERT_ASSIGN_OR_RETURN(Tokenizer tokenizer, Tokenizer::LoadFile(flags.GetString("ranks")));
  const std::string jsonl = flags.GetString("jsonl");
  MOERT_ASSIGN_OR_RETURN(std::vector<std::string> texts, ReadTexts(jsonl));

  if (!flags.Has("bench")) {
    std::string out;
    for (size_t i = 0; i < texts.size(); ++i) {
      Result<std::vector<TokenId>> ids = tokenizer.EncodeOrdinary(texts[i]);
      if (!ids.ok()) return ids.status().Annotate(StrCat(jsonl, ": text ", i + 1));
      out.clear();
      out += "{\"text\":";
      AppendJsonString(out, texts[i]);
      out += ",\"ids\":[";
      for (size_t k = 0; k < ids->size(); ++k) {
        if (k > 0) out += ',';
        out += std::to_string((*ids)[k]);
      }
      out += "]}\n";
      std::fwrite(out.data(), 1, out.size(), stdout);
    }
    return Status::Ok();
  }

  // Benchmark: the texts joined by newlines, repeated to the requested size,
  // encoded as one document (best of three runs).
  std::string corpus;
  for (const std::string& t : texts) {
    corpus += t;
    corpus += '\n';
  }
  if (corpus.size() <= texts.size()) return InvalidArgument(jsonl, ": no text to benchmark");
  const uint64_t target = static_cast<uint64_t>(bench_mb) << 20;
  std::string text;
  text.reserve(target + corpus.size());
  while (text.size() < target) text += corpus;
  double best_seconds = 0;
  size_t token_count = 0;
  for (int run = 0; run < 3; ++run) {
    auto begin = std::chrono::steady_clock::now();
    MOERT_ASSIGN_OR_RETURN(std::vector<TokenId> ids, tokenizer.EncodeOrdinary(text));
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    token_count = ids.size();
    if (run == 0 || seconds < best_seconds) best_seconds = seconds;
  }
  const double mb = static_cast<double>(text.size()) / (1 << 20);
  std::printf("encoded %.1f MB (%zu tokens, %.2f bytes/token) in %.3f s (best of 3): %.1f MB/s\n",
              mb, token_count, static_cast<double>(text.size()) / token_count, best_seconds,
              mb / best_seconds);
  return Status::Ok();
}

}  // namespace
}  // namespace moert

int main(int argc, char** argv) {
  return moert::RunToolMain(argc, argv, "moert-tokenize", moert::Flags(), moert::PrintHelp, moert::Run);
}
