#include "base/flags.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace moert {

Result<int64_t> ParseInt(const std::string& text, const std::string& what) {
  if (text.empty()) return InvalidArgument(what, ": expected an integer, got an empty value");
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (end != text.c_str() + text.size() || text[0] == '+' || text[0] == ' ') {
    return InvalidArgument(what, ": expected an integer, got \"", text, "\"");
  }
  if (errno == ERANGE) return InvalidArgument(what, ": ", text, " does not fit in 64 bits");
  return static_cast<int64_t>(v);
}

Result<std::vector<int64_t>> ParseIntList(const std::string& text, int64_t min, int64_t max,
                                          const std::string& what) {
  std::vector<int64_t> values;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    MOERT_ASSIGN_OR_RETURN(int64_t v, ParseInt(item, StrCat(what, " entry ", values.size())));
    if (v < min || v > max) {
      return InvalidArgument(what, " entry ", values.size(), " is ", v, ", outside [", min, ", ", max, "]");
    }
    values.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return values;
}

bool ParsedFlags::Has(const std::string& name) const {
  for (const auto& kv : values_) {
    if (kv.first == name) return true;
  }
  return false;
}

std::string ParsedFlags::GetString(const std::string& name, const std::string& fallback) const {
  for (const auto& kv : values_) {
    if (kv.first == name) return kv.second;
  }
  return fallback;
}

Result<int64_t> ParsedFlags::GetInt(const std::string& name, int64_t fallback, int64_t min,
                                    int64_t max) const {
  if (!Has(name)) return fallback;
  MOERT_ASSIGN_OR_RETURN(int64_t v, ParseInt(GetString(name), "--" + name));
  if (v < min || v > max) return InvalidArgument("--", name, " is ", v, ", outside [", min, ", ", max, "]");
  return v;
}

Result<double> ParsedFlags::GetDouble(const std::string& name, double fallback, double min,
                                      double max) const {
  if (!Has(name)) return fallback;
  const std::string text = GetString(name);
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) {
    return InvalidArgument("--", name, ": expected a number, got \"", text, "\"");
  }
  if (v < min || v > max) return InvalidArgument("--", name, " is ", v, ", outside [", min, ", ", max, "]");
  return v;
}

Result<ParsedFlags> ParseFlags(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs) {
  ParsedFlags parsed;
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_done || arg.size() < 2 || arg[0] != '-') {
      parsed.positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    std::string name, value;
    bool has_inline_value = false;
    if (arg[1] == '-') {
      name = arg.substr(2);
      size_t eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_inline_value = true;
      }
    } else if (arg.size() == 2) {
      for (const FlagSpec& s : specs) {
        if (s.short_name == arg[1]) name = s.name;
      }
      if (name.empty()) return InvalidArgument("unknown option ", arg);
    } else {
      return InvalidArgument("unknown option ", arg, " (long options take two dashes)");
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) return InvalidArgument("unknown option --", name);
    if (parsed.Has(name)) return InvalidArgument("option --", name, " given more than once");
    if (spec->takes_value) {
      if (!has_inline_value) {
        if (i + 1 >= args.size()) return InvalidArgument("option --", name, " needs a value (", spec->value_name, ")");
        value = args[++i];
      }
    } else if (has_inline_value) {
      return InvalidArgument("option --", name, " takes no value");
    }
    parsed.values_.emplace_back(name, value);
  }
  return parsed;
}

int RunToolMain(int argc, char** argv, const char* tool, const std::vector<FlagSpec>& specs, void (*help)(),
                Status (*run)(const ParsedFlags& flags)) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Result<ParsedFlags> flags = ParseFlags(args, specs);
  if (!flags.ok()) {
    std::fprintf(stderr, "%s: %s (see --help)\n", tool, flags.status().message().c_str());
    return 1;
  }
  if (flags->Has("help")) {
    help();
    return 0;
  }
  Status status = run(*flags);
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", tool, status.message().c_str());
    return 1;
  }
  return 0;
}

std::string FormatFlagHelp(const std::vector<FlagSpec>& specs) {
  std::string out;
  for (const FlagSpec& s : specs) {
    std::string left = "  ";
    if (s.short_name) left += std::string("-") + s.short_name + ", ";
    left += "--" + s.name;
    if (s.takes_value) left += " " + s.value_name;
    if (left.size() < 28) left.append(28 - left.size(), ' ');
    else left += "\n" + std::string(28, ' ');
    out += left + s.help + "\n";
  }
  return out;
}

}  // namespace moert
