#include <analyzer/kb/advisor.hpp>
#include <analyzer/util/text.hpp>

#include <analyzer/correlate/correlator.hpp>
#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/kb/apparmor_grant.hpp>
#include <analyzer/kb/boolean_advice.hpp>
#include <analyzer/kb/cause_template.hpp>
#include <analyzer/util/escape.hpp>
#include <analyzer/kb/apparmor_glob.hpp>
#include <analyzer/kb/fix_check.hpp>
#include <analyzer/kb/selinux_words.hpp>

#include <algorithm>
#include <optional>

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
    const std::string file = apparmor_target_file(f);
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
    if (f.device != model::k_unknown_device) {
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

bool has_fix(const model::Finding& f, const std::string& kind, model::Scope scope,
             const std::vector<model::TextPart>& text)
{
    return std::any_of(f.fixes.begin(), f.fixes.end(),
                       [&](const model::Fix& x) { return x.kind == kind && x.scope == scope && x.text_parts == text; });
}

bool has_fix_in(const std::vector<model::Fix>& fixes, const model::Fix& fix)
{
    return std::any_of(fixes.begin(), fixes.end(), [&](const model::Fix& x) {
        return x.kind == fix.kind && x.scope == fix.scope && x.text_parts == fix.text_parts;
    });
}

// "system_r" of "system_u:system_r:svirt_t:s0"
std::string split_role(const std::string& context)
{
    const std::size_t a = context.find(':');
    const std::size_t b = a == std::string::npos ? a : context.find(':', a + 1);
    return b == std::string::npos ? std::string() : util::printable(context.substr(a + 1, b - a - 1));
}

model::Grant selinux_allow_grant(const model::Finding& f)
{
    model::Grant g;
    g.kind = model::GrantKind::selinux_allow;
    g.subjects = {std::string(correlate::context_type(f.subject))};
    g.targets = {f.tclass == "process" || f.tclass == "capability" ? std::string("self")
                                                                     : std::string(correlate::context_type(f.tcontext))};
    g.tclass = f.tclass;
    g.perms = f.permissions;
    return g;
}

// The AppArmor rule (a placeholder's, or none for a rule text of the rule file's own) in
// the profile of f, in file: per VM when file is the VM's own profile include.
model::Grant apparmor_grant(const model::Finding& f, model::Grant rule, const std::string& file)
{
    rule.kind = model::GrantKind::apparmor_rule;
    rule.subjects = {f.subject};
    rule.per_vm = !correlate::libvirt_profile_uuid(f.subject).empty() && !file.empty()
        && file == apparmor_target_file(f);
    return rule;
}

// The rule for exactly the denied access, when the cause rules gave no fix.
void add_generic_fixes(model::Finding& f, const correlate::DomainXmlIndex* xml)
{
    model::Fix fix;
    fix.scope = default_scope(f);
    model::Grant rule;
    const TemplateContext context{f, xml, std::string(), &rule};
    if (f.mac == model::Mac::apparmor) {
        fix.kind = "apparmor-rule";
        fix.file = apparmor_target_file(f);
        fix.note = "Allows only the denied access." + apparmor_persistence_note(f);
        if (auto text = bind_template("{apparmor_rule}", context)) {
            fix.text_parts = std::move(*text);
            fix.grant = apparmor_grant(f, std::move(rule), fix.file);
        }
    } else {
        fix.kind = "selinux-allow";
        fix.note = "Allows only the denied permissions for this source and target type, in a local module.";
        if (auto text = bind_template("{selinux_allow}", context)) {
            fix.text_parts = std::move(*text);
            fix.grant = selinux_allow_grant(f);
        }
    }
    if (!fix.text_parts.empty()) {
        f.fixes.push_back(std::move(fix));
    }
}

// What a rule's fix grants: from its relabel / level / libvirt_does keys, the placeholder
// that wrote its rule, or its kind.
void set_cause_grant(const model::Finding& f, const CauseFix& rule_fix, const TemplateContext& context,
                     model::Fix& fix, model::Grant placeholder)
{
    model::Grant& g = fix.grant;
    if (!rule_fix.relabel.empty()) {
        g.kind = model::GrantKind::relabel;
        g.to_type = rule_fix.relabel;
        g.targets = {f.path};
        g.per_vm = rule_fix.level == "vm";  // chcon to the VM's own categories
    } else if (rule_fix.level == "vm") {
        g.kind = model::GrantKind::relevel;
        g.level = std::string(correlate::mcs_level(f.subject));
        g.targets = {f.path};
        g.per_vm = true;
    } else if (rule_fix.level == "shared") {
        g.kind = model::GrantKind::shared_level;
        g.level = "s0";
        g.targets = {f.path};
    } else if (!rule_fix.libvirt_does.empty()) {
        g.kind = model::GrantKind::managed;
        g.per_vm = rule_fix.scope == model::Scope::domain;
        if (auto reason = expand_template(rule_fix.libvirt_does, context)) {
            fix.effect = model::Effect::allows;
            fix.effect_reason = *reason;
        }
    } else if (fix.kind == "selinux-allow") {
        g = selinux_allow_grant(f);
    } else if (fix.kind == "apparmor-rule") {
        g = apparmor_grant(f, std::move(placeholder), fix.file);
    }
}

void add_cause_fixes(model::Finding& f, const CauseRule& cause, TemplateContext& context)
{
    for (const CauseFix& rule_fix : cause.fixes) {
        model::Grant placeholder;
        context.grant = &placeholder;
        auto text = bind_template(rule_fix.text, context);
        context.grant = nullptr;
        auto note = expand_template(rule_fix.note, context);
        auto file = expand_template(rule_fix.file, context);
        if (!text || !note || !file || has_fix(f, rule_fix.kind, rule_fix.scope, *text)) {
            continue;
        }
        model::Fix fix;
        fix.kind = rule_fix.kind;
        fix.scope = rule_fix.scope;
        fix.text_parts = std::move(*text);
        fix.note = std::move(*note);
        fix.file = std::move(*file);
        if (fix.kind == "apparmor-rule" && fix.file.empty() && fix.scope != model::Scope::host) {
            fix.file = apparmor_target_file(f);
            fix.note += apparmor_persistence_note(f);
        }
        set_cause_grant(f, rule_fix, context, fix, std::move(placeholder));
        f.fixes.push_back(std::move(fix));
    }
}

// "the policy /etc/selinux/default/policy/policy.33"
std::string policy_label(const std::string& path)
{
    return "the policy " + util::printable(path);
}

std::string access_of(const model::Finding& f)
{
    return std::string(correlate::context_type(f.subject)) + " -> " + std::string(correlate::context_type(f.tcontext))
        + ":" + f.tclass + " { " + util::join(f.permissions, " ") + " }";
}

bool is_level(std::string_view s)
{
    if (s.empty() || s.size() > 256) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == ','
            || c == '.' || c == '-' || c == '_';
    });
}

