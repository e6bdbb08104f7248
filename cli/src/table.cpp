// Aligned tables, colours and time formatting (see table.h).
#include "cli/table.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <string>

namespace pharos::cli {
namespace {

size_t displayWidth(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;  // count code points, not continuation bytes
  }
  return n;
}

const char* code(Color color) {
  switch (color) {
    case Color::kGreen:
      return "\x1b[32m";
    case Color::kYellow:
      return "\x1b[33m";
    case Color::kRed:
      return "\x1b[31m";
    case Color::kBlue:
      return "\x1b[34m";
    case Color::kGray:
      return "\x1b[90m";
    case Color::kBold:
      return "\x1b[1m";
    case Color::kNone:
      break;
  }
  return "";
}

}  // namespace

bool wantColor(bool stdout_is_tty, const char* no_color, const char* term) {
  if (!stdout_is_tty) return false;
  if (no_color != nullptr && no_color[0] != '\0') return false;
  if (term != nullptr && std::string_view(term) == "dumb") return false;
  return true;
}

std::string paint(const Style& style, Color color, std::string_view text) {
  if (!style.color || color == Color::kNone) return std::string(text);
  return fmt::format("{}{}\x1b[0m", code(color), text);
}

Color stateColor(std::string_view s) {
  if (s == "Ready" || s == "running" || s == "Running" || s == "online" || s == "ok") {
    return Color::kGreen;
  }
  if (s == "failed" || s == "Failed" || s == "CrashLoop" || s == "NotReady" || s == "Unreachable" ||
      s == "offline" || s == "Degraded") {
    return Color::kRed;
  }
  if (s == "pending" || s == "applied" || s == "Pending" || s == "Pulling" || s == "Starting" ||
      s == "Removing" || s == "notready") {
    return Color::kYellow;
  }
  if (s == "stopped" || s == "Stopped" || s == "removed") return Color::kGray;
  return Color::kNone;
}

std::string renderTable(const Style& style, const std::vector<std::string>& headers,
                        const std::vector<std::vector<Cell>>& rows) {
  std::vector<size_t> widths(headers.size(), 0);
  for (size_t i = 0; i < headers.size(); ++i) widths[i] = displayWidth(headers[i]);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], displayWidth(row[i].text));
    }
  }
  std::string out;
  auto emit = [&](size_t i, const std::string& text, Color color) {
    bool last = i + 1 == headers.size();
    out += paint(style, color, text);
    if (!last) out.append(widths[i] - displayWidth(text) + 3, ' ');
  };
  for (size_t i = 0; i < headers.size(); ++i) emit(i, headers[i], Color::kBold);
  out += '\n';
  for (const auto& row : rows) {
    for (size_t i = 0; i < headers.size(); ++i) {
      if (i < row.size()) {
        emit(i, row[i].text, row[i].color);
      } else {
        emit(i, "", Color::kNone);
      }
    }
    // Drop padding left by trailing empty cells.
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
  }
  return out;
}

std::string renderFields(const Style& style,
                         const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [k, v] : fields) width = std::max(width, displayWidth(k) + 1);
  std::string out;
  for (const auto& [k, v] : fields) {
    out += paint(style, Color::kBold, k + ":");
    out.append(width - displayWidth(k) - 1 + 2, ' ');
    out += v;
    out += '\n';
  }
  return out;
}

std::string age(const Style& style, int64_t ts_ms) {
  if (ts_ms <= 0 || style.now_ms <= 0) return "-";
  int64_t s = std::max<int64_t>(0, (style.now_ms - ts_ms) / 1000);
  if (s < 120) return fmt::format("{}s", s);
  if (s < 7200) return fmt::format("{}m", s / 60);
  if (s < 48 * 3600) return fmt::format("{}h", s / 3600);
  return fmt::format("{}d", s / 86400);
}

std::string isoTime(int64_t ts_ms) {
  if (ts_ms <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(ts_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string clockTime(int64_t ts_ms) {
  if (ts_ms <= 0) return "--:--:--";
  std::time_t t = static_cast<std::time_t>(ts_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

std::string humanBytes(int64_t bytes) {
  if (bytes <= 0) return "-";
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  if (u == 0) return fmt::format("{} B", bytes);
  return fmt::format("{:.1f} {}", v, units[u]);
}

}  // namespace pharos::cli
