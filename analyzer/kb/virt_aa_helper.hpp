// What libvirt's virt-aa-helper writes into a VM's AppArmor profile, from its dry run on the
// domain XML (`virt-aa-helper -d -r -u libvirt-UUID < domain.xml`, which changes nothing on
// the host). Lets the advisor say why a denial fell outside the VM's profile: the path is in
// no rule, or a rule names it but its glob characters (virt-aa-helper does not escape them)
// make it miss.
#pragma once

#include <analyzer/correlate/domain_xml.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace virtdeny::kb {

struct HelperRule
{
    std::string path;   // the rule's path as written (quotes removed, nothing unescaped)
    std::string perms;  // its letters
    std::string text;   // the whole line, as virt-aa-helper wrote it
};

// Parses virt-aa-helper's dry-run output into its file rules.
std::vector<HelperRule> parse_helper_rules(const std::string& output);

class VirtAaHelper
{
public:
    // exe: the virt-aa-helper binary; empty turns it off.
    explicit VirtAaHelper(std::string exe) : m_exe(std::move(exe)) {}

    // /usr/lib/libvirt/virt-aa-helper (or $VIRTDENY_VIRT_AA_HELPER) when executable, else "".
    static std::string find();

    bool enabled() const { return !m_exe.empty(); }

    // The rules for a domain (run once per XML file, at most 10 s); null when it failed.
    const std::vector<HelperRule>* rules_for(const correlate::DomainInfo& domain) const;

private:
    std::string m_exe;
    mutable std::mutex m_mutex;
    mutable std::map<std::string, std::optional<std::vector<HelperRule>>> m_cache;
};

} // namespace virtdeny::kb