void remove_fixes(model::Finding& f, const std::string& kind)
{
    f.fixes.erase(std::remove_if(f.fixes.begin(), f.fixes.end(), [&](const model::Fix& x) { return x.kind == kind; }),
                  f.fixes.end());
}

// Relabel fixes for an MCS denial: the object gets the VM's own categories.
std::vector<model::Fix> mcs_fixes(const model::Finding& f)
{
    std::vector<model::Fix> out;
    const std::string_view level = correlate::mcs_level(f.subject);
    const std::string_view object_level = correlate::mcs_level(f.tcontext);
    if (!f.path.empty() && f.path.front() == '/' && is_level(level) && level.find('-') == std::string_view::npos) {
        model::Fix fix;
        fix.kind = "selinux-fcontext";
        fix.scope = f.domain ? model::Scope::domain : model::Scope::host;
        fix.text_parts = {{model::TextForm::literal, "chcon -l " + std::string(level) + " -- "},
                          {model::TextForm::shell_word, f.path}};
        fix.grant.kind = model::GrantKind::relevel;
        fix.grant.level = std::string(level);
        fix.grant.targets = {f.path};
        fix.grant.per_vm = true;
        fix.note = "Gives the file this VM's categories (" + std::string(level) + ", it has "
            + util::printable(object_level)
            + "), so only this VM may use it. libvirt does this itself when it starts a VM with dynamic labels, unless "
              "relabel='no' is set; a file left with other categories is usually in use by another VM or was "
              "labeled by hand.";
        out.push_back(std::move(fix));
    }
    if (f.device_hints.shareable_disk) {
        model::Fix fix;
        fix.kind = "libvirt-xml";
        fix.scope = model::Scope::domain;
        fix.text_parts = {{model::TextForm::literal, "<shareable/>"}};
        fix.grant.kind = model::GrantKind::shared_level;
        fix.grant.level = "s0";
        fix.grant.targets = {f.path};
        fix.note = "Only when this image is meant to be used by several VMs at once: in the <disk> of each of them, it "
                   "makes libvirt label the image without categories (s0), so every VM may use it.";
        out.push_back(std::move(fix));
    }
    return out;
}

