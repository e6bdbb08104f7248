// Per-node compose variables (node_variables.h).
#include "pharos/node_variables.h"

#include <cctype>

namespace pharos {

std::string labelVariable(std::string_view key) {
  std::string out = "PHAROS_LABEL_";
  for (char ch : key) {
    auto c = static_cast<unsigned char>(ch);
    out.push_back(std::isalnum(c) ? static_cast<char>(std::toupper(c)) : '_');
  }
  return out;
}

bool isNodeVariable(std::string_view name) {
  return name == kNodeIdVariable || name.rfind("PHAROS_LABEL_", 0) == 0;
}

Variables appVariables(const std::string& node_id,
                       const std::map<std::string, std::string>& config_labels,
                       const std::map<std::string, std::string>& operator_labels,
                       const std::map<std::string, std::string>& deploy_variables,
                       const std::map<std::string, std::string>& secrets) {
  Variables vars(deploy_variables.begin(), deploy_variables.end());
  for (const auto& [k, v] : secrets) vars[k] = v;
  for (const auto& [k, v] : config_labels) vars[labelVariable(k)] = v;
  for (const auto& [k, v] : operator_labels) vars[labelVariable(k)] = v;
  vars[kNodeIdVariable] = node_id;
  return vars;
}

}  // namespace pharos
