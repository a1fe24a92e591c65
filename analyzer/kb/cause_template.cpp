#include <analyzer/kb/cause_template.hpp>

#include <analyzer/correlate/correlator.hpp>
#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/emit/apparmor_writer.hpp>
#include <analyzer/emit/selinux_writer.hpp>
#include <analyzer/util/text.hpp>
#include <analyzer/util/escape.hpp>

#include <algorithm>
#include <functional>

namespace virtdeny::kb {

namespace {

using Value = std::optional<std::string>;
using Expander = std::function<Value(const TemplateContext&)>;

struct Placeholder
{
    const char* name;
    bool safe_in_fix_text;
    Expander expand;
};

std::string join(const std::vector<std::string>& words, const char* sep)
{
    std::string out;
    for (const auto& w : words) {
        out += (out.empty() ? "" : sep) + w;
    }
    return out;
}

Value non_empty(std::string s)
{
    if (s.empty()) {
        return std::nullopt;
    }
    return s;
}

Value identifier(std::string_view s)
{
    const std::string word(s);
    if (!emit::is_selinux_identifier(word)) {
        return std::nullopt;
    }
    return word;
}

bool is_uuid(std::string_view s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-';
    });
}

std::string vm_name(const model::Finding& f)
{
    if (!f.domain) {
        return {};
    }
    return f.domain->name.empty() ? f.domain->uuid : f.domain->name;
}

std::string parent_dir(const std::string& path)
{
    std::string p = path;
    while (p.size() > 1 && p.back() == '/') {
        p.pop_back();
    }
    const std::size_t slash = p.rfind('/');
    if (slash == std::string::npos || slash == 0) {
        return "/";
    }
    return p.substr(0, slash);
}

const correlate::DomainInfo* domain_of(const model::Finding& f, const correlate::DomainXmlIndex* xml)
{
    if (!xml) {
        return nullptr;
    }
    const correlate::DomainInfo* dom = nullptr;
    if (f.domain && !f.domain->uuid.empty()) {
        dom = xml->by_uuid(f.domain->uuid);
    }
    if (!dom && f.domain && !f.domain->name.empty()) {
        dom = xml->by_name(f.domain->name);
    }
    if (!dom && !f.path.empty()) {
        dom = xml->by_path(f.path);
    }
    return dom;
}

// A directory too broad to grant as a tree: /, a top-level directory, a temp dir, a
// whole home directory.
bool too_broad(const std::string& dir)
{
    const std::size_t depth = static_cast<std::size_t>(std::count(dir.begin(), dir.end(), '/'));
    if (dir.empty() || dir.front() != '/' || depth < 2) {
        return true;
    }
    static const char* const k_broad[] = {"/tmp", "/var/tmp", "/dev/shm", "/var/lib", "/usr/share", "/run/user"};
    for (const char* b : k_broad) {
        if (dir == b) {
            return true;
        }
    }
    return (util::starts_with(dir, "/home/") && depth == 2) || dir == "/root";
}

