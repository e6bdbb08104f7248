// Logging set-up (see log.h).
#include "pharos/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace pharos {

void setupLogging(const std::string& name, const std::string& level) {
  auto logger = spdlog::stderr_color_mt(name);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %n %^%l%$ %v");
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

}  // namespace pharos
