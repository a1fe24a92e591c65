// What an AppArmor rule for a denial grants, as data: the permission letters a denial needs,
// the path glob, owner, the words of a non-file rule (checked, not yet quoted), and the file
// the rule belongs in. kb/ builds fixes from it, emit/apparmor_writer writes its text.
#pragma once

#include <analyzer/model/finding.hpp>

#include <string>

namespace virtdeny::kb {

// A file path as a literal: util::apparmor_path of the path with runs of '/' collapsed (a
// kernel path has none; apparmor_parser would keep a leading "//" as it is). Not for labels,
// where "//" separates a child profile.
std::string apparmor_quote_file_path(const std::string& path);

// The path glob of a file rule that survives the next start: the quoted path, with a /proc
// process and thread id written @{pid} and @{tid} ("/proc/@{pid}/task/@{tid}/comm").
std::string apparmor_file_glob(const std::string& path);

// File permissions for an AppArmor mask ("c" -> "w", "x" -> "ix", ...), in rule order.
std::string apparmor_file_perms(const model::Finding& finding);

// Permission letters of an AppArmor denied_mask ("rc" -> "rw", "::r" -> "r").
std::string apparmor_mask_perms(const std::string& mask);

// Union of two permission strings, in rule order (r w/a l k m ix).
std::string apparmor_merge_perms(const std::string& a, const std::string& b);

// The rule for exactly the denied access, as a grant (kind apparmor_rule; none when no rule
// can be written). File rules: targets {quoted path}, perms {letters with extra_letters},
// owner. Other classes: tclass the rule keyword and conditions its words; a dbus rule only
// when every value holds characters D-Bus allows in it (none of them a glob character).
model::Grant apparmor_rule_grant(const model::Finding& finding, const std::string& extra_letters = {});

// The file the rule belongs in so that it survives a VM restart / package upgrade.
std::string apparmor_target_file(const model::Finding& finding);

// The profile file to reload after editing target (the main profile for local/ includes).
std::string apparmor_profile_file(const model::Finding& finding);

} // namespace virtdeny::kb
