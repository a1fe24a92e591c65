#include <analyzer/kb/fix_check.hpp>

#include <analyzer/correlate/correlator.hpp>
#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/kb/apparmor_glob.hpp>
#include <analyzer/kb/apparmor_grant.hpp>
#include <analyzer/util/text.hpp>

#include <algorithm>

namespace virtdeny::kb {

namespace {

using model::Effect;
using model::GrantKind;
using model::Reach;

bool is_virt_process_type(std::string_view t)
{
    return util::starts_with(t, "svirt_") || t == "virt_domain" || t == "qemu_t";
}

// A boolean's rules open only virt processes (virt_domain, svirt_*, the virt daemons).
bool virt_scoped_source(std::string_view t)
{
    return util::starts_with(t, "svirt_") || util::starts_with(t, "virt") || t == "qemu_t";
}

void add_unique(std::vector<std::string>& v, const std::string& s)
{
    if (std::find(v.begin(), v.end(), s) == v.end()) {
        v.push_back(s);
    }
}

std::string perms_text(const std::vector<std::string>& perms)
{
    return perms.size() == 1 ? perms.front() : "{ " + util::join(perms, " ") + " }";
}

void set(model::Fix& fix, Effect effect, std::string reason)
{
    fix.effect = effect;
    fix.effect_reason = std::move(reason);
}

std::string level_text(const std::string& context)
{
    return util::printable(correlate::mcs_level(context));
}

void check_selinux(const model::Finding& f, model::Fix& fix, const Needs& needs, const AccessModel& access,
                   const BooleanTable& booleans)
{
    const model::Grant& g = fix.grant;
    const std::string stype(correlate::context_type(f.subject));
    const std::string ttype(correlate::context_type(f.tcontext));
    const bool mcs = access.mcs_denies(f.subject, f.tcontext, f.tclass, f.permissions);
    const std::string mcs_reason = "an MCS constraint denies it: the object's categories (" + level_text(f.tcontext)
        + ") are not within the process's (" + level_text(f.subject) + "), and no allow rule or boolean lifts a constraint";
    switch (g.kind) {
    case GrantKind::selinux_allow:
        if (mcs) {
            set(fix, Effect::insufficient, mcs_reason);
        } else {
            set(fix, Effect::allows,
                "grants " + perms_text(g.perms) + " on " + util::join(g.targets, ", ") + ":" + g.tclass + " to "
                    + util::join(g.subjects, ", ") + ", the denied access");
        }
        return;
    case GrantKind::relabel: {
        if (g.to_type == ttype) {
            set(fix, Effect::moot, "the object already has type " + ttype);
            return;
        }
        const auto te = access.te_allows(stype, g.to_type, f.tclass, needs.selinux);
        if (!te) {
            set(fix, Effect::unknown, access.source_label() + " does not say whether " + stype + " may "
                                         + perms_text(needs.selinux) + " " + g.to_type + ":" + f.tclass);
        } else if (*te) {
            set(fix, Effect::allows, access.source_label() + " lets " + stype + " " + perms_text(needs.selinux) + " "
                                        + g.to_type + ":" + f.tclass);
        } else {
            set(fix, Effect::insufficient, access.source_label() + " does not let " + stype + " "
                                              + perms_text(needs.selinux) + " " + g.to_type + ":" + f.tclass + " either");
        }
        return;
    }
    case GrantKind::relevel:
    case GrantKind::shared_level: {
        if (!mcs) {
            set(fix, Effect::moot, "the object's categories (" + level_text(f.tcontext) + ") are already within the process's");
            return;
        }
        const auto te = access.te_allows(stype, ttype, f.tclass, needs.selinux);
        if (te && !*te) {
            set(fix, Effect::insufficient, "type enforcement denies it too: " + access.source_label()
                                              + " does not let " + stype + " " + perms_text(needs.selinux) + " " + ttype);
        } else {
            set(fix, Effect::allows, "the type is allowed; only the categories differed, and after this the process's "
                                     "categories cover the object's");
        }
        return;
    }
    case GrantKind::boolean: {
        if (mcs) {
            set(fix, Effect::insufficient, mcs_reason);
            return;
        }
        const std::string name = g.boolean_value ? g.boolean : "!" + g.boolean;
        bool listed = false;
        for (const BooleanTable::Answer& a : booleans.lookup(stype, ttype, f.tclass, needs.selinux)) {
            if (a.boolean == g.boolean && a.required_value == g.boolean_value) {
                listed = true;
                if (a.complete) {
                    set(fix, Effect::allows, "its rules include " + perms_text(needs.selinux) + " on " + ttype + ":"
                                                 + f.tclass + " for " + stype);
                    return;
                }
            }
        }
        if (listed || !booleans.grants_of(name).empty()) {
            set(fix, Effect::insufficient, "its rules do not include all of " + perms_text(needs.selinux) + " on "
                                               + ttype + ":" + f.tclass + " for " + stype);
        } else {
            set(fix, Effect::unknown, "the boolean's rules are not in the bundled data");
        }
        return;
    }
    default: break;
    }
}

void check_apparmor(const model::Finding& f, model::Fix& fix, const Needs& needs)
{
    const model::Grant& g = fix.grant;
    if (f.tclass != "file") {
        set(fix, Effect::allows, "the rule names exactly the denied access");
        return;
    }
    const bool covers_path = std::any_of(g.targets.begin(), g.targets.end(),
                                         [&](const std::string& glob) { return apparmor_glob_matches(glob, f.path); });
    const std::string have = g.perms.empty() ? std::string() : g.perms.front();
    if (!covers_path) {
        set(fix, Effect::insufficient, "the rule's path does not match " + util::printable(f.path));
    } else if (!apparmor_letters_cover(have, needs.apparmor)) {
        set(fix, Effect::insufficient, "the rule grants " + have + " where " + needs.apparmor + " is needed");
    } else {
        set(fix, Effect::allows, "the rule matches " + util::printable(f.path) + " and grants " + have
                                     + (have == needs.apparmor ? "" : " (" + needs.apparmor + " needed)"));
    }
}

model::Breadth measure(const model::Finding& f, const model::Fix& fix, const BooleanTable& booleans)
{
    const model::Grant& g = fix.grant;
    model::Breadth b;
    const std::string stype(correlate::context_type(f.subject));
    const Reach owner_reach = f.host_level ? Reach::daemon : (f.domain ? Reach::this_vm : Reach::host);
    switch (g.kind) {
    case GrantKind::selinux_allow:
        b.vms = f.host_level ? Reach::daemon
                             : (std::all_of(g.subjects.begin(), g.subjects.end(),
                                            [](const std::string& s) { return is_virt_process_type(s); })
                                    ? Reach::all_vms
                                    : Reach::host);
        if (g.per_vm) {
            b.vms = Reach::this_vm;
        }
        b.subjects = g.subjects;
        b.targets = g.targets;
        b.permissions = g.perms;
        break;
    case GrantKind::relabel:
        b.vms = g.per_vm ? Reach::this_vm : (is_virt_process_type(stype) ? Reach::all_vms : Reach::host);
        b.subjects = {stype};
        b.targets = g.targets;
        b.permissions = {"*"};
        break;
    case GrantKind::relevel:
        b.vms = Reach::this_vm;
        b.subjects = {stype};
        b.targets = g.targets;
        b.permissions = {"*"};
        break;
    case GrantKind::shared_level:
        b.vms = Reach::all_vms;
        b.subjects = {stype};
        b.targets = g.targets;
        b.permissions = {"*"};
        break;
    case GrantKind::boolean: {
        bool virt_only = true;
        for (const BooleanGrant* r : booleans.grants_of(g.boolean_value ? g.boolean : "!" + g.boolean)) {
            add_unique(b.subjects, r->source);
            add_unique(b.targets, r->target);
            virt_only = virt_only && virt_scoped_source(r->source);
        }
        b.vms = virt_only && !b.subjects.empty() ? Reach::all_vms : Reach::host;
        b.permissions = {"*"};
        break;
    }
    case GrantKind::apparmor_rule:
        b.vms = g.per_vm ? Reach::this_vm
                         : (f.host_level ? Reach::daemon
                                         : (correlate::libvirt_profile_uuid(f.subject).empty() ? Reach::daemon
                                                                                              : Reach::all_vms));
        b.subjects = g.subjects;
        b.targets = g.targets;
        b.permissions = g.perms;
        break;
    case GrantKind::upgrade:
        // upstream's rule: for every VM of the type, or only the daemon whose profile gains it
        b.vms = f.mac == model::Mac::apparmor && f.host_level ? Reach::daemon : Reach::all_vms;
        b.subjects = g.subjects;
        b.targets = g.targets;
        b.permissions = g.perms;
        break;
    case GrantKind::managed:
        b.vms = owner_reach;
        b.targets = g.targets;
        break;
    case GrantKind::none:
        b.vms = fix.scope == model::Scope::domain ? Reach::this_vm
                                                  : (fix.scope == model::Scope::daemon ? Reach::daemon : Reach::host);
        break;
    }
    return b;
}

// A few words for a fix that is dropped: "a relabel to svirt_image_t", "an allow rule".
std::string describe(const model::Fix& fix)
{
    switch (fix.grant.kind) {
    case GrantKind::relabel: return "a relabel to " + fix.grant.to_type;
    case GrantKind::relevel: return "giving the file this VM's categories";
    case GrantKind::shared_level: return "a shared label (s0)";
    case GrantKind::selinux_allow: return "an allow rule";
    case GrantKind::boolean: return "the boolean " + fix.grant.boolean;
    case GrantKind::apparmor_rule:
        return "the rule granting " + util::join(fix.grant.perms, " ") + " on " + util::join(fix.grant.targets, ", ");
    default: return fix.kind;
    }
}

int effect_rank(Effect e)
{
    return e == Effect::allows ? 0 : (e == Effect::unknown ? 1 : 2);
}

int tier(const model::Fix& fix)
{
    if (fix.grant.kind == GrantKind::upgrade) {
        return 0;
    }
    switch (fix.breadth.vms) {
    case Reach::this_vm:
    case Reach::daemon: return 1;
    case Reach::all_vms:
        if (fix.grant.kind == GrantKind::relabel || fix.grant.kind == GrantKind::shared_level) {
            return 2;  // one file or mount, not a type
        }
        return fix.grant.kind == GrantKind::boolean ? 3 : 4;
    case Reach::host: return 5;
    }
    return 5;
}

model::Scope scope_of(Reach r)
{
    switch (r) {
    case Reach::this_vm: return model::Scope::domain;
    case Reach::daemon: return model::Scope::daemon;
    default: return model::Scope::host;
    }
}

} // namespace

bool apparmor_letters_cover(const std::string& have, const std::string& need)
{
    // w implies a (AppArmor: append is a subset of write)
    return std::all_of(need.begin(), need.end(), [&](char c) {
        return have.find(c) != std::string::npos || (c == 'a' && have.find('w') != std::string::npos);
    });
}

Needs needs_of(const model::Finding& f, const std::vector<std::string>& extra_selinux, const std::string& extra_apparmor)
{
    Needs n;
    n.selinux = f.permissions;
    for (const std::string& p : extra_selinux) {
        add_unique(n.selinux, p);
    }
    n.apparmor = f.mac == model::Mac::apparmor && f.tclass == "file"
        ? apparmor_merge_perms(apparmor_file_perms(f), extra_apparmor)
        : std::string();
    return n;
}

void check_fix(const model::Finding& f, model::Fix& fix, const Needs& needs, const AccessModel& access,
               const BooleanTable& booleans)
{
    if (fix.effect_reason.empty()) {  // not proven already where it was made
        switch (fix.grant.kind) {
        case GrantKind::apparmor_rule: check_apparmor(f, fix, needs); break;
        case GrantKind::none: set(fix, Effect::unknown, "a change outside the policy, not checked"); break;
        case GrantKind::managed:
        case GrantKind::upgrade: set(fix, Effect::unknown, "not checked"); break;
        default: check_selinux(f, fix, needs, access, booleans); break;
        }
    }
    fix.breadth = measure(f, fix, booleans);
}

std::string check_and_rank(model::Finding& f, const Needs& needs, const AccessModel& access,
                           const BooleanTable& booleans)
{
    std::string notes;
    std::vector<model::Fix> kept;
    for (model::Fix& fix : f.fixes) {
        check_fix(f, fix, needs, access, booleans);
        if (fix.effect == Effect::moot || fix.effect == Effect::insufficient) {
            notes += " Not a fix here: " + describe(fix) + " (" + model::to_string(fix.effect) + ": "
                + fix.effect_reason + ").";
            continue;
        }
        fix.scope = scope_of(fix.breadth.vms);
        if (fix.effect == Effect::unknown && !fix.effect_reason.empty()) {
            fix.note += " Not checked: " + fix.effect_reason + ".";
        }
        kept.push_back(std::move(fix));
    }
    std::stable_sort(kept.begin(), kept.end(), [](const model::Fix& a, const model::Fix& b) {
        const int ea = effect_rank(a.effect);
        const int eb = effect_rank(b.effect);
        return ea != eb ? ea < eb : tier(a) < tier(b);
    });
    f.fixes = std::move(kept);
    return notes;
}

} // namespace virtdeny::kb
