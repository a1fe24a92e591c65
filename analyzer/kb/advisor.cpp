#include <analyzer/kb/advisor.hpp>
#include <analyzer/util/text.hpp>

#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/emit/apparmor_writer.hpp>
#include <analyzer/emit/selinux_writer.hpp>
#include <analyzer/kb/boolean_advice.hpp>
#include <analyzer/kb/cause_template.hpp>

#include <algorithm>

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

std::string apparmor_persistence_note(const model::Finding& f)
{
    const std::string file = emit::apparmor_target_file(f);
    if (file.empty()) {
        return {};
    }
    if (f.host_level || file.find("/local/") != std::string::npos) {
        return " Add it to " + file + ", which package upgrades keep, then reload the profile (apparmor_parser -r).";
    }
    const std::string base = file.substr(file.rfind('/') + 1);
    return " Add it to " + file + " outside the `#include <libvirt/" + base
        + ".files>` line: virt-aa-helper regenerates the .files file at each start and keeps the rest."
        + " Older libvirt deleted both files at shutdown; there only /etc/apparmor.d/abstractions/libvirt-qemu.d/"
          " (host scope, every VM) keeps a rule.";
}

namespace {

std::string not_enforced_suffix(const model::Finding& f)
{
    return f.enforced ? std::string() : " Not enforced (permissive or complain mode): it was logged and allowed.";
}

std::string generic_explanation(const model::Finding& f)
{
    const std::string object = !f.path.empty() ? f.path : (!f.tcontext.empty() ? f.tcontext : f.tclass);
    std::string text = describe_subject(f) + " was denied " + util::join(f.permissions, ", ") + " on " + object;
    if (f.device != "other") {
        text += " (" + f.device + ")";
    }
    text += f.mac == model::Mac::selinux
        ? " by SELinux type " + std::string(correlate::context_type(f.subject)) + "."
        : " by AppArmor profile " + f.subject + ".";
    return text;
}

model::Scope default_scope(const model::Finding& f)
{
    if (f.host_level) {
        return model::Scope::daemon;
    }
    return f.domain ? model::Scope::domain : model::Scope::host;
}

bool has_fix(const model::Finding& f, const std::string& kind, model::Scope scope, const std::string& text)
{
    return std::any_of(f.fixes.begin(), f.fixes.end(),
                       [&](const model::Fix& x) { return x.kind == kind && x.scope == scope && x.text == text; });
}

void add_generic_fixes(model::Finding& f)
{
    model::Fix fix;
    fix.scope = default_scope(f);
    if (f.mac == model::Mac::apparmor) {
        fix.kind = "apparmor-rule";
        fix.text = emit::apparmor_rule(f).text;
        fix.file = emit::apparmor_target_file(f);
        fix.note = "Allows only the denied access." + apparmor_persistence_note(f);
    } else {
        fix.kind = "selinux-allow";
        fix.text = emit::selinux_allow_rule(f);
        fix.note = "Allows only the denied permissions for this source and target type, in a local module.";
    }
    if (!fix.text.empty()) {
        f.fixes.push_back(std::move(fix));
    }
}

void add_cause_fixes(model::Finding& f, const CauseRule& cause, const TemplateContext& context)
{
    for (const CauseFix& rule_fix : cause.fixes) {
        auto text = expand_template(rule_fix.text, context);
        auto note = expand_template(rule_fix.note, context);
        auto file = expand_template(rule_fix.file, context);
        if (!text || !note || !file || has_fix(f, rule_fix.kind, rule_fix.scope, *text)) {
            continue;
        }
        model::Fix fix;
        fix.kind = rule_fix.kind;
        fix.scope = rule_fix.scope;
        fix.text = std::move(*text);
        fix.note = std::move(*note);
        fix.file = std::move(*file);
        if (fix.kind == "apparmor-rule" && fix.file.empty() && fix.scope != model::Scope::host) {
            fix.file = emit::apparmor_target_file(f);
            fix.note += apparmor_persistence_note(f);
        }
        f.fixes.push_back(std::move(fix));
    }
}

} // namespace

void Advisor::advise(model::Finding& f) const
{
    f.device = m_kb.devices.classify(f, m_xml);
    const CauseRule* cause = m_kb.causes.match(f);
    if (cause && !cause->device.empty()) {
        f.device = cause->device;
    }
    f.explanation = generic_explanation(f);
    const TemplateContext context{f, m_xml};
    if (cause) {
        f.rule_id = cause->id;
        if (auto text = expand_template(cause->explanation, context)) {
            f.explanation = *text;
        }
        add_cause_fixes(f, *cause, context);
    }
    f.explanation += not_enforced_suffix(f);
    if (f.fixes.empty()) {
        add_generic_fixes(f);
    }
    if (f.mac == model::Mac::selinux) {
        for (model::Fix& fix : boolean_fixes(m_kb.booleans, f)) {
            if (!has_fix(f, fix.kind, fix.scope, fix.text)) {
                f.fixes.push_back(std::move(fix));
            }
        }
    }
}

} // namespace virtdeny::kb
