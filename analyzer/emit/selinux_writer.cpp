#include <analyzer/emit/selinux_writer.hpp>

#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/kb/selinux_words.hpp>
#include <analyzer/util/text.hpp>
#include <analyzer/util/escape.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace virtdeny::emit {

bool is_te_identifier(const std::string& s)
{
    if (s.empty() || s.size() > 128 || (s.front() >= '0' && s.front() <= '9')) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
}

std::string selinux_allow_rule(const model::Finding& f)
{
    if (!kb::allow_rule_expressible(f)) {
        return {};
    }
    const std::string source(correlate::context_type(f.subject));
    const std::string target(correlate::context_type(f.tcontext));
    const std::string object = target == source ? "self" : target;
    return "allow " + source + " " + object + ":" + f.tclass + " { " + util::join(f.permissions, " ") + " };";
}

namespace {

bool is_vm_type(const std::string& type)
{
    return type == "svirt_t" || type == "svirt_tcg_t" || type == "svirt_kvm_t" || type == "svirt_qemu_net_t";
}

bool is_virt_image_type(const std::string& type)
{
    return type == "svirt_image_t" || type == "virt_image_t" || type == "virt_content_t" || type == "svirt_home_t"
        || type == "svirt_tmpfs_t" || type == "svirt_tmp_t" || type == "qemu_var_run_t";
}

bool read_only(const std::vector<std::string>& perms)
{
    static const std::set<std::string> k_read = {"read", "open", "getattr", "search", "ioctl", "lock", "map"};
    return std::all_of(perms.begin(), perms.end(), [](const std::string& p) { return k_read.count(p) != 0; });
}

std::string sanitize_word(const std::string& s)
{
    std::string out;
    for (unsigned char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (c >= 'A' && c <= 'Z') {
            out.push_back(static_cast<char>(c - 'A' + 'a'));
        } else if (ok) {
            out.push_back(static_cast<char>(c));
        } else if (!out.empty() && out.back() != '_') {
            out.push_back('_');
        }
    }
    while (!out.empty() && out.back() == '_') {
        out.pop_back();
    }
    if (out.size() > 40) {
        out.resize(40);
    }
    return out;
}

std::string vm_word(const std::string& vm_name, const std::string& vm_uuid)
{
    std::string word = sanitize_word(vm_name);
    if (word.empty()) {
        word = sanitize_word(vm_uuid.substr(0, 8));
    }
    if (word.empty()) {
        word = "vm";
    }
    if (word.front() >= '0' && word.front() <= '9') {
        word = "vm" + word;
    }
    return word;
}

} // namespace

std::optional<model::Fix> selinux_relabel_fix(const model::Finding& f)
{
    const std::string source(correlate::context_type(f.subject));
    const std::string target(correlate::context_type(f.tcontext));
    static const std::set<std::string> k_file_classes = {"file", "dir", "blk_file", "lnk_file", "sock_file"};
    if (f.mac != model::Mac::selinux || !f.domain || f.path.empty() || f.path.front() != '/'
        || !k_file_classes.count(f.tclass) || !is_vm_type(source) || is_virt_image_type(target)) {
        return std::nullopt;
    }
    const bool tree = f.tclass == "dir" && f.device_hints.shared_tree;
    const std::string regex = util::selinux_fcontext_regex(f.path, tree);
    if (regex.empty()) {
        return std::nullopt;
    }
    const bool content = read_only(f.permissions)
        && f.device_hints.read_only_content;
    const std::string type = content ? "virt_content_t" : "svirt_image_t";
    std::string path = f.path;
    while (path.size() > 1 && path.back() == '/') {
        path.pop_back();
    }
    model::Fix fix;
    fix.kind = "selinux-fcontext";
    fix.scope = model::Scope::domain;
    fix.text = "semanage fcontext -a -t " + type + " " + util::shell_quote(regex) + "\nrestorecon " + (tree ? "-R " : "")
        + "-v " + util::shell_quote(path);
    fix.note = "Labels " + std::string(tree ? "this tree" : "this file") + " as a VM " + (content ? "read-only content" : "image")
        + " (" + type + ", now " + target + ") so the VM may use it without any new rule; libvirt adds the VM's "
        "own MCS categories when it starts the VM, and the label survives a relabel.";
    return fix;
}

std::string selinux_vm_type(const std::string& vm_name, const std::string& vm_uuid)
{
    return "svirt_" + vm_word(vm_name, vm_uuid) + "_t";
}

std::string selinux_module_name(const std::string& vm_name, const std::string& vm_uuid)
{
    if (vm_name.empty() && vm_uuid.empty()) {
        return "virtdeny_host";
    }
    return "virtdeny_" + vm_word(vm_name, vm_uuid);
}