const std::vector<Placeholder>& placeholders()
{
    static const std::vector<Placeholder> k_table = {
        // Raw log text: prose only.
        {"vm", false, [](const TemplateContext& c) {
             const std::string vm = vm_name(c.finding);
             return Value(vm.empty() ? "an unidentified VM" : vm);
         }},
        {"path", false, [](const TemplateContext& c) { return non_empty(c.finding.path); }},
        {"dir", false, [](const TemplateContext& c) { return non_empty(c.finding.path.empty() ? "" : parent_dir(c.finding.path)); }},
        {"perms", false, [](const TemplateContext& c) { return non_empty(join(c.finding.permissions, ", ")); }},
        {"comm", false, [](const TemplateContext& c) { return Value(c.finding.comm.empty() ? "the process" : c.finding.comm); }},
        {"exe", false, [](const TemplateContext& c) { return non_empty(c.finding.exe); }},
        {"profile", false, [](const TemplateContext& c) { return non_empty(c.finding.subject); }},
        {"operation", false, [](const TemplateContext& c) { return non_empty(c.finding.operation); }},
        {"device", false, [](const TemplateContext& c) { return non_empty(c.finding.device); }},
        {"tcontext", false, [](const TemplateContext& c) { return non_empty(c.finding.tcontext); }},
        {"share_dir", false, [](const TemplateContext& c) { return non_empty(share_root(c.finding, c.xml)); }},
        // Checked or escaped: usable in fix texts.
        {"uuid", true, [](const TemplateContext& c) {
             return c.finding.domain && is_uuid(c.finding.domain->uuid) ? Value(c.finding.domain->uuid) : std::nullopt;
         }},
        {"vm_quoted", true, [](const TemplateContext& c) {
             const std::string vm = vm_name(c.finding);
             return vm.empty() ? std::nullopt : Value(util::shell_quote(vm));
         }},
        {"subject_type", true, [](const TemplateContext& c) {
             return identifier(c.finding.mac == model::Mac::selinux ? correlate::context_type(c.finding.subject) : "");
         }},
        {"target_type", true, [](const TemplateContext& c) { return identifier(correlate::context_type(c.finding.tcontext)); }},
        {"tclass", true, [](const TemplateContext& c) { return identifier(c.finding.tclass); }},
        {"apparmor_rule", true, [](const TemplateContext& c) {
             const emit::AppArmorRule rule = emit::apparmor_rule(c.finding, c.needs_apparmor);
             if (c.grant && !rule.text.empty()) {
                 c.grant->kind = model::GrantKind::apparmor_rule;
                 c.grant->targets = rule.glob.empty() ? std::vector<std::string>{} : std::vector<std::string>{rule.glob};
                 c.grant->perms = rule.perms.empty() ? std::vector<std::string>{} : std::vector<std::string>{rule.perms};
             }
             return non_empty(rule.text);
         }},
        {"apparmor_file", true, [](const TemplateContext& c) { return non_empty(emit::apparmor_target_file(c.finding)); }},
        {"selinux_allow", true, [](const TemplateContext& c) { return non_empty(emit::selinux_allow_rule(c.finding)); }},
        {"path_aa", true, [](const TemplateContext& c) {
             return c.finding.path.empty() ? std::nullopt : Value(emit::apparmor_quote_file_path(c.finding.path));
         }},
        {"path_quoted", true, [](const TemplateContext& c) {
             // a bare name (name= without a directory) would act on the shell's working directory
             return c.finding.path.empty() || c.finding.path.front() != '/' ? std::nullopt
                                                                          : Value(util::shell_quote(c.finding.path));
         }},
        {"name_quoted", true, [](const TemplateContext& c) {
             // only for a record that names the file without its directory (name= only)
             const std::string& p = c.finding.path;
             return p.empty() || p.find('/') != std::string::npos ? std::nullopt : Value(util::shell_quote(p));
         }},
        {"path_regex_quoted", true, [](const TemplateContext& c) {
             // the file-contexts regex of the path (whitespace as \xNN), then one shell word
             const std::string regex = util::selinux_fcontext_regex(c.finding.path);
             return regex.empty() ? std::nullopt : Value(util::shell_quote(regex));
         }},
        {"dir_quoted", true, [](const TemplateContext& c) {
             const std::string dir = c.finding.path.empty() ? std::string() : parent_dir(c.finding.path);
             return too_broad(dir) ? std::nullopt : Value(util::shell_quote(dir));
         }},
        {"dir_tree_regex_quoted", true, [](const TemplateContext& c) {
             const std::string dir = c.finding.path.empty() ? std::string() : parent_dir(c.finding.path);
             const std::string regex = too_broad(dir) ? std::string() : util::selinux_fcontext_regex(dir, true);
             return regex.empty() ? std::nullopt : Value(util::shell_quote(regex));
         }},
        {"path_xml", true, [](const TemplateContext& c) {
             const std::string& path = c.finding.path;
             return path.empty() || !util::xml_representable(path) ? std::nullopt : Value(util::xml_escape(path));
         }},
        {"share_tree_rule", true, [](const TemplateContext& c) {
             return non_empty(share_tree_rule(c.finding, c.xml, c.needs_apparmor, c.grant));
         }},
        {"hugepages_rule", true, [](const TemplateContext& c) {
             return non_empty(hugepages_rule(c.finding, c.needs_apparmor, c.grant));
         }},
        {"hugetlbfs_mount", true, [](const TemplateContext& c) { return non_empty(hugetlbfs_mount_of(c.finding.path)); }},
        {"subject_level", true, [](const TemplateContext& c) {
             const std::string level(correlate::mcs_level(c.finding.subject));
             const bool ok = !level.empty() && level.find('-') == std::string::npos
                 && std::all_of(level.begin(), level.end(), [](char ch) {
                        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == ':' || ch == ',' || ch == '.';
                    });
             return ok ? Value(level) : std::nullopt;
         }},
        {"share_dir_xml", true, [](const TemplateContext& c) {
             const std::string root = share_root(c.finding, c.xml);
             return root.empty() || !util::xml_representable(root) ? std::nullopt : Value(util::xml_escape(root));
         }},
        {"share_tag_xml", true, [](const TemplateContext& c) {
             const std::string root = share_root(c.finding, c.xml);
             return root.empty() || !util::xml_representable(root) ? std::nullopt
                                                                   : Value(util::xml_escape(root.substr(root.rfind('/') + 1)));
         }},
        {"memfd_rule", true, [](const TemplateContext& c) { return non_empty(memfd_rule(c.finding, c.needs_apparmor, c.grant)); }},
    };
    return k_table;
}

