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
        {"apparmor_rule", true, [](const TemplateContext& c) { return non_empty(emit::apparmor_rule(c.finding).text); }},
        {"apparmor_file", true, [](const TemplateContext& c) { return non_empty(emit::apparmor_target_file(c.finding)); }},
        {"selinux_allow", true, [](const TemplateContext& c) { return non_empty(emit::selinux_allow_rule(c.finding)); }},
        {"path_aa", true, [](const TemplateContext& c) {
             return c.finding.path.empty() ? std::nullopt : Value(emit::apparmor_quote_file_path(c.finding.path));
         }},
        {"path_quoted", true, [](const TemplateContext& c) {
             return c.finding.path.empty() ? std::nullopt : Value(util::shell_quote(c.finding.path));
         }},
        {"path_regex_quoted", true, [](const TemplateContext& c) {
             // the file-contexts regex of the path (whitespace as \xNN), then one shell word
             const std::string regex = util::selinux_fcontext_regex(c.finding.path);
             return regex.empty() ? std::nullopt : Value(util::shell_quote(regex));
         }},
        {"path_xml", true, [](const TemplateContext& c) {
             const std::string& path = c.finding.path;
             return path.empty() || !util::xml_representable(path) ? std::nullopt : Value(util::xml_escape(path));
         }},
        {"share_tree_rule", true, [](const TemplateContext& c) { return non_empty(share_tree_rule(c.finding, c.xml)); }},
        {"share_dir_xml", true, [](const TemplateContext& c) {
             const std::string root = share_root(c.finding, c.xml);
             return root.empty() || !util::xml_representable(root) ? std::nullopt : Value(util::xml_escape(root));
         }},
        {"share_tag_xml", true, [](const TemplateContext& c) {
             const std::string root = share_root(c.finding, c.xml);
             return root.empty() || !util::xml_representable(root) ? std::nullopt
                                                                   : Value(util::xml_escape(root.substr(root.rfind('/') + 1)));
         }},
        {"memfd_rule", true, [](const TemplateContext& c) { return non_empty(memfd_rule(c.finding)); }},
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

std::string share_tree_rule(const model::Finding& f, const correlate::DomainXmlIndex* xml)
{
    const std::string root = share_root(f, xml);
    if (root.empty()) {
        return {};
    }
    std::string quoted = util::apparmor_path(root + "/");
    quoted.insert(quoted.size() - 1, "{,**}");
    // only the denied permissions, for the tree (a link denial gets l, not rw)
    const std::string perms = emit::apparmor_file_perms(f);
    return perms.empty() ? std::string() : quoted + " " + perms + ",";
}

std::string memfd_rule(const model::Finding& f)
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
    const std::string perms = emit::apparmor_file_perms(f);  // only the denied permissions
    return perms.empty() ? std::string() : "owner " + quoted + " " + perms + ",";
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
