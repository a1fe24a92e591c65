// SELinux TE model of the virt domains: the allow rules that apply to svirt_t, svirt_tcg_t,
// virtqemud_t, ... and the MCS constraints that bind the svirt domains. Loaded from
// rules/selinux/virt-allow.tsv, virt-type-attributes.tsv, mcs-constraints.tsv and
// mcs-constrained-types.tsv, generated
// by scripts/gen-selinux-te-model from a binary policy built from fedora-selinux/selinux-policy.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace virtdeny::kb {

// One allow rule as it applies to one virt type.
struct VirtAllowRule
{
    std::string source;     // the virt type (expanded)
    std::string via;        // the rule's source as written: the type or an attribute (virt_domain, domain)
    std::string target;     // a type or an attribute
    std::string tclass;
    std::vector<std::string> perms;  // sorted
    std::string condition;  // "" always; "b" boolean on; "!b" boolean off; "(expr)" / "!(expr)"
};

struct McsConstraint
{
    std::string tclass;
    std::vector<std::string> perms;
    std::string expression;
};

class VirtAllowTable
{
public:
    static constexpr std::string_view k_allow_file = "virt-allow.tsv";
    static constexpr std::string_view k_attributes_file = "virt-type-attributes.tsv";
    static constexpr std::string_view k_mcs_file = "mcs-constraints.tsv";
    static constexpr std::string_view k_mcs_types_file = "mcs-constrained-types.tsv";

    // Loads the four files from dir (rules/selinux); false with "file:line: why" on bad input.
    bool load(const std::string& dir, std::string& error);
    bool load_allow_text(std::string_view text, std::string_view name, std::string& error);
    bool load_attributes_text(std::string_view text, std::string_view name, std::string& error);
    bool load_mcs_text(std::string_view text, std::string_view name, std::string& error);
    bool load_mcs_types_text(std::string_view text, std::string_view name, std::string& error);

    struct Verdict
    {
        bool known_source = false;  // the table models this source type at all
        bool allowed = false;       // an unconditional rule allows it
        // Conditions under which a conditional rule allows it (when !allowed), e.g.
        // "virt_use_nfs", "domain_can_mmap_files"; file order, no duplicates.
        std::vector<std::string> conditions;
        std::vector<const VirtAllowRule*> rules;  // every matching rule (unconditional first)
    };

    // Does the TE policy allow source -> target : tclass { perm }? target may be matched by
    // an attribute row through virt-type-attributes.tsv.
    Verdict lookup(std::string_view source, std::string_view target, std::string_view tclass,
                   std::string_view perm) const;

    // Every MCS constraint on (tclass, perm) for the svirt domains: all of them must hold for
    // the access; none when it is not MCS-constrained (then categories cannot have denied it).
    std::vector<const McsConstraint*> mcs_constraints(std::string_view tclass, std::string_view perm) const;
    // Is type (or an alias of it) in mcs_constrained_type?
    bool mcs_constrained_type(std::string_view type) const;

    bool has_attribute(std::string_view type, std::string_view attribute) const;
    std::size_t rule_count() const { return m_rules.size(); }
    std::size_t constraint_count() const { return m_mcs.size(); }

private:
    bool target_matches(std::string_view rule_target, std::string_view target) const;

    std::vector<VirtAllowRule> m_rules;
    std::map<std::string, std::vector<std::size_t>, std::less<>> m_by_source;  // -> m_rules index
    std::unordered_map<std::string, std::vector<std::string>> m_attributes;   // type -> attrs
    std::vector<McsConstraint> m_mcs;
    std::vector<std::string> m_mcs_types;  // members and their aliases, sorted
};

}  // namespace virtdeny::kb