const Placeholder* find_placeholder(std::string_view name)
{
    for (const auto& p : placeholders()) {
        if (name == p.name) {
            return &p;
        }
    }
    return nullptr;
}

bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || c == '_';
}

// Calls on_literal / on_placeholder for the parts of a template; stops when one returns false.
template <typename Literal, typename Name>
bool walk(std::string_view text, Literal on_literal, Name on_placeholder)
{
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == '{') {
            std::size_t j = i + 1;
            while (j < text.size() && is_name_char(text[j])) {
                ++j;
            }
            if (j > i + 1 && j < text.size() && text[j] == '}') {
                if (!on_placeholder(text.substr(i + 1, j - i - 1))) {
                    return false;
                }
                i = j + 1;
                continue;
            }
        }
        on_literal(text[i]);
        ++i;
    }
    return true;
}

} // namespace

const correlate::DomainInfo* domain_info(const model::Finding& f, const correlate::DomainXmlIndex* xml)
{
    return domain_of(f, xml);
}

std::string xml_device_source(const model::Finding& f, const correlate::DomainXmlIndex* xml)
{
    if (f.path.empty()) {
        return {};
    }
    const correlate::DomainInfo* dom = domain_of(f, xml);
    const correlate::DeviceSource* dev = dom ? correlate::DomainXmlIndex::device_at(*dom, f.path) : nullptr;
    return dev && !dev->raw_args ? dev->path : std::string();
}

std::string share_root(const model::Finding& f, const correlate::DomainXmlIndex* xml)
{
    if (f.path.empty() || f.path.front() != '/') {
        return {};
    }
    std::string root;
    if (const correlate::DomainInfo* dom = domain_of(f, xml)) {
        const correlate::DeviceSource* dev = correlate::DomainXmlIndex::device_at(*dom, f.path);
        if (dev && dev->tree) {
            root = dev->path;
        }
    }
    if (root.empty()) {
        root = f.path.back() == '/' ? f.path : parent_dir(f.path);
    }
    while (root.size() > 1 && root.back() == '/') {
        root.pop_back();
    }
    return too_broad(root) ? std::string() : root;
}

namespace {

std::string record(model::Grant* grant, std::string glob, const std::string& perms)
{
    if (grant && !perms.empty()) {
        grant->kind = model::GrantKind::apparmor_rule;
        grant->targets = {glob};
        grant->perms = {perms};
    }
    return glob;
}

} // namespace

std::string share_tree_rule(const model::Finding& f, const correlate::DomainXmlIndex* xml, const std::string& needs,
                            model::Grant* grant)
{
    const std::string root = share_root(f, xml);
    if (root.empty()) {
        return {};
    }
    std::string quoted = util::apparmor_path(root + "/");
    quoted.insert(quoted.size() - 1, "{,**}");
    // the denied permissions and what the share needs next (rule `needs`)
    const std::string perms = emit::apparmor_merge_perms(emit::apparmor_file_perms(f), needs);
    return perms.empty() ? std::string() : record(grant, quoted, perms) + " " + perms + ",";
}

std::string hugetlbfs_mount_of(const std::string& path)
{
    const std::size_t at = path.find("/libvirt/qemu/");
    const std::string mount = at == std::string::npos ? parent_dir(path) : path.substr(0, at);
    const bool plain = mount.size() > 1 && mount.front() == '/'
        && std::all_of(mount.begin(), mount.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/'
                   || c == '_' || c == '-' || c == '.';
           })
        && mount.find("..") == std::string::npos;
    return plain ? mount : std::string();
}

