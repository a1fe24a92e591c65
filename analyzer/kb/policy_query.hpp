// audit2why from a binary SELinux policy: for a denied access, does this policy allow it
// now, would a boolean allow it (which, and its state in that policy), is it a missing allow
// rule, or a constraint (MCS/MLS) that no allow rule can lift. Computed with libsepol's
// security server on a policydb of our own, as libselinux's audit2why does (booleans are
// flipped one at a time and the access vector recomputed).
#pragma once

#include <analyzer/kb/boolean_table.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace virtdeny::kb {

enum class PolicyVerdict : std::uint8_t {
    allowed,             // the policy allows every denied permission now
    boolean,             // no allow rule is active, but a boolean would make one so
    missing_allow,       // no allow rule grants it, and no single boolean would
    constraint,          // the allow rules grant it; a constraint (MCS/MLS, user, role) denies it
    rbac,                // the role may not have the type (role allow / role types)
    bounds,              // a bounded type's parent lacks the permission
    unknown_type,        // a context names a type this policy does not have
    invalid_context,     // user, role or level not valid in this policy
    unknown_class,       // the class is not in this policy
    unknown_permission,  // a permission is not in the class in this policy
    error,               // libsepol failed to compute
};

const char* to_string(PolicyVerdict v);

// A boolean that alone would lift the type-enforcement denial.
struct PolicyBoolean
{
    std::string name;
    bool current = false;              // its state in the policy (the running one when loaded)
    std::vector<BooleanGrant> opens;   // the allow rules that switching it turns on (what else it opens)
    bool constraint_remains = false;   // a constraint would still deny the access
};

struct PolicyAnswer
{
    PolicyVerdict verdict = PolicyVerdict::error;
    bool te_denied = false;
    bool constraint_denied = false;
    bool rbac_denied = false;
    bool bounds_denied = false;
    bool mls = false;             // constraint: with the process's MCS/MLS level the object would be allowed
    bool dontaudit = false;       // a dontaudit rule normally hides this denial
    bool permissive_type = false; // the source type is permissive in this policy
    std::string constraint_text;  // libsepol's rendering of the failing constraint(s)
    std::vector<PolicyBoolean> booleans;  // narrowest (fewest rules opened) first
    std::vector<std::string> unknown;     // the names this policy lacks (types, class, permissions, contexts)

    // True when the policy could judge the access (contexts, class and permissions known).
    bool evaluated() const
    {
        return verdict == PolicyVerdict::allowed || verdict == PolicyVerdict::boolean
            || verdict == PolicyVerdict::missing_allow || verdict == PolicyVerdict::constraint
            || verdict == PolicyVerdict::rbac || verdict == PolicyVerdict::bounds;
    }
};

class PolicyQuery
{
public:
    ~PolicyQuery();
    PolicyQuery(const PolicyQuery&) = delete;
    PolicyQuery& operator=(const PolicyQuery&) = delete;

    // Reads a binary policy (policy.NN). Null with error set when it cannot be read.
    static std::unique_ptr<PolicyQuery> open(const std::string& path, std::string& error);

    // The policy the kernel runs: only where selinuxfs is mounted (SELinux enabled), from
    // selinux_binary_policy_path().NN (NN = security_policyvers(), then lower), with the
    // booleans' running states. Null, quietly, when there is none.
    static std::unique_ptr<PolicyQuery> open_loaded();

    const std::string& path() const;
    unsigned version() const;
    bool mls() const;
    std::size_t boolean_count() const;

    // The state of a boolean in this policy; -1 when the policy has no such boolean.
    int boolean_state(const std::string& name) const;

    // audit2why for one denial: scontext and tcontext as in the log, the class and the
    // denied permissions. Never throws; unknown names give the unknown_* verdicts.
    PolicyAnswer check(const std::string& scontext, const std::string& tcontext, const std::string& tclass,
                       const std::vector<std::string>& permissions) const;

private:
    struct Impl;
    explicit PolicyQuery(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace virtdeny::kb
