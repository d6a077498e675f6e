// Subcommands of the `disc` CLI. Each tools/cmd_*.cpp registers its commands with a
// static CommandRegistration; main.cpp builds the CLI11 app from the registry.
#pragma once

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "disc/status.hpp"

namespace disc::cli {

// Options every subcommand can read (set on the top-level app).
struct GlobalOptions {
  std::string assets_dir;  // models/ and data/ live here
  bool quiet = false;      // no progress output
};
const GlobalOptions& globals();

// `setup` declares the subcommand's options on `app` and returns the action that runs
// once parsing succeeded; the action returns the process exit status.
struct Command {
  std::string name;
  std::string help;
  std::function<std::function<int()>(CLI::App& app)> setup;
};

std::vector<Command>& command_registry();

struct CommandRegistration {
  explicit CommandRegistration(Command c) { command_registry().push_back(std::move(c)); }
};

// Check for unsigned options: CLI11 would wrap "-1" around to the type's maximum, and take a
// number past it as the maximum.
inline const CLI::Validator kNotNegative(
    [](std::string& text) {
      const size_t first = text.find_first_not_of(" \t\n\r\f\v");  // strtoull skips leading space
      if (first != std::string::npos && text[first] == '-') return std::string("must not be negative");
      errno = 0;
      std::strtoull(text.c_str(), nullptr, 10);
      return errno == ERANGE ? std::string("is too large") : std::string();
    },
    "", "not negative");

// Check for names (a cut tensor, an image folder): an empty value, as from an unset shell variable, names nothing
// rather than selecting a default.
inline const CLI::Validator kNotEmpty(
    [](std::string& text) { return text.empty() ? std::string("must not be empty") : std::string(); }, "",
    "not empty");

// A check for a real number that `accept` takes; anything else fails with `requirement`
// (text that is no number with "is not a number"). NaN would pass CLI::Range.
inline CLI::Validator number_check(bool (*accept)(double), const std::string& requirement,
                                   const std::string& description) {
  return CLI::Validator(
      [accept, requirement](std::string& text) {
        double value = 0;
        try {
          value = std::stod(text);
        } catch (const std::out_of_range&) {
          return requirement;
        } catch (const std::exception&) {
          return std::string("is not a number");
        }
        return accept(value) ? std::string() : requirement;
      },
      "", description);
}

// Thresholds: a finite number, at least 0.
inline const CLI::Validator kFiniteNotNegative = number_check(
    [](double v) { return std::isfinite(v) && v >= 0; }, "must be finite and not negative", "finite, not negative");

// Top-1 loss budgets, in percentage points: a loss cannot exceed 100.
inline const CLI::Validator kBudget = number_check(
    [](double v) { return v >= 0 && v <= 100; }, "must be within 0..100 percentage points", "0..100");

// An error if `output` names the same file as `input` (after resolving "." and symbolic
// links, or through a hard link): writing it would destroy what is still to be read. Paths
// that cannot be resolved are left to fail where they are opened.
Status check_not_same_file(const std::string& input, const std::string& output, const std::string& what);

// Prints "disc: <message>" on stderr and returns exit status 1.
int fail(const Error& error);
inline int fail(const Status& status) { return fail(status.error()); }

}  // namespace disc::cli
