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

struct AppArmorRule
{
    std::string text;   // one rule, with its trailing comma; empty when none can be written
    std::string glob;   // file rules: the quoted path (glob) the rule matches
    std::string perms;  // file rules: its permission letters
};

// A file path as a literal: util::apparmor_path of the path with runs of '/' collapsed (a
// kernel path has none; apparmor_parser would keep a leading "//" as it is). Not for labels,
// where "//" separates a child profile.
std::string apparmor_quote_file_path(const std::string& path);

// File permissions for an AppArmor mask ("c" -> "w", "x" -> "ix", ...), in rule order.
std::string apparmor_file_perms(const model::Finding& finding);

// Permission letters of an AppArmor denied_mask ("rc" -> "rw", "::r" -> "r").
std::string apparmor_mask_perms(const std::string& mask);

// Union of two permission strings, in rule order (r w/a l k m ix).
std::string apparmor_merge_perms(const std::string& a, const std::string& b);

// The rule for the denied access; extra_letters (a rule's `needs`) are added to a file rule.
AppArmorRule apparmor_rule(const model::Finding& finding, const std::string& extra_letters = {});

// The dbus rule for exactly the denied method call (bus, path, interface, member, peer name);
// empty when a value holds characters D-Bus does not allow in it.
std::string dbus_rule(const model::Finding& finding);

// The file the rule belongs in so that it survives a VM restart / package upgrade.
std::string apparmor_target_file(const model::Finding& finding);

// The profile file to reload after editing target (the main profile for local/ includes).
std::string apparmor_profile_file(const model::Finding& finding);

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
