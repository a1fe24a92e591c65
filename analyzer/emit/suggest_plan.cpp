#include <analyzer/emit/suggest_plan.hpp>

#include <analyzer/correlate/domain_xml.hpp>
#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/emit/apparmor_writer.hpp>
#include <analyzer/emit/selinux_writer.hpp>
#include <analyzer/util/escape.hpp>

#include <algorithm>
#include <optional>
#include <set>

namespace virtdeny::emit {

std::string suggest_folder_name(const std::string& vm_name, const std::string& vm_uuid)
{
    auto clean = [](const std::string& s) {
        std::string out;
        for (unsigned char c : s) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
                || c == '_' || c == '-';
            out.push_back(ok ? static_cast<char>(c) : '_');
        }
        if (out.size() > 64) {
            out.resize(64);
        }
        if (!out.empty() && (out.front() == '.' || out.front() == '-')) {
            out.front() = '_';
        }
        return out;
    };
    std::string name = clean(vm_name);
    if (name.empty() || name == "host") {
        name = clean(vm_uuid);
    }
    if (name.empty() || name == "host") {
        name = "vm";
    }
    return name;
}

namespace {

constexpr const char* k_fence = "~~~~";

struct Group
{
    bool host = false;
    std::string name;
    std::string uuid;
    std::string folder;
    std::vector<const model::Finding*> findings;
};

std::string one_line(const std::string& s)
{
    std::string out;
    for (unsigned char c : s) {
        out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
    }
    return out;
}

std::string apply_header(const std::string& what)
{
    std::string out;
    out += "#!/bin/sh\n";
    out += "# virtdeny: " + one_line(what) + "\n";
    out += "# Does nothing unless run with --apply; --dry-run prints every command it would run.\n";
    out += "set -eu\n";
    out += "here=$(CDPATH= cd -- \"$(dirname -- \"$0\")\" && pwd)\n";
    out += "mode=\n";
    out += "case \"${1:-}\" in\n";
    out += "    --apply) mode=apply ;;\n";
    out += "    --dry-run) mode=dry ;;\n";
    out += "    *) echo \"usage: $0 --dry-run | --apply (nothing was changed)\" >&2; exit 0 ;;\n";
    out += "esac\n";
    out += "run() {\n";
    out += "    if [ \"$mode\" = apply ]; then\n";
    out += "        \"$@\"\n";
    out += "    else\n";
    out += "        printf '+'\n";
    out += "        for a in \"$@\"; do printf \" '%s'\" \"$(printf '%s' \"$a\" | sed \"s/'/'\\\\\\\\''/g\")\"; done\n";
    out += "        printf '\\n'\n";
    out += "    fi\n";
    out += "}\n";
    // insert a rules file inside a profile, before its last closing brace, once
    out += "aa_insert() {\n";
    out += "    f=$1; rules=$2; marker=$3\n";
    out += "    [ -f \"$f\" ] || { echo \"virtdeny: $f does not exist; start the VM once so virt-aa-helper writes it\" >&2; return 1; }\n";
    out += "    if grep -qF \"# virtdeny begin $marker\" \"$f\"; then echo \"virtdeny: $f already has these rules\" >&2; return 0; fi\n";
    out += "    n=$(grep -n '^[[:space:]]*}' \"$f\" | tail -n 1 | cut -d: -f1)\n";
    out += "    [ -n \"$n\" ] || { echo \"virtdeny: no closing brace in $f\" >&2; return 1; }\n";
    out += "    tmp=$(mktemp \"$f.virtdeny.XXXXXX\")\n";
    out += "    { head -n \"$((n - 1))\" \"$f\"; echo \"  # virtdeny begin $marker\"; cat \"$rules\"; "
           "echo \"  # virtdeny end $marker\"; tail -n +\"$n\" \"$f\"; } > \"$tmp\"\n";
    out += "    chmod 0644 \"$tmp\"\n";
    out += "    mv -- \"$tmp\" \"$f\"\n";
    out += "}\n";
    // append a rules file to a local/ include, once
    out += "aa_append() {\n";
    out += "    f=$1; rules=$2; marker=$3\n";
    out += "    if [ -f \"$f\" ] && grep -qF \"# virtdeny begin $marker\" \"$f\"; then echo \"virtdeny: $f already has these rules\" >&2; return 0; fi\n";
    out += "    { echo \"# virtdeny begin $marker\"; cat \"$rules\"; echo \"# virtdeny end $marker\"; } >> \"$f\"\n";
    out += "}\n\n";
    return out;
}

std::string fix_line(const std::string& kind, model::Scope scope, const std::string& where, const std::string& text,
                     const std::string& note)
{
    std::string out = "- **" + kind + "** (scope: " + model::to_string(scope) + ")";
    if (!where.empty()) {
        out += " in `" + one_line(where) + "`";
    }
    out += "\n\n" + std::string(k_fence) + "\n" + text + (text.empty() || text.back() == '\n' ? "" : "\n") + k_fence
        + "\n\n  " + one_line(note) + "\n\n";
    return out;
}

const char* k_vm_placement =
    "Per-VM AppArmor rules go inside the VM's profile /etc/apparmor.d/libvirt/libvirt-<uuid>, outside its "
    "`#include <libvirt/libvirt-<uuid>.files>` line: virt-aa-helper regenerates the .files include at every "
    "start and deletes it at shutdown, while current libvirt keeps libvirt-<uuid> itself, so rules written "
    "there survive a restart. Older libvirt deleted both files at shutdown; there only the host-wide "
    "/etc/apparmor.d/abstractions/libvirt-qemu.d/ (included if it exists, AppArmor 3) survives, and a rule "
    "there applies to every VM.";

} // namespace