std::string selinux_seclabel_xml(const std::string& own_type)
{
    return "<seclabel type='dynamic' model='selinux' relabel='yes'>\n"
           "  <baselabel>system_u:system_r:" + own_type + ":s0</baselabel>\n"
           "</seclabel>\n";
}

SelinuxModule selinux_module(const std::string& name, const std::string& own_type,
                             const std::vector<const model::Finding*>& findings)
{
    SelinuxModule mod;
    mod.name = name;
    mod.own_type = own_type;
    std::set<std::string> types;
    std::map<std::string, std::set<std::string>> classes;  // class -> perms
    // (source, target, class) -> perms, in first-seen order
    std::vector<std::pair<std::string, std::vector<std::string>>> rules;
    bool uses_own = false;
    for (const auto* fp : findings) {
        const model::Finding& f = *fp;
        if (f.mac != model::Mac::selinux) {
            continue;
        }
        std::string source(correlate::context_type(f.subject));
        std::string target(correlate::context_type(f.tcontext));
        if (!is_te_identifier(source) || !is_te_identifier(target) || !is_te_identifier(f.tclass)) {
            continue;
        }
        const bool perms_ok = !f.permissions.empty()
            && std::all_of(f.permissions.begin(), f.permissions.end(), [](const std::string& p) { return is_te_identifier(p); });
        if (!perms_ok) {
            continue;
        }
        const bool self = source == target;
        if (!own_type.empty() && is_vm_type(source)) {
            source = own_type;
            uses_own = true;
        } else {
            types.insert(source);
        }
        std::string object = self ? "self" : target;
        if (!self) {
            types.insert(target);
        }
        const std::string key = source + " " + object + ":" + f.tclass;
        auto it = std::find_if(rules.begin(), rules.end(), [&](const auto& r) { return r.first == key; });
        if (it == rules.end()) {
            rules.emplace_back(key, std::vector<std::string>{});
            it = rules.end() - 1;
        }
        for (const auto& p : f.permissions) {
            if (std::find(it->second.begin(), it->second.end(), p) == it->second.end()) {
                it->second.push_back(p);
            }
            classes[f.tclass].insert(p);
        }
    }
    if (uses_own) {
        types.insert("qemu_exec_t");
        classes["file"].insert("entrypoint");
    }
    std::string te = "module " + name + " 1.0;\n\nrequire {\n";
    for (const auto& t : types) {
        te += "    type " + t + ";\n";
    }
    if (uses_own) {
        te += "    role system_r;\n";
        for (const char* a : {"application_domain_type", "domain", "mcs_constrained_type", "virt_domain"}) {
            te += std::string("    attribute ") + a + ";\n";
        }
    }
    for (const auto& [cls, perms] : classes) {
        te += "    class " + cls + " {";
        for (const auto& p : perms) {
            te += " " + p;
        }
        te += " };\n";
    }
    te += "}\n\n";
    std::string cil;
    if (uses_own) {
        te += "# This VM's own type: a virt domain like svirt_t / svirt_tcg_t (it gets every rule those\n"
              "# get through the virt_domain attribute), plus only the accesses that were denied.\n"
              "# Rules the policy writes for svirt_t by name are not inherited: start the VM once with\n"
              "# `semanage permissive -a " + own_type + "` to see whether any are missing.\n";
        te += "type " + own_type + ";\n";
        te += "typeattribute " + own_type + " application_domain_type, domain, mcs_constrained_type, virt_domain;\n";
        te += "role system_r types " + own_type + ";\n";
        te += "allow " + own_type + " qemu_exec_t:file { entrypoint };\n";
        cil += "(type " + own_type + ")\n(roletype system_r " + own_type + ")\n";
        for (const char* a : {"application_domain_type", "domain", "mcs_constrained_type", "virt_domain"}) {
            cil += std::string("(typeattributeset ") + a + " (" + own_type + "))\n";
        }
        cil += "(allow " + own_type + " qemu_exec_t (file (entrypoint)))\n";
    }
    for (const auto& [key, perms] : rules) {
        std::string list;
        for (const auto& p : perms) {
            list += (list.empty() ? "" : " ") + p;
        }
        const std::string rule = "allow " + key + " { " + list + " };";
        mod.rules.push_back(rule);
        te += rule + "\n";
        const std::size_t sp = key.find(' ');
        const std::size_t colon = key.find(':');
        cil += "(allow " + key.substr(0, sp) + " " + key.substr(sp + 1, colon - sp - 1) + " (" + key.substr(colon + 1)
            + " (" + list + ")))\n";
    }
    mod.te = te;
    mod.cil = cil;
    return mod;
}

} // namespace virtdeny::emit
