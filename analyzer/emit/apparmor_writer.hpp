// AppArmor rules for findings: only the denied permissions, the path quoted and every
// AppArmor special character of a real file name escaped, so a name can never add a rule.
#pragma once

#include <analyzer/model/finding.hpp>

#include <string>

namespace virtdeny::emit {

struct AppArmorRule
{
    std::string text;  // one rule, with its trailing comma; empty when none can be written
};

// A path as an AppArmor path literal: always double-quoted, with * ? [ ] { } ^ " \ escaped
// and control / non-UTF-8 bytes written as octal escapes.
std::string apparmor_quote_path(const std::string& path);

// File permissions for an AppArmor mask ("c" -> "w", "x" -> "ix", ...), in rule order.
std::string apparmor_file_perms(const model::Finding& finding);

AppArmorRule apparmor_rule(const model::Finding& finding);

// The file the rule belongs in so that it survives a VM restart / package upgrade.
std::string apparmor_target_file(const model::Finding& finding);

} // namespace virtdeny::emit
