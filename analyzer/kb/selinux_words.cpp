#include <analyzer/kb/selinux_words.hpp>

#include <analyzer/correlate/vm_registry.hpp>

#include <algorithm>

namespace virtdeny::kb {

bool is_selinux_identifier(const std::string& s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    });
}

// A SELINUX_ERR (an invalid computed context, a failed bounded transition) is not a missing
// allow rule: an allow rule naming its pseudo-permission would not compile or not help.
bool is_selinux_err_operation(const std::string& p)
{
    return p == "invalid_context" || p == "compute_sid" || p.rfind("security_", 0) == 0;
}

bool allow_rule_expressible(const model::Finding& f)
{
    return is_selinux_identifier(std::string(correlate::context_type(f.subject)))
        && is_selinux_identifier(std::string(correlate::context_type(f.tcontext))) && is_selinux_identifier(f.tclass)
        && !f.permissions.empty() && std::all_of(f.permissions.begin(), f.permissions.end(), [](const std::string& p) {
               return is_selinux_identifier(p) && !is_selinux_err_operation(p);
           });
}

} // namespace virtdeny::kb
