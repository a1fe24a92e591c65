// What the SELinux policy allows, for checking fixes: type enforcement from a binary policy
// (--policy or the loaded one, through libsepol) or else from the bundled tables, and the
// MCS constraints of sVirt (docs/fixes.md). Each answer is yes, no or unknown.
#pragma once

#include <analyzer/kb/policy_query.hpp>
#include <analyzer/kb/virt_allow_table.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtdeny::kb {

// Sensitivity and categories of a level or the high end of a range ("s0:c23,c892",
// "s0-s0:c0.c1023"). valid is false for text that is no MCS level.
struct McsLevel
{
    bool valid = false;
    std::string sensitivity;
    std::vector<unsigned> categories;  // sorted, unique
};

McsLevel parse_mcs_high(std::string_view level);
McsLevel parse_mcs_low(std::string_view level);

// True when high dominates other: same sensitivity, every category of other is in high.
bool mcs_dominates(const McsLevel& high, const McsLevel& other);

// Does an MCS constraint of the policy deny this access of scontext on tcontext? True when
// some perm has a constraint in rules/selinux/mcs-constraints.tsv whose expression fails for
// these levels and types (mcs-constrained-types.tsv: svirt_t, svirt_tcg_t, container_t, ...).
// False when no constraint applies or an expression cannot be evaluated.
bool mcs_denies(const VirtAllowTable& tables, const std::string& scontext, const std::string& tcontext,
                const std::string& tclass, const std::vector<std::string>& perms);

// A lookup into bundled type-enforcement facts: does source reach target:tclass perm without
// any boolean? nullopt when the table does not know the pair.
using TeLookup = std::function<std::optional<bool>(std::string_view source, std::string_view target,
                                                   std::string_view tclass, std::string_view perm)>;

class AccessModel
{
public:
    // tables: the bundled MCS constraints (nullptr: no MCS answer, mcs_denies is false).
    AccessModel(const PolicyQuery* policy, TeLookup bundled, const VirtAllowTable* tables)
        : m_policy(policy), m_bundled(std::move(bundled)), m_tables(tables)
    {
    }

    // Does type source hold every perm on target:tclass by type enforcement (booleans as they
    // are in the policy, or off-by-default in the bundled data)? Constraints are not asked.
    std::optional<bool> te_allows(const std::string& source, const std::string& target, const std::string& tclass,
                                  const std::vector<std::string>& perms) const;

    // kb::mcs_denies on the bundled constraints.
    bool mcs_denies(const std::string& scontext, const std::string& tcontext, const std::string& tclass,
                    const std::vector<std::string>& perms) const
    {
        return m_tables && kb::mcs_denies(*m_tables, scontext, tcontext, tclass, perms);
    }

    // Where the TE answers come from, for effect reasons: "the policy /etc/..." or "the bundled policy data".
    std::string source_label() const;
    bool has_policy() const { return m_policy != nullptr; }

private:
    const PolicyQuery* m_policy;
    TeLookup m_bundled;
    const VirtAllowTable* m_tables;
};

} // namespace virtdeny::kb
