// SELinux rules for findings: allow rules with only the denied permissions.
#pragma once

#include <analyzer/model/finding.hpp>

#include <string>

namespace virtdeny::emit {

// "allow svirt_tcg_t user_home_t:file { map };" or empty when the contexts are unusable.
std::string selinux_allow_rule(const model::Finding& finding);

// True for a word that can be used as an SELinux identifier (type, class, permission).
bool is_selinux_identifier(const std::string& s);

} // namespace virtdeny::emit
