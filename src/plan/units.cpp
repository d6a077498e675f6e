// Human-readable bandwidths and durations for the CLI and configuration.
#include <array>
#include <charconv>
#include <cmath>
#include <string>

#include "disc/plan.hpp"

namespace disc {
namespace {

struct Unit {
  std::string_view name;
  double factor;
};

// Splits "1.5Gbit" into 1.5 and "Gbit"; the number must be finite and >= 0.
Result<std::pair<double, std::string_view>> split_quantity(std::string_view text, std::string_view what) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range)
    return Error(std::string(what) + " '" + std::string(text) + "' is out of range", ErrorCode::kInvalidArgument);
  if (ec != std::errc() || end == text.data())
    return Error(std::string(what) + " '" + std::string(text) + "' does not start with a number",
                 ErrorCode::kInvalidArgument);
  if (!std::isfinite(value) || value < 0)
    return Error(std::string(what) + " '" + std::string(text) + "' is not a finite non-negative number",
                 ErrorCode::kInvalidArgument);
  std::string_view unit = text.substr(end - text.data());
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  return std::pair{value, unit};
}

template <size_t N>
Result<double> scale(std::string_view text, std::string_view what, const std::array<Unit, N>& units,
                     std::string_view accepted) {
  DISC_ASSIGN_OR_RETURN(auto quantity, split_quantity(text, what));
  for (const Unit& u : units)
    if (quantity.second == u.name) return quantity.first * u.factor;
  const std::string problem = quantity.second.empty() ? "has no unit" : "has an unknown unit";
  return Error(std::string(what) + " '" + std::string(text) + "' " + problem + " (use " + std::string(accepted) + ")",
               ErrorCode::kInvalidArgument);
}

}  // namespace

// "bps" is deliberately absent: tc reads it as bytes/s, most people as bits/s.
Result<double> parse_bandwidth(std::string_view text) {
  static constexpr std::array<Unit, 19> kUnits{{
      {"bit", 1},      {"bit/s", 1},    {"kbit", 1e3},    {"kbit/s", 1e3},  {"Kbit", 1e3},
      {"Kbit/s", 1e3}, {"Mbit", 1e6},   {"Mbit/s", 1e6},  {"mbit", 1e6},    {"mbit/s", 1e6},
      {"Gbit", 1e9},   {"Gbit/s", 1e9}, {"gbit", 1e9},    {"gbit/s", 1e9},  {"B/s", 8},
      {"kB/s", 8e3},   {"KB/s", 8e3},   {"MB/s", 8e6},    {"GB/s", 8e9},
  }};
  DISC_ASSIGN_OR_RETURN(const double bps,
                        scale(text, "bandwidth", kUnits, "bit, kbit, Mbit, Gbit (bits/s) or B/s, kB/s, MB/s, GB/s (bytes/s)"));
  if ((bps > 0 && bps < 1) || bps > 1e13)
    return Error("bandwidth '" + std::string(text) + "' is outside 1 bit/s..10 Tbit/s (or 0: no link)",
                 ErrorCode::kInvalidArgument);
  return bps;
}

Result<double> parse_duration_ms(std::string_view text) {
  static constexpr std::array<Unit, 3> kUnits{{{"us", 1e-3}, {"ms", 1}, {"s", 1e3}}};
  DISC_ASSIGN_OR_RETURN(const double ms, scale(text, "duration", kUnits, "us, ms or s"));
  if (ms > 3.6e6) return Error("duration '" + std::string(text) + "' is over an hour", ErrorCode::kInvalidArgument);
  return ms;
}

}  // namespace disc