std::string hugepages_rule(const model::Finding& f, const std::string& needs, model::Grant* grant)
{
    // <mount>/libvirt/qemu/<id>-<short name>/<file>: the id changes at every start
    const std::size_t at = f.path.find("/libvirt/qemu/");
    if (at == std::string::npos || at == 0) {
        return {};
    }
    const std::size_t dir = at + std::string_view("/libvirt/qemu/").size();
    const std::size_t end = f.path.find('/', dir);
    if (end == std::string::npos) {
        return {};
    }
    const std::string entry = f.path.substr(dir, end - dir);
    const std::size_t dash = entry.find('-');
    if (dash == std::string::npos || dash == 0 || dash + 1 == entry.size()
        || !std::all_of(entry.begin(), entry.begin() + static_cast<std::ptrdiff_t>(dash),
                        [](char c) { return c >= '0' && c <= '9'; })) {
        return {};
    }
    const std::string quoted = "\"" + util::apparmor_glob_escape(f.path.substr(0, dir)) + "[0-9]*-"
        + util::apparmor_glob_escape(entry.substr(dash + 1)) + "/**\"";
    const std::string perms = emit::apparmor_merge_perms(emit::apparmor_file_perms(f), needs);
    return perms.empty() ? std::string() : "owner " + record(grant, quoted, perms) + " " + perms + ",";
}

std::string memfd_rule(const model::Finding& f, const std::string& needs, model::Grant* grant)
{
    const std::string& path = f.path;
    const std::size_t slash = path.rfind('/');
    if (slash == std::string::npos || !util::starts_with(std::string_view(path).substr(slash + 1), "memfd-")) {
        return {};
    }
    const std::string dir = path.substr(0, slash);
    if (dir != "/tmp" && dir != "/var/tmp" && dir != "/dev/shm") {
        return {};
    }
    std::string prefix = dir + "/memfd-";
    if (f.domain && is_uuid(f.domain->uuid) && util::starts_with(path, prefix + f.domain->uuid + "-")) {
        prefix += f.domain->uuid + "-";
    }
    // mkstemp's six random characters, as the policy writer (suggest) does; a name of another
    // length (a per-VM prefix, another QEMU) keeps the prefix and one '*' (no '/' can match)
    const std::size_t suffix = path.size() - prefix.size();
    const bool mkstemp_name = path.size() >= prefix.size() && suffix == 6 && path.find('/', prefix.size()) == std::string::npos;
    std::string quoted = util::apparmor_path(prefix);
    quoted.insert(quoted.size() - 1, mkstemp_name ? "??????" : "*");
    // the denied permissions and the rest of what mkstemp's file needs (rule `needs`: rw)
    const std::string perms = emit::apparmor_merge_perms(emit::apparmor_file_perms(f), needs);
    return perms.empty() ? std::string() : "owner " + record(grant, quoted, perms) + " " + perms + ",";
}

bool check_template(std::string_view text, TemplateUse use, std::string& error)
{
    return walk(
        text, [](char) {},
        [&](std::string_view name) {
            const Placeholder* p = find_placeholder(name);
            if (!p) {
                error = "unknown placeholder {" + std::string(name) + "}";
                return false;
            }
            if (use == TemplateUse::fix_text && !p->safe_in_fix_text) {
                error = "placeholder {" + std::string(name)
                    + "} puts raw log text into a fix; use a quoting one ({path_quoted}, {path_aa}, {apparmor_rule}, ...)";
                return false;
            }
            return true;
        });
}

std::optional<std::string> expand_template(std::string_view text, const TemplateContext& context)
{
    std::string out;
    const bool ok = walk(
        text, [&](char c) { out.push_back(c); },
        [&](std::string_view name) {
            const Placeholder* p = find_placeholder(name);
            if (!p) {
                return false;
            }
            Value v = p->expand(context);
            if (!v) {
                return false;
            }
            // "of VM {vm}" with no VM known reads "of an unidentified VM", not "of VM an ..."
            if (name == "vm" && vm_name(context.finding).empty() && out.size() >= 3 &&
                out.compare(out.size() - 3, 3, "VM ") == 0) {
                out.resize(out.size() - 3);
                if (out.empty() || (out.size() >= 2 && out.compare(out.size() - 2, 2, ". ") == 0)) {
                    out += "An unidentified VM";  // it starts a sentence
                    return true;
                }
            }
            out += *v;
            return true;
        });
    if (!ok) {
        return std::nullopt;
    }
    return out;
}

} // namespace virtdeny::kb
