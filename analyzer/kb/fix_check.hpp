// The effect check and ranking of candidate fixes (docs/fixes.md). Each fix carries what it
// grants (model::Grant); this proves, on that value and the policy model, whether it allows
// the denied access (allows), changes nothing (moot), leaves it denied (insufficient) or
// cannot be told (unknown), measures what it opens (breadth), and orders the fixes: effective
// first, then narrowest. Fixes that are moot or insufficient leave the list; a sentence on
// each is returned for the explanation.
#pragma once

#include <analyzer/kb/access_model.hpp>
#include <analyzer/kb/boolean_table.hpp>
#include <analyzer/model/finding.hpp>

#include <string>
#include <vector>

namespace virtdeny::kb {

// The permissions a fix must grant: the denied ones and the follow-on ones the rule lists.
struct Needs
{
    std::vector<std::string> selinux;  // SELinux permissions of the finding's class
    std::string apparmor;              // AppArmor file letters ("rwl")
};

Needs needs_of(const model::Finding& f, const std::vector<std::string>& extra_selinux, const std::string& extra_apparmor);

void check_fix(const model::Finding& f, model::Fix& fix, const Needs& needs, const AccessModel& access,
               const BooleanTable& booleans);

// Checks every fix of f, drops the moot and insufficient ones, ranks the rest and sets each
// one's scope from its breadth. Returns " Not a fix here: ..." sentences (or empty).
std::string check_and_rank(model::Finding& f, const Needs& needs, const AccessModel& access,
                           const BooleanTable& booleans);

// AppArmor permission letters of a rule ("rw", "rwl", "ix"), normalised: the set of letters.
bool apparmor_letters_cover(const std::string& have, const std::string& need);

} // namespace virtdeny::kb
