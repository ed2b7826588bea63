// Command-line parsing shared by the tools (moec, moert-run, ...): declared
// flags only, "--name value" or "--name=value", positional arguments
// otherwise. Unknown flags and malformed values are errors that name the flag.
#ifndef MOERT_BASE_FLAGS_H_
#define MOERT_BASE_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace moert {

struct FlagSpec {
  std::string name;          // without dashes: "generate"
  bool takes_value = false;  // false: a switch ("--help")
  std::string value_name;    // shown in help: "N"
  std::string help;
  char short_name = 0;       // optional one-letter alias: 'o' for -o
};

class ParsedFlags {
 public:
  bool Has(const std::string& name) const;
  // The value given, or `fallback` when the flag is absent.
  std::string GetString(const std::string& name, const std::string& fallback = "") const;
  // Integer value in [min, max]; errors name the flag and the bad value.
  Result<int64_t> GetInt(const std::string& name, int64_t fallback, int64_t min, int64_t max) const;
  Result<double> GetDouble(const std::string& name, double fallback, double min, double max) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  friend Result<ParsedFlags> ParseFlags(const std::vector<std::string>& args,
                                        const std::vector<FlagSpec>& specs);
  std::vector<std::pair<std::string, std::string>> values_;
  std::vector<std::string> positional_;
};

// Parses `args` (without the program and command names). A flag given twice
// is an error; "--" ends flag parsing.
Result<ParsedFlags> ParseFlags(const std::vector<std::string>& args, const std::vector<FlagSpec>& specs);

// The main() of a single-command tool: parses argv[1..] against `specs`,
// calls `help` for --help, else `run`; an error prints "TOOL: message" on
// stderr and returns exit code 1.
int RunToolMain(int argc, char** argv, const char* tool, const std::vector<FlagSpec>& specs, void (*help)(),
                Status (*run)(const ParsedFlags& flags));

// The flag table formatted for --help.
std::string FormatFlagHelp(const std::vector<FlagSpec>& specs);

// "1,2,3" -> {1, 2, 3}; every entry must be an integer in [min, max].
Result<std::vector<int64_t>> ParseIntList(const std::string& text, int64_t min, int64_t max,
                                          const std::string& what);
// Strict decimal parsing of a whole string.
Result<int64_t> ParseInt(const std::string& text, const std::string& what);

}  // namespace moert

#endif  // MOERT_BASE_FLAGS_H_