std::vector<SuggestFile> suggest_files(const std::vector<model::Finding>& findings,
                                       const correlate::DomainXmlIndex* xml, const SuggestOptions& options)
{
    std::vector<Group> groups;
    Group host;
    host.host = true;
    host.folder = "host";
    for (const auto& f : findings) {
        if (f.host_level || !f.domain) {
            host.findings.push_back(&f);
            continue;
        }
        auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
            return (!f.domain->uuid.empty() && g.uuid == f.domain->uuid)
                || (f.domain->uuid.empty() && !f.domain->name.empty() && g.name == f.domain->name);
        });
        if (it == groups.end()) {
            Group g;
            g.name = f.domain->name;
            g.uuid = f.domain->uuid;
            groups.push_back(std::move(g));
            it = groups.end() - 1;
        }
        if (it->name.empty()) {
            it->name = f.domain->name;
        }
        it->findings.push_back(&f);
    }
    std::set<std::string> used = {"host", "README.md"};
    for (auto& g : groups) {
        std::string folder = suggest_folder_name(g.name, g.uuid);
        std::string candidate = folder;
        for (int n = 2; used.count(candidate); ++n) {
            candidate = folder + "-" + std::to_string(n);
        }
        g.folder = candidate;
        used.insert(candidate);
    }
    if (!host.findings.empty()) {
        groups.push_back(std::move(host));
    }

    std::vector<SuggestFile> files;
    std::string readme = "# virtdeny suggest\n\n"
                         "Fixes for the denials read, narrowest first, one folder per VM and `host/` for the libvirt "
                         "daemons and host-wide fixes. Nothing on this host changes until you run a folder's "
                         "`apply.sh --apply`; `apply.sh --dry-run` prints every command first. Booleans and "
                         "host-wide changes are listed here only: apply those by hand if you accept their scope.\n";
    if (groups.empty()) {
        readme += "\nNo denials were found: nothing to fix.\n";
    }

    for (const auto& g : groups) {
        const std::string title = g.host ? std::string("Host (libvirt daemons and host-wide)")
                                         : "VM " + (g.name.empty() ? g.uuid : g.name) + (g.uuid.empty() || g.name.empty() ? "" : " (" + g.uuid + ")");
        readme += "\n## " + one_line(title) + " — folder `" + g.folder + "/`\n\n";
        std::string apply = apply_header(title);
        bool applies = false;

        // an upstream release that already holds the rule comes first: nothing to maintain locally
        std::set<std::string> upgrades;
        std::vector<std::pair<const model::Fix*, std::size_t>> upgrade_fixes;  // first fix of a text, denials it covers
        for (const auto* f : g.findings) {
            for (const auto& fix : f->fixes) {
                if (fix.grant.kind != model::GrantKind::upgrade) {
                    continue;
                }
                if (upgrades.insert(fix.text).second) {
                    upgrade_fixes.emplace_back(&fix, 1);
                } else {
                    for (auto& [u, n] : upgrade_fixes) {
                        n += u->text == fix.text ? 1 : 0;
                    }
                }
            }
        }
        for (const auto& [fix, covered] : upgrade_fixes) {
            if (fix == upgrade_fixes.front().first) {
                readme += "### First, where you can: upgrade (by hand)\n\n";
            }
            const std::string more = covered > 1
                ? " It covers " + std::to_string(covered) + " of the denials below (each named in its explain output)."
                : std::string();
            readme += fix_line(fix->kind, fix->scope, fix->file, fix->text,
                               fix->note + more + " The local changes below are for a host that cannot upgrade yet.");
        }

        // AppArmor
        const auto sets = apparmor_rule_sets(g.findings, xml);
        std::set<std::string> used_files;
        for (const auto& set : sets) {
            if (set.target_file.empty()) {
                continue;
            }
            std::string base = set.target_file.substr(set.target_file.rfind('/') + 1);
            // a file name of our own: only [A-Za-z0-9._-], so that it is safe inside "$here/..."
            // in apply.sh (the profile name comes from the log)
            std::string file_base = base;
            for (char& c : file_base) {
                const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
                    || c == '_' || c == '-';
                if (!safe) {
                    c = '_';
                }
            }
            std::string rules_name = g.host ? "apparmor-" + file_base + ".rules" : std::string("apparmor.rules");
            for (int n = 2; used_files.count(rules_name); ++n) {
                rules_name = "apparmor-" + std::to_string(n) + ".rules";
            }
            used_files.insert(rules_name);
            std::string header = "  " + apparmor_comment("virtdeny: rules for AppArmor profile " + set.profile) + "\n";
            header += "  " + apparmor_comment("Goes into " + set.target_file
                                              + (set.scope == model::Scope::domain ? " (inside the profile, outside the .files include)" : ""))
                + "\n";
            files.push_back({g.folder + "/" + rules_name, header + apparmor_rules_text(set), false});
            const std::string marker = one_line(base);
            if (set.scope == model::Scope::domain) {
                apply += "run aa_insert " + util::shell_quote(set.target_file) + " \"$here/" + rules_name + "\" " + util::shell_quote(marker) + "\n";
            } else {
                apply += "run aa_append " + util::shell_quote(set.target_file) + " \"$here/" + rules_name + "\" " + util::shell_quote(marker) + "\n";
            }
            if (!set.profile_file.empty()) {
                apply += "run apparmor_parser -r " + util::shell_quote(set.profile_file) + "\n";
            }
            applies = true;
            readme += "### AppArmor profile `" + one_line(set.profile) + "`\n\n";
            if (set.scope == model::Scope::domain) {
                readme += std::string(k_vm_placement) + "\n\n";
            } else {
                readme += "Daemon rules go in the profile's local include " + set.target_file
                    + ", which package upgrades keep; they apply to the daemon only, not to any VM.\n\n";
            }
            for (const auto& e : set.entries) {
                std::string note = e.reason;
                if (!e.warning.empty()) {
                    note += " WARNING: " + e.warning;
                }
                readme += fix_line("apparmor-rule", set.scope, set.target_file, e.rule, note);
            }
        }

        // SELinux: relabel first, then a module of the VM's own type for the rest. No type of the
        // VM's own: it would hold only the virt_domain rules, not those the policy grants the
        // base type by name (svirt_tcg_t's execmem), and the VM would fail at its next access.
        std::vector<const model::Finding*> module_findings;
        std::string xml_snippets;
        for (const auto* f : g.findings) {
            if (f->mac != model::Mac::selinux) {
                continue;
            }
            // a relabel only where the advisor's checked fixes hold one (not moot, not insufficient)
            std::optional<model::Fix> relabel = selinux_relabel_fix(*f);
            const bool relabel_checked = relabel && std::any_of(f->fixes.begin(), f->fixes.end(), [&](const model::Fix& x) {
                return x.kind == "selinux-fcontext" && x.grant.kind == model::GrantKind::relabel
                    && relabel->text.find(" -t " + x.grant.to_type + " ") != std::string::npos;
            });
            if (!relabel_checked) {
                relabel.reset();
            }
            if (relabel) {
                std::string regex_cmd = relabel->text.substr(0, relabel->text.find('\n'));
                std::string restore_cmd = relabel->text.substr(relabel->text.find('\n') + 1);
                apply += "run " + regex_cmd + "\nrun " + restore_cmd + "\n";
                applies = true;
                readme += fix_line(relabel->kind, relabel->scope, f->path, relabel->text, relabel->note);
                continue;
            }
            // only where explain offers an allow rule: not for an MCS/constraint denial (an allow
            // rule cannot lift it), a SELINUX_ERR, or a cause whose fix is a boolean or a mount option
            const bool allow_fix = std::any_of(f->fixes.begin(), f->fixes.end(),
                                               [](const model::Fix& x) { return x.kind == "selinux-allow"; });
            if (allow_fix) {
                module_findings.push_back(f);
            }
        }
        if (!module_findings.empty()) {
            const std::string mod_name = g.host ? std::string("virtdeny_host") : selinux_module_name(g.name, g.uuid);
            const std::string own_type;
            SelinuxModule mod = selinux_module(mod_name, own_type, module_findings);
            if (!mod.rules.empty()) {
                files.push_back({g.folder + "/" + mod.name + ".te", mod.te, false});
                if (options.cil) {
                    files.push_back({g.folder + "/" + mod.name + ".cil", mod.cil, false});
                }
                apply += "run checkmodule -M -m -o \"$here/" + mod.name + ".mod\" \"$here/" + mod.name + ".te\"\n";
                apply += "run semodule_package -o \"$here/" + mod.name + ".pp\" -m \"$here/" + mod.name + ".mod\"\n";
                apply += "run semodule -i \"$here/" + mod.name + ".pp\"\n";
                applies = true;
                std::string note = g.host
                    ? "A local module with only the denied accesses of the libvirt daemons' own types."
                    : "A local module with only the denied accesses, for the VM's type: every VM of that type "
                      "gains them (a type of this VM's own is not offered: it would lack what the policy grants "
                      "the base type by name).";
                std::string text;
                for (const auto& r : mod.rules) {
                    text += r + "\n";
                }
                readme += fix_line("selinux-allow", g.host ? model::Scope::daemon : model::Scope::host,
                                   g.folder + "/" + mod.name + ".te", text, note);
            }
        }

        // the advisor's other fixes (libvirt XML, booleans, host changes), narrowest first
        std::string others;
        std::set<std::string> seen_fixes;
        for (const auto* f : g.findings) {
            for (const auto& fix : f->fixes) {
                if (fix.kind == "apparmor-rule" || fix.kind == "selinux-allow" || upgrades.count(fix.text)) {
                    continue;  // written above, merged
                }
                if (!seen_fixes.insert(fix.kind + "\n" + fix.text).second) {
                    continue;
                }
                if (fix.kind == "selinux-fcontext" && fix.grant.kind == model::GrantKind::relabel && selinux_relabel_fix(*f)) {
                    continue;
                }
                if (fix.kind == "libvirt-xml") {
                    xml_snippets += "<!-- " + util::xml_comment(fix.note) + " -->\n" + fix.text + "\n";
                }
                others += fix_line(fix.kind, fix.scope, fix.file, fix.text, fix.note);
            }
        }
        if (!others.empty()) {
            readme += "### Other fixes (apply by hand; broader ones last)\n\n" + others;
        }
        if (!xml_snippets.empty()) {
            files.push_back({g.folder + "/libvirt.xml", xml_snippets, false});
        }

        readme += "### Denials\n\n";
        for (const auto* f : g.findings) {
            readme += "- " + one_line(f->explanation.empty() ? f->subject : f->explanation) + "\n";
        }
        if (!applies) {
            apply += "echo 'virtdeny: nothing to apply automatically here; see README.md' >&2\n";
        }
        files.push_back({g.folder + "/apply.sh", apply, true});
    }
    files.insert(files.begin(), SuggestFile{"README.md", readme, false});
    return files;
}

} // namespace virtdeny::emit
