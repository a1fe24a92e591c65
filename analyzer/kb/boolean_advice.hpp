// SELinux boolean fixes: every boolean of the table that alone would allow a finding's
// denied access, as `setsebool -P NAME 1` (or 0), with what else it opens and its default.
#pragma once

#include <analyzer/kb/boolean_table.hpp>
#include <analyzer/model/finding.hpp>

#include <string>
#include <vector>

namespace virtdeny::kb {

// Host-scope selinux-boolean fixes, narrowest boolean first; empty for AppArmor findings
// or when no boolean allows all the denied permissions.
std::vector<model::Fix> boolean_fixes(const BooleanTable& table, const model::Finding& finding);

// The host-scope fix `setsebool -P NAME 1` (value true, else 0), its note left to the caller.
model::Fix boolean_fix(const std::string& boolean, bool value);

// "4 rules: domain -> file_type (file, chr_file, blk_file, lnk_file)": what a boolean's grants
// cover (at most max_names of each, then "and N more").
std::string describe_grants(const std::vector<const BooleanGrant*>& grants, std::size_t max_names = 5);

} // namespace virtdeny::kb
