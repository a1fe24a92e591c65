// AppArmor rules for findings: only the denied permissions, the path quoted and every
// AppArmor special character of a real file name escaped, so a name can never add a rule.
#pragma once

#include <analyzer/model/finding.hpp>

#include <string>
#include <vector>

namespace virtdeny::correlate {
class DomainXmlIndex;
}

namespace virtdeny::emit {

// The text of an AppArmor rule grant (kb::apparmor_rule_grant): one rule with its trailing
// comma (one line per capability); empty for a grant that is not an AppArmor rule.
std::string apparmor_rule_text(const model::Grant& grant);

// The rule for the denied access; extra_letters (a rule's `needs`) are added to a file rule.
std::string apparmor_rule(const model::Finding& finding, const std::string& extra_letters = {});

// One rule of a merged rule set, with why it has the shape it has.
struct AppArmorEntry
{
    std::string rule;                 // the rule text with its trailing comma
    std::string reason;               // why (always set for globs)
    bool glob = false;                // a family glob (memfd files, a share tree)
    std::vector<std::string> paths;   // the denied paths it covers (empty for non-file rules)
    std::string warning;              // e.g. a virt-aa-helper deny rule would shadow it
};

// All rules for one profile, merged per path, in first-seen order.
struct AppArmorRuleSet
{
    std::string profile;       // libvirt-<uuid>, /usr/sbin/libvirtd, ...
    std::string target_file;   // where the rules go
    std::string profile_file;  // what to reload with apparmor_parser -r
    model::Scope scope = model::Scope::host;
    std::string domain_name;
    std::string domain_uuid;
    std::vector<AppArmorEntry> entries;
};

// Groups AppArmor findings by profile and merges their rules per path; a glob is used only
// for a known family (the VM's memfd fallback files, one 9p share tree) with its reason.
std::vector<AppArmorRuleSet> apparmor_rule_sets(const std::vector<const model::Finding*>& findings,
                                                const correlate::DomainXmlIndex* xml);

// True when dir may root a family glob: not /, /tmp, /var/tmp, /dev/shm, /home, a home
// directory, /root, and at least two levels deep.
bool apparmor_glob_root_allowed(const std::string& dir);

// One comment line ("# text"), control bytes replaced so it can never end early.
std::string apparmor_comment(const std::string& text);

// The rules of a set as the text of an include / profile body fragment.
std::string apparmor_rules_text(const AppArmorRuleSet& set);

} // namespace virtdeny::emit
