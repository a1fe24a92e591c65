#include <analyzer/kb/advisor.hpp>

#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/emit/apparmor_writer.hpp>
#include <analyzer/emit/selinux_writer.hpp>

namespace virtdeny::kb {

std::string describe_subject(const model::Finding& f)
{
    std::string who = f.comm.empty() ? "a process" : f.comm;
    if (f.domain) {
        who += " of VM " + (f.domain->name.empty() ? f.domain->uuid : f.domain->name);
    } else if (f.host_level) {
        who += " (libvirt daemon)";
    }
    return who;
}

namespace {

std::string join(const std::vector<std::string>& v, const char* sep)
{
    std::string out;
    for (const auto& s : v) {
        if (!out.empty()) {
            out += sep;
        }
        out += s;
    }
    return out;
}

} // namespace

void Advisor::advise(model::Finding& f) const
{
    f.device = m_kb.devices.classify(f, m_xml);
    const std::string object = !f.path.empty() ? f.path : (!f.tcontext.empty() ? f.tcontext : f.tclass);
    std::string text = describe_subject(f) + " was denied " + join(f.permissions, ", ") + " on " + object;
    if (f.device != "other") {
        text += " (" + f.device + ")";
    }
    text += f.mac == model::Mac::selinux
        ? " by SELinux type " + std::string(correlate::context_type(f.subject)) + "."
        : " by AppArmor profile " + f.subject + ".";
    if (!f.enforced) {
        text += " Not enforced (permissive or complain mode): it was logged and allowed.";
    }
    f.explanation = text;
    const model::Scope scope = f.host_level ? model::Scope::daemon : (f.domain ? model::Scope::domain : model::Scope::host);
    if (f.mac == model::Mac::apparmor) {
        emit::AppArmorRule rule = emit::apparmor_rule(f);
        if (!rule.text.empty()) {
            model::Fix fix;
            fix.kind = "apparmor-rule";
            fix.scope = scope;
            fix.text = rule.text;
            fix.file = emit::apparmor_target_file(f);
            fix.note = "Allows only the denied access" + std::string(fix.file.empty() ? "." : "; add it to " + fix.file + ".");
            f.fixes.push_back(std::move(fix));
        }
    } else {
        const std::string allow = emit::selinux_allow_rule(f);
        if (!allow.empty()) {
            model::Fix fix;
            fix.kind = "selinux-allow";
            fix.scope = scope;
            fix.text = allow;
            fix.note = "Allows only the denied permissions for this source and target type, in a local module.";
            f.fixes.push_back(std::move(fix));
        }
    }
}

} // namespace virtdeny::kb