// The literal directory a virt-aa-helper rule names: its path up to the first glob part.
std::string literal_root(const std::string& rule_path)
{
    for (const char* tail : {"/{,**}", "/**", "/*", "/"}) {
        if (util::ends_with(rule_path, tail)) {
            return rule_path.substr(0, rule_path.size() - std::string_view(tail).size());
        }
    }
    return rule_path;
}

// What virt-aa-helper's dry run says about an AppArmor file denial of a VM (a sentence
// starting with a space), or empty.
std::string helper_sentence(const model::Finding& f, const std::vector<HelperRule>& rules, const std::string& needed)
{
    const HelperRule* named = nullptr;
    for (const HelperRule& r : rules) {
        if (apparmor_glob_matches("\"" + r.path + "\"", f.path)) {
            if (apparmor_letters_cover(r.perms, needed)) {
                return " virt-aa-helper (dry run on the domain XML) writes " + util::printable(r.text)
                    + " for this VM, which allows it: the profile in use was written for an older XML or libvirt; "
                      "restarting the VM makes libvirt write it again.";
            }
            return " virt-aa-helper (dry run on the domain XML) writes " + util::printable(r.text)
                + " for this VM: it matches " + util::printable(f.path) + " but grants " + util::printable(r.perms)
                + ", not " + needed + ".";
        }
        const std::string root = literal_root(r.path);
        if (!named && root.size() > 1 && (f.path == root || util::starts_with(f.path, root + "/"))) {
            named = &r;
        }
    }
    if (named) {
        return " virt-aa-helper (dry run on the domain XML) writes " + util::printable(named->text)
            + " for this VM: it names this path, but unescaped, so AppArmor reads its glob characters as a pattern and "
              "the rule does not match "
            + util::printable(f.path) + ".";
    }
    return " virt-aa-helper's rules for this VM (dry run on the domain XML) cover nothing at " + util::printable(f.path)
        + ": the domain XML does not declare it (raw QEMU arguments, or a file added by hand).";
}

// "Upgrade the policy" where upstream selinux-policy added exactly this access (a commit of
// rules/selinux/policy-fixes.tsv, not under a boolean) and the bundled model of the current
// policy allows it: the host's policy predates the fix.
std::optional<model::Fix> upgrade_fix(const model::Finding& f, const KnowledgeBase& kb)
{
    const std::string stype(correlate::context_type(f.subject));
    const std::string ttype(correlate::context_type(f.tcontext));
    if (f.mac != model::Mac::selinux || f.permissions.empty() || kb.policy_fixes.size() == 0
        || mcs_denies(kb.virt_allow, f.subject, f.tcontext, f.tclass, f.permissions)) {
        return std::nullopt;
    }
    const auto member = [&kb](std::string_view type, std::string_view attribute) {
        return kb.virt_allow.has_attribute(type, attribute);
    };
    const PolicyFix* main_line = nullptr;
    std::vector<const PolicyFix*> backports;
    for (const std::string& perm : f.permissions) {
        const VirtAllowTable::Verdict now = kb.virt_allow.lookup(stype, ttype, f.tclass, perm);
        if (!now.known_source || !now.allowed) {
            return std::nullopt;
        }
        const PolicyFix* first = nullptr;
        for (const PolicyFix* row : kb.policy_fixes.fixes_for(stype, ttype, f.tclass, perm, member)) {
            if (!row->condition.empty()) {
                continue;
            }
            if (row->branch == "rawhide") {
                first = first ? first : row;
            } else if (std::none_of(backports.begin(), backports.end(),
                                    [&](const PolicyFix* b) { return b->branch == row->branch; })) {
                backports.push_back(row);
            }
        }
        if (!first || first->first_tag.empty()) {
            return std::nullopt;
        }
        if (!main_line || first->date > main_line->date) {
            main_line = first;  // every permission: the latest of their fixes
        }
    }
    model::Fix fix;
    fix.kind = "host-change";
    fix.scope = model::Scope::host;
    fix.text_parts = {{model::TextForm::literal, "dnf upgrade 'selinux-policy*'"}};
    std::string ports;
    for (const PolicyFix* b : backports) {
        if (!b->first_tag.empty() && b->commit != main_line->commit) {
            ports += (ports.empty() ? "" : ", ") + b->branch + " in " + b->first_tag + " (" + b->commit + ")";
        }
    }
    fix.note = "Upstream selinux-policy allows this since commit " + main_line->commit + " (" + main_line->date + ", \""
        + util::printable(main_line->subject) + "\"), first released in " + main_line->first_tag
        + (ports.empty() ? std::string() : "; backported to " + ports)
        + ". A policy at least that new gives the VM types this access as upstream decided; nothing to maintain locally.";
    fix.grant.kind = model::GrantKind::upgrade;
    fix.grant.subjects = {stype};
    fix.grant.targets = {ttype};
    fix.grant.tclass = f.tclass;
    fix.grant.perms = f.permissions;
    fix.effect = model::Effect::allows;
    fix.effect_reason = "the current upstream policy allows it (commit " + main_line->commit + ")";
    return fix;
}

