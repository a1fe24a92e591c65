// Known causes: rules/causes/*.yaml. Each rule matches a finding (MAC, path, class,
// permissions, operation, types, profile, host level, device) and carries an explanation
// template and fix templates. First matching rule wins; a rule loaded later with the same
// id replaces the earlier one in place (so --rules DIR can override a bundled rule).
#pragma once

#include <analyzer/model/finding.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace virtdeny::kb {

struct CauseMatch
{
    std::optional<model::Mac> lsm;
    std::shared_ptr<re2::RE2> path;          // partial match over the object path
    std::shared_ptr<re2::RE2> profile;       // partial match over the AppArmor profile
    std::shared_ptr<re2::RE2> subject_type;  // full match over the scontext type
    std::shared_ptr<re2::RE2> target_type;   // full match over the tcontext type
    std::vector<std::string> tclasses;       // any of
    std::vector<std::string> operations;     // any of
    std::vector<std::string> permissions;    // all must be in the finding
    std::vector<std::string> families;       // AppArmor network family, any of
    std::shared_ptr<re2::RE2> peer;          // partial match over the AppArmor peer label
    std::optional<bool> host_level;
    std::string device;                      // the finding's device kind (before override)
    std::optional<bool> in_xml;              // the path is (under) a device of the VM's domain XML
};

struct CauseFix
{
    std::string kind;
    model::Scope scope = model::Scope::domain;
    std::string text;  // template
    std::string note;  // template
    std::string file;  // template, optional
    // What it grants, for the effect check (docs/fixes.md): a relabel to this type, a new
    // level ("vm": the VM's own categories, "shared": one every VM dominates), or what
    // libvirt then does itself (managed: prose, the effect's reason).
    std::string relabel;
    std::string level;
    std::string libvirt_does;
};

struct CauseRule
{
    std::string id;
    std::string desc;
    std::string file;
    std::size_t line = 0;
    CauseMatch match;
    std::string device;       // override, empty = keep the classified device
    std::string explanation;  // template
    std::vector<CauseFix> fixes;
    // The whole access the device needs, beyond the denied permissions, so one round of
    // fixes suffices (memfd: rw; a share: rwl): SELinux permissions and AppArmor letters.
    std::vector<std::string> needs_selinux;
    std::string needs_apparmor;
    std::vector<std::string> samples;
    std::string severity;
    std::vector<std::string> tags;
};

// The fix kinds and scopes of docs/fixes.md.
bool is_fix_kind(std::string_view kind);
std::optional<model::Scope> parse_scope(std::string_view scope);

// True when the rule matches the finding (device as already classified).
bool cause_matches(const CauseRule& rule, const model::Finding& finding);

class DeviceRules;

class CauseRules
{
public:
    // Loads every *.yaml under rules_dir/causes in name order; errors are "file:line: rule
    // ID: why". Bad rules are skipped, good ones kept. A device kind a rule names must be in
    // the vocabulary of devices (rules/devices, kinds).
    void load(const std::string& rules_dir, const DeviceRules& devices, std::vector<std::string>& errors);
    // The same for one document; name stands for the file in messages.
    void load_text(std::string_view text, const std::string& name, const DeviceRules& devices,
                   std::vector<std::string>& errors);

    // The first rule that matches, or nullptr.
    const CauseRule* match(const model::Finding& finding) const;
    const CauseRule* find(std::string_view id) const;
    const std::vector<CauseRule>& rules() const { return m_rules; }

private:
    void add(CauseRule&& rule);

    std::vector<CauseRule> m_rules;
};

} // namespace virtdeny::kb
