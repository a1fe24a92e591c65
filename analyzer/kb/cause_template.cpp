#include <analyzer/kb/cause_template.hpp>

#include <analyzer/correlate/correlator.hpp>
#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/kb/apparmor_grant.hpp>
#include <analyzer/kb/selinux_words.hpp>
#include <analyzer/util/text.hpp>
#include <analyzer/util/escape.hpp>

#include <algorithm>
#include <functional>

namespace virtdeny::kb {

namespace {

using Value = std::optional<std::string>;
using Expander = std::function<Value(const TemplateContext&)>;

using model::TextForm;

struct Placeholder
{
    const char* name;
    bool safe_in_fix_text;
    TextForm form;    // how emit/fix_text writes the value (prose takes only literal ones)
    Expander expand;  // the value, or nullopt when this finding has no safe one
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
    if (!is_selinux_identifier(word)) {
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

// A rule placeholder: records the rule's grant (when there is one to record into) and
// returns its glob (file rules) or keyword, which tells rules apart in a fix's text.
Value rule_value(const TemplateContext& c, model::Grant rule)
{
    if (rule.kind != model::GrantKind::apparmor_rule) {
        return std::nullopt;
    }
    std::string key = rule.targets.empty() ? rule.tclass : rule.targets.front();
    if (c.grant) {
        *c.grant = std::move(rule);
    }
    return key;
}

const std::vector<Placeholder>& placeholders()
{
    static const std::vector<Placeholder> k_table = {
        // Raw log text: prose only.
        {"vm", false, TextForm::literal, [](const TemplateContext& c) {
             const std::string vm = vm_name(c.finding);
             return Value(vm.empty() ? "an unidentified VM" : vm);
         }},
        {"path", false, TextForm::literal, [](const TemplateContext& c) { return non_empty(c.finding.path); }},
        {"dir", false, TextForm::literal, [](const TemplateContext& c) { return non_empty(c.finding.path.empty() ? "" : parent_dir(c.finding.path)); }},
        {"perms", false, TextForm::literal, [](const TemplateContext& c) { return non_empty(join(c.finding.permissions, ", ")); }},
        {"comm", false, TextForm::literal, [](const TemplateContext& c) { return Value(c.finding.comm.empty() ? "the process" : c.finding.comm); }},
        {"exe", false, TextForm::literal, [](const TemplateContext& c) { return non_empty(c.finding.exe); }},
        {"profile", false, TextForm::literal, [](const TemplateContext& c) { return non_empty(c.finding.subject); }},
        {"operation", false, TextForm::literal, [](const TemplateContext& c) { return non_empty(c.finding.operation); }},
        {"device", false, TextForm::literal, [](const TemplateContext& c) { return non_empty(c.finding.device); }},
        {"tcontext", false, TextForm::literal, [](const TemplateContext& c) { return non_empty(c.finding.tcontext); }},
        {"share_dir", false, TextForm::literal, [](const TemplateContext& c) { return non_empty(share_root(c.finding, c.xml)); }},
        // Checked, or written escaped by emit/fix_text: usable in fix texts.
        {"uuid", true, TextForm::literal, [](const TemplateContext& c) {
             return c.finding.domain && is_uuid(c.finding.domain->uuid) ? Value(c.finding.domain->uuid) : std::nullopt;
         }},
        {"vm_quoted", true, TextForm::shell_word, [](const TemplateContext& c) { return non_empty(vm_name(c.finding)); }},
        {"subject_type", true, TextForm::literal, [](const TemplateContext& c) {
             return identifier(c.finding.mac == model::Mac::selinux ? correlate::context_type(c.finding.subject) : "");
         }},
        {"target_type", true, TextForm::literal, [](const TemplateContext& c) { return identifier(correlate::context_type(c.finding.tcontext)); }},
        {"tclass", true, TextForm::literal, [](const TemplateContext& c) { return identifier(c.finding.tclass); }},
        {"apparmor_rule", true, TextForm::apparmor_rule, [](const TemplateContext& c) {
             return rule_value(c, apparmor_rule_grant(c.finding, c.needs_apparmor));
         }},
        {"apparmor_file", true, TextForm::literal, [](const TemplateContext& c) { return non_empty(apparmor_target_file(c.finding)); }},
        {"selinux_allow", true, TextForm::selinux_allow, [](const TemplateContext& c) {
             return allow_rule_expressible(c.finding) ? Value(std::string()) : std::nullopt;
         }},
        {"path_aa", true, TextForm::apparmor_path, [](const TemplateContext& c) { return non_empty(c.finding.path); }},
        {"path_quoted", true, TextForm::shell_word, [](const TemplateContext& c) {
             // a bare name (name= without a directory) would act on the shell's working directory
             return c.finding.path.empty() || c.finding.path.front() != '/' ? std::nullopt : Value(c.finding.path);
         }},
        {"name_quoted", true, TextForm::shell_word, [](const TemplateContext& c) {
             // only for a record that names the file without its directory (name= only)
             const std::string& p = c.finding.path;
             return p.empty() || p.find('/') != std::string::npos ? std::nullopt : Value(p);
         }},
        {"path_regex_quoted", true, TextForm::shell_word, [](const TemplateContext& c) {
             // the file-contexts regex of the path (whitespace as \xNN), as one shell word
             return non_empty(util::selinux_fcontext_regex(c.finding.path));
         }},
        {"dir_quoted", true, TextForm::shell_word, [](const TemplateContext& c) {
             const std::string dir = c.finding.path.empty() ? std::string() : parent_dir(c.finding.path);
             return too_broad(dir) ? std::nullopt : Value(dir);
         }},
        {"dir_tree_regex_quoted", true, TextForm::shell_word, [](const TemplateContext& c) {
             const std::string dir = c.finding.path.empty() ? std::string() : parent_dir(c.finding.path);
             return too_broad(dir) ? std::nullopt : non_empty(util::selinux_fcontext_regex(dir, true));
         }},
        {"path_xml", true, TextForm::xml, [](const TemplateContext& c) {
             const std::string& path = c.finding.path;
             return path.empty() || !util::xml_representable(path) ? std::nullopt : Value(path);
         }},
        {"share_tree_rule", true, TextForm::apparmor_rule, [](const TemplateContext& c) {
             return rule_value(c, share_tree_grant(c.finding, c.xml, c.needs_apparmor));
         }},
        {"hugepages_rule", true, TextForm::apparmor_rule, [](const TemplateContext& c) {
             return rule_value(c, hugepages_grant(c.finding, c.needs_apparmor));
         }},
        {"hugetlbfs_mount", true, TextForm::literal, [](const TemplateContext& c) { return non_empty(hugetlbfs_mount_of(c.finding.path)); }},
        {"subject_level", true, TextForm::literal, [](const TemplateContext& c) {
             const std::string level(correlate::mcs_level(c.finding.subject));
             const bool ok = !level.empty() && level.find('-') == std::string::npos
                 && std::all_of(level.begin(), level.end(), [](char ch) {
                        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == ':' || ch == ',' || ch == '.';
                    });
             return ok ? Value(level) : std::nullopt;
         }},
        {"share_dir_xml", true, TextForm::xml, [](const TemplateContext& c) {
             const std::string root = share_root(c.finding, c.xml);
             return root.empty() || !util::xml_representable(root) ? std::nullopt : Value(root);
         }},
        {"share_tag_xml", true, TextForm::xml, [](const TemplateContext& c) {
             const std::string root = share_root(c.finding, c.xml);
             return root.empty() || !util::xml_representable(root) ? std::nullopt : Value(root.substr(root.rfind('/') + 1));
         }},
        {"memfd_rule", true, TextForm::apparmor_rule, [](const TemplateContext& c) {
             return rule_value(c, memfd_grant(c.finding, c.needs_apparmor));
         }},
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

// A file rule's grant: glob, letters, owner (the letters empty: no rule).
model::Grant file_rule(std::string glob, const std::string& perms, bool owner)
{
    model::Grant g;
    if (!perms.empty()) {
        g.kind = model::GrantKind::apparmor_rule;
        g.tclass = "file";
        g.targets = {std::move(glob)};
        g.perms = {perms};
        g.owner = owner;
    }
    return g;
}

} // namespace

model::Grant share_tree_grant(const model::Finding& f, const correlate::DomainXmlIndex* xml, const std::string& needs)
{
    const std::string root = share_root(f, xml);
    if (root.empty()) {
        return {};
    }
    std::string quoted = util::apparmor_path(root + "/");
    quoted.insert(quoted.size() - 1, "{,**}");
    // the denied permissions and what the share needs next (rule `needs`)
    return file_rule(quoted, apparmor_merge_perms(apparmor_file_perms(f), needs), false);
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

model::Grant hugepages_grant(const model::Finding& f, const std::string& needs)
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
    return file_rule(quoted, apparmor_merge_perms(apparmor_file_perms(f), needs), true);
}

model::Grant memfd_grant(const model::Finding& f, const std::string& needs)
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
    return file_rule(quoted, apparmor_merge_perms(apparmor_file_perms(f), needs), true);
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
            if (use != TemplateUse::prose && !p->safe_in_fix_text) {
                error = "placeholder {" + std::string(name)
                    + "} puts raw log text into a fix; use a quoting one ({path_quoted}, {path_aa}, {apparmor_rule}, ...)";
                return false;
            }
            if (use != TemplateUse::fix_text && p->form != TextForm::literal) {
                error = "placeholder {" + std::string(name) + "} is written only in a fix's text";
                return false;
            }
            return true;
        });
}

namespace {

// Binds text's placeholders: literal text and values go into literal, each other value
// (after the literal text before it) into parts; without parts (prose), one fails.
bool bind_parts(std::string_view text, const TemplateContext& context, std::string& literal,
                std::vector<model::TextPart>* parts)
{
    literal.reserve(text.size());
    return walk(
        text, [&](char c) { literal.push_back(c); },
        [&](std::string_view name) {
            const Placeholder* p = find_placeholder(name);
            if (!p || (p->form != TextForm::literal && !parts)) {
                return false;
            }
            Value v = p->expand(context);
            if (!v) {
                return false;
            }
            if (p->form != TextForm::literal) {
                if (!literal.empty()) {
                    parts->push_back({TextForm::literal, std::move(literal)});
                    literal.clear();
                }
                parts->push_back({p->form, std::move(*v)});
                return true;
            }
            // "of VM {vm}" with no VM known reads "of an unidentified VM", not "of VM an ..."
            if (name == "vm" && vm_name(context.finding).empty() && literal.size() >= 3 &&
                literal.compare(literal.size() - 3, 3, "VM ") == 0) {
                literal.resize(literal.size() - 3);
                if (literal.empty() || (literal.size() >= 2 && literal.compare(literal.size() - 2, 2, ". ") == 0)) {
                    literal += "An unidentified VM";  // it starts a sentence
                    return true;
                }
            }
            literal += *v;
            return true;
        });
}

} // namespace

std::optional<std::vector<model::TextPart>> bind_template(std::string_view text, const TemplateContext& context)
{
    std::vector<model::TextPart> parts;
    std::string literal;
    if (!bind_parts(text, context, literal, &parts)) {
        return std::nullopt;
    }
    if (!literal.empty()) {
        parts.push_back({TextForm::literal, std::move(literal)});
    }
    return parts;
}

std::optional<std::string> expand_template(std::string_view text, const TemplateContext& context)
{
    std::string out;
    if (!bind_parts(text, context, out, nullptr)) {
        return std::nullopt;
    }
    return out;
}

} // namespace virtdeny::kb
