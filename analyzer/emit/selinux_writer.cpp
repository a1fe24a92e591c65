#include <analyzer/emit/selinux_writer.hpp>

#include <analyzer/correlate/vm_registry.hpp>

#include <algorithm>

namespace virtdeny::emit {

bool is_selinux_identifier(const std::string& s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    });
}

std::string selinux_allow_rule(const model::Finding& f)
{
    const std::string source(correlate::context_type(f.subject));
    const std::string target(correlate::context_type(f.tcontext));
    if (!is_selinux_identifier(source) || !is_selinux_identifier(target) || !is_selinux_identifier(f.tclass)) {
        return {};
    }
    std::string perms;
    for (const auto& p : f.permissions) {
        if (!is_selinux_identifier(p)) {
            return {};
        }
        perms += (perms.empty() ? "" : " ") + p;
    }
    if (perms.empty()) {
        return {};
    }
    const std::string object = target == source ? "self" : target;
    return "allow " + source + " " + object + ":" + f.tclass + " { " + perms + " };";
}

} // namespace virtdeny::emit