// "Upgrade libvirt" where libvirt's own AppArmor profile gained exactly the rule this denial
// needs (rules/apparmor/profile-fixes.tsv, rows with an established release).
std::optional<model::Fix> apparmor_upgrade_fix(const model::Finding& f, const KnowledgeBase& kb)
{
    if (f.mac != model::Mac::apparmor || kb.profile_fixes.size() == 0) {
        return std::nullopt;
    }
    const model::Grant need = apparmor_rule_grant(f);
    const ProfileFix* row = kb.profile_fixes.covering(f, need);
    if (!row) {
        return std::nullopt;
    }
    model::Fix fix;
    fix.kind = "host-change";
    // what it opens: the daemon's own profile gains the rule; libvirt-qemu is every VM's
    fix.scope = row->profile == "libvirt-qemu" ? model::Scope::host : model::Scope::daemon;
    fix.text_parts = {{model::TextForm::literal, "apt install --only-upgrade libvirt-daemon-system"}};
    const std::string since = row->commit == "-" ? "the change \"" + util::printable(row->subject) + "\""
                                                 : "commit " + row->commit + " (\"" + util::printable(row->subject) + "\")";
    const std::string release = row->first_tag.substr(row->first_tag.front() == 'v' ? 1 : 0);
    fix.note = "libvirt's own " + row->profile + " profile allows this with `" + util::printable(row->rule)
        + "` since libvirt " + release + ", " + since + ". If the installed libvirt is already that new, "
        + "the profile in /etc/apparmor.d is an older copy kept because it was edited locally: compare it with the "
          "packaged one (the .dpkg-dist file) and merge.";
    fix.grant = need;
    fix.grant.kind = model::GrantKind::upgrade;
    fix.grant.subjects = {f.subject};
    fix.effect = model::Effect::allows;
    fix.effect_reason = "libvirt " + release + "'s " + row->profile + " profile holds " + util::printable(row->rule);
    return fix;
}

// An MCS denial told from the contexts alone (no policy to ask): the types may be allowed,
// the categories are not.
std::string mcs_sentence(const model::Finding& f)
{
    return " The object's categories (" + util::printable(correlate::mcs_level(f.tcontext))
        + ") are not within the process's (" + util::printable(correlate::mcs_level(f.subject))
        + "): sVirt's MCS constraint keeps each VM to files with its own categories, so no allow rule or boolean "
          "can help. A file with another VM's categories is usually in use by that VM, was copied with its old "
          "label, or was relabelled for another VM while this one ran.";
}

// The relabel fixes of an MCS denial first, then the finding's other fixes (without repeats).
void put_mcs_fixes_first(model::Finding& f)
{
    std::vector<model::Fix> fixes = mcs_fixes(f);
    for (model::Fix& fix : f.fixes) {
        if (!has_fix_in(fixes, fix)) {
            fixes.push_back(std::move(fix));
        }
    }
    f.fixes = std::move(fixes);
}

std::string boolean_list(const std::vector<PolicyBoolean>& booleans)
{
    std::string out;
    for (std::size_t i = 0; i < booleans.size(); ++i) {
        if (i > 0) {
            out += i + 1 == booleans.size() ? " or " : ", ";
        }
        out += booleans[i].name + " (" + (booleans[i].current ? "on" : "off") + " in that policy)";
    }
    return out;
}

