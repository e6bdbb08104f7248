// Plain-text output building blocks: aligned tables, optional ANSI colours, relative times.
// Colours are used only when stdout is a terminal and NO_COLOR is unset (wantColor).
// Pure functions over values: thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pharos::cli {

enum class Color { kNone, kGreen, kYellow, kRed, kBlue, kGray, kBold };

struct Style {
  bool color = false;
  int64_t now_ms = 0;  // "now" for relative times (0: print absolute times only)
};

// Colour decision: a terminal, NO_COLOR unset (any value disables), TERM not "dumb".
bool wantColor(bool stdout_is_tty, const char* no_color, const char* term);

// Wraps text in the colour's escape codes when style.color (else returns it unchanged).
std::string paint(const Style& style, Color color, std::string_view text);

// A colour for well-known states: Ready/running/Running/online -> green, failed/Failed/
// CrashLoop/NotReady/Unreachable -> red, pending/applied/Pending/Pulling/... -> yellow.
Color stateColor(std::string_view state);

struct Cell {
  std::string text;
  Color color = Color::kNone;
  Cell(std::string t) : text(std::move(t)) {}  // NOLINT(google-explicit-constructor)
  Cell(const char* t) : text(t) {}             // NOLINT(google-explicit-constructor)
  Cell(std::string t, Color c) : text(std::move(t)), color(c) {}
};

// Columns separated by three spaces, left aligned, header row first (bold when coloured);
// widths count UTF-8 code points, colour codes do not count. Every line ends with '\n'; the
// last column is not padded.
std::string renderTable(const Style& style, const std::vector<std::string>& headers,
                        const std::vector<std::vector<Cell>>& rows);

// "key:   value" lines aligned on the longest key.
std::string renderFields(const Style& style,
                         const std::vector<std::pair<std::string, std::string>>& fields);

// Relative age of a Unix ms time: "45s", "12m", "3h", "5d"; "-" for 0 or when now is unknown.
std::string age(const Style& style, int64_t ts_ms);
// "2026-11-25T10:00:00Z" (UTC, seconds); "-" for 0.
std::string isoTime(int64_t ts_ms);
// "12:34:56" UTC (for event and watch lines).
std::string clockTime(int64_t ts_ms);
// 1536 -> "1.5 KiB"; 0 -> "-".
std::string humanBytes(int64_t bytes);

}  // namespace pharos::cli
