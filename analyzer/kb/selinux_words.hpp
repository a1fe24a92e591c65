// Which SELinux words a fix may name: identifiers (types, classes, permissions) and whether a
// denial's access can be said as an allow rule at all. kb/ checks fixes with them,
// emit/selinux_writer writes the rules.
#pragma once

#include <analyzer/model/finding.hpp>

#include <string>

namespace virtdeny::kb {

// True for a word that can be used as an SELinux identifier (type, class, permission).
bool is_selinux_identifier(const std::string& s);

// The pseudo-permission of a SELINUX_ERR (invalid_context, security_compute_sid, ...):
// no allow rule grants it.
bool is_selinux_err_operation(const std::string& permission);

// True when the finding's source and target types, class and permissions are identifiers
// an allow rule can name (and there is a permission).
bool allow_rule_expressible(const model::Finding& finding);

} // namespace virtdeny::kb
