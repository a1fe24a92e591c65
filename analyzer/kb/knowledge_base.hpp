// The knowledge base: everything in rules/ (device patterns, known causes, SELinux
// booleans), loaded at start from the installed rules and any --rules DIR.
#pragma once

#include <analyzer/kb/boolean_table.hpp>
#include <analyzer/kb/cause_rules.hpp>
#include <analyzer/kb/access_model.hpp>
#include <analyzer/kb/device_rules.hpp>
#include <analyzer/kb/policy_fixes.hpp>
#include <analyzer/kb/profile_fixes.hpp>
#include <analyzer/kb/virt_allow_table.hpp>

#include <string>
#include <vector>

namespace virtdeny::kb {

// Where the bundled rules are: $VIRTDENY_RULES, ../share/virtdeny/rules beside the
// executable, the installed share dir, or the source tree.
std::string default_rules_dir();

struct KnowledgeBase
{
    DeviceRules devices;
    CauseRules causes;
    BooleanTable booleans;  // from DIR/selinux of each dir that has one
    VirtAllowTable virt_allow;   // TE model of the virt domains (rules/selinux/virt-allow.tsv)
    PolicyFixes policy_fixes;    // upstream commits that allowed virt accesses (policy-fixes.tsv)
    ProfileFixes profile_fixes;  // rules libvirt's AppArmor profiles gained (apparmor/profile-fixes.tsv)

    // The bundled type-enforcement facts (rules/selinux/virt-allow.tsv) as a lookup; empty
    // when none were loaded.
    TeLookup te_lookup() const;

    // Loads dirs in order (later ones override rules with the same id), then checks that
    // every cause rule's samples fire that rule. The device kinds of the bundled rules are
    // loaded even when dirs does not hold them.
    bool load(const std::vector<std::string>& dirs, std::vector<std::string>& errors);

    // Each sample of each cause rule, through the real parser: it must give a finding that
    // this rule (and no earlier one) matches. Appends "file:line: rule ID: why".
    void validate_cause_samples(std::vector<std::string>& errors) const;

private:
    void load_booleans(const std::string& dir, std::vector<std::string>& errors);
};

} // namespace virtdeny::kb