std::vector<model::Fix> policy_boolean_fixes(const PolicyAnswer& answer, const std::string& policy_path,
                                             const BooleanTable& table)
{
    std::vector<model::Fix> out;
    for (const PolicyBoolean& b : answer.booleans) {
        if (!is_selinux_identifier(b.name)) {
            continue;
        }
        const char* value = b.current ? "0" : "1";
        model::Fix fix = boolean_fix(b.name, !b.current);
        std::string desc;
        const auto grants = table.grants_of(b.name);
        if (!grants.empty() && !grants.front()->desc.empty()) {
            desc = " " + grants.front()->desc;
            if (desc.back() != '.') {
                desc += '.';
            }
        }
        std::vector<const BooleanGrant*> opens;
        for (const BooleanGrant& g : b.opens) {
            opens.push_back(&g);
        }
        fix.note = "Host-wide, not only this VM:" + desc + " It is " + (b.current ? "on" : "off") + " in "
            + policy_label(policy_path) + "; setting it to " + value + " allows all its "
            + (opens.empty() ? std::string("conditional rules") : describe_grants(opens)) + ".";
        if (b.constraint_remains) {
            fix.effect = model::Effect::insufficient;
            fix.effect_reason = "a constraint would still deny this access in " + policy_label(policy_path);
        } else {
            fix.effect = model::Effect::allows;
            fix.effect_reason = policy_label(policy_path) + " allows the access with " + b.name + " set to " + value;
        }
        out.push_back(std::move(fix));
    }
    return out;
}

} // namespace

std::string apply_policy_answer(model::Finding& f, const PolicyAnswer& a, const std::string& policy_path,
                                const BooleanTable& table)
{
    const std::string policy = policy_label(policy_path);
    std::string text;
    switch (a.verdict) {
    case PolicyVerdict::allowed:
        text = " Policy check (audit2why): " + policy + " allows " + access_of(f)
            + " now, so it was denied under another policy or boolean state (the policy was reloaded or a boolean "
              "changed since); where this policy is loaded nothing needs to change.";
        break;
    case PolicyVerdict::boolean:
        text = " Policy check (audit2why): " + policy + " has no active allow rule for " + access_of(f)
            + "; one boolean would allow it: " + boolean_list(a.booleans) + ".";
        break;
    case PolicyVerdict::missing_allow:
        text = " Policy check (audit2why): " + policy + " has no allow rule for " + access_of(f)
            + ", and no boolean would add one: it needs a relabel or a local allow rule.";
        if (a.dontaudit) {
            text += " A dontaudit rule normally keeps this denial out of the log (dontaudit rules were off when it "
                    "was logged).";
        }
        break;
    case PolicyVerdict::constraint:
        text = " Policy check (audit2why): " + policy + " allows " + access_of(f)
            + " by type, but a constraint denies it";
        if (a.mls) {
            text += ": an MCS/MLS constraint, the object's categories ("
                + util::printable(correlate::mcs_level(f.tcontext)) + ") are not within the process's ("
                + util::printable(correlate::mcs_level(f.subject))
                + "). sVirt keeps each VM to the files of its own categories, so no allow rule can help: the file "
                  "needs this VM's categories (a relabel), or must be shared on purpose.";
        } else {
            text += (a.constraint_text.empty() ? std::string() : " (" + a.constraint_text + ")")
                + ". No allow rule can lift a constraint: the user, role or level of one of the contexts must change.";
        }
        break;
    case PolicyVerdict::rbac:
        text = " Policy check (audit2why): " + policy + " does not let role " + split_role(f.subject) + " have type "
            + std::string(correlate::context_type(f.subject)) + " (RBAC): no allow rule can help.";
        break;
    case PolicyVerdict::bounds:
        text = " Policy check (audit2why): " + policy + " bounds type "
            + std::string(correlate::context_type(f.subject))
            + " by a parent type that lacks this permission (typebounds).";
        break;
    case PolicyVerdict::unknown_type:
    case PolicyVerdict::invalid_context:
    case PolicyVerdict::unknown_class:
    case PolicyVerdict::unknown_permission:
        text = " Policy check (audit2why): " + policy + " cannot judge this denial: "
            + (a.verdict == PolicyVerdict::unknown_type ? "unknown type in this policy" : "not in this policy")
            + " (" + util::printable(util::join(a.unknown, ", "))
            + "); the log comes from a host with another policy or kernel.";
        break;
    case PolicyVerdict::error:
        text = " Policy check (audit2why): libsepol could not compute this access in " + policy + ".";
        break;
    }
    if (a.evaluated() && a.constraint_denied && a.verdict != PolicyVerdict::constraint) {
        text += a.mls ? std::string(" An MCS constraint denies it as well: the object's categories differ from the "
                                    "process's.")
                      : " A constraint denies it as well"
                + (a.constraint_text.empty() ? std::string() : " (" + a.constraint_text + ")") + ".";
    }
    if (a.evaluated() && a.permissive_type) {
        text += " Type " + std::string(correlate::context_type(f.subject)) + " is permissive in that policy.";
    }
    if (!a.evaluated()) {
        return text;
    }

    // fixes: the policy's booleans replace the table's; an allow rule cannot lift a constraint
    remove_fixes(f, "selinux-boolean");
    if (a.verdict == PolicyVerdict::constraint || a.verdict == PolicyVerdict::rbac) {
        remove_fixes(f, "selinux-allow");
    }
    if (a.constraint_denied && a.mls) {
        put_mcs_fixes_first(f);
    }
    for (model::Fix& fix : policy_boolean_fixes(a, policy_path, table)) {
        if (!has_fix(f, fix.kind, fix.scope, fix.text_parts)) {
            f.fixes.push_back(std::move(fix));
        }
    }
    return text;
}

Advisor::Advisor(const KnowledgeBase& kb, const correlate::DomainXmlIndex* xml, const PolicyQuery* policy)
    : m_kb(kb), m_xml(xml), m_policy(policy), m_access(policy, kb.te_lookup(), &kb.virt_allow)
{
}

void Advisor::advise(model::Finding& f) const
{
    f.device = m_kb.devices.classify(f, m_xml, &f.device_via);
    f.xml_source = xml_device_source(f, m_xml);
    const CauseRule* cause = m_kb.causes.match(f);
    if (cause && !cause->device.empty() && cause->device != f.device) {
        f.device = cause->device;
        f.device_via = "cause";
    }
    f.device_hints = m_kb.devices.hints(f.device);
    f.explanation = generic_explanation(f);
    TemplateContext context{f, m_xml, cause ? cause->needs_apparmor : std::string(), nullptr};
    if (cause) {
        f.rule_id = cause->id;
        if (auto text = expand_template(cause->explanation, context)) {
            f.explanation = *text;
        }
        add_cause_fixes(f, *cause, context);
    }
    if (f.fixes.empty()) {
        add_generic_fixes(f, m_xml);
    }
    std::optional<PolicyAnswer> answer;
    if (m_policy && f.mac == model::Mac::selinux) {
        answer = m_policy->check(f.subject, f.tcontext, f.tclass, f.permissions);
    }
    if (f.mac == model::Mac::selinux && !(answer && answer->evaluated())) {
        for (model::Fix& fix : boolean_fixes(m_kb.booleans, f)) {
            if (!has_fix(f, fix.kind, fix.scope, fix.text_parts)) {
                f.fixes.push_back(std::move(fix));
            }
        }
    }
    if (answer) {
        f.explanation += apply_policy_answer(f, *answer, m_policy->path(), m_kb.booleans);
    }
    if (f.mac == model::Mac::selinux && !(answer && answer->evaluated())
        && m_access.mcs_denies(f.subject, f.tcontext, f.tclass, f.permissions)) {
        f.explanation += mcs_sentence(f);
        put_mcs_fixes_first(f);
    }
    if (auto upgrade = upgrade_fix(f, m_kb)) {
        f.fixes.insert(f.fixes.begin(), std::move(*upgrade));
    }
    if (auto upgrade = apparmor_upgrade_fix(f, m_kb)) {
        f.fixes.insert(f.fixes.begin(), std::move(*upgrade));
    }
    const Needs needs = needs_of(f, cause ? cause->needs_selinux : std::vector<std::string>{},
                                 cause ? cause->needs_apparmor : std::string());
    if (m_helper && m_helper->enabled() && f.mac == model::Mac::apparmor && f.tclass == "file" && f.domain
        && !f.path.empty() && !correlate::libvirt_profile_uuid(f.subject).empty()) {
        if (const correlate::DomainInfo* dom = domain_info(f, m_xml)) {
            if (const std::vector<HelperRule>* rules = m_helper->rules_for(*dom)) {
                f.explanation += helper_sentence(f, *rules, needs.apparmor);
            }
        }
    }
    f.explanation += check_and_rank(f, needs, m_access, m_kb.booleans);
    f.explanation += not_enforced_suffix(f);
}

} // namespace virtdeny::kb
