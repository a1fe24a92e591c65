#include <analyzer/emit/apparmor_writer.hpp>

#include <analyzer/correlate/correlator.hpp>
#include <analyzer/correlate/domain_xml.hpp>
#include <analyzer/kb/apparmor_grant.hpp>
#include <analyzer/util/escape.hpp>
#include <analyzer/util/text.hpp>

#include <algorithm>
#include <cstdio>
#include <map>

namespace virtdeny::emit {

namespace {

// The value of a rule word of a grant, or null.
const std::string* condition(const model::Grant& g, std::string_view key)
{
    for (const auto& [k, v] : g.conditions) {
        if (k == key) {
            return &v;
        }
    }
    return nullptr;
}

std::string peer_clause(const std::string* peer)
{
    if (!peer) {
        return {};
    }
    return *peer == "unconfined" ? " peer=unconfined" : " peer=" + util::apparmor_path(*peer);
}

// " (send receive)" for an access list, empty without one.
std::string access_clause(const model::Grant& g)
{
    const std::string* access = condition(g, "access");
    return access ? " (" + *access + ")" : std::string();
}

// dbus (send) bus=system path="/org/..." interface="..." member="..." peer=(name="..."): its
// values hold only characters D-Bus allows (kb::apparmor_rule_grant), none of them special here.
std::string dbus_text(const model::Grant& g)
{
    std::string text = "dbus" + access_clause(g) + " bus=" + *condition(g, "bus");
    for (const char* key : {"path", "interface", "member"}) {
        if (const std::string* value = condition(g, key)) {
            text += std::string(" ") + key + "=\"" + *value + "\"";
        }
    }
    if (const std::string* name = condition(g, "name")) {
        text += " peer=(name=\"" + *name + "\")";
    }
    return text + ",";
}

std::string mount_text(const model::Grant& g)
{
    const std::string target = util::apparmor_path(*condition(g, "target"));
    if (g.tclass == "umount") {
        return "umount " + target + ",";
    }
    std::string text = "mount";
    if (const std::string* fstype = condition(g, "fstype")) {
        text += " fstype=" + *fstype;
    }
    if (const std::string* options = condition(g, "options")) {
        text += " options=(" + *options + ")";
    }
    if (const std::string* source = condition(g, "source")) {
        text += " " + util::apparmor_path(*source);
    }
    return text + " -> " + target + ",";
}

} // namespace

std::string apparmor_rule_text(const model::Grant& g)
{
    if (g.kind != model::GrantKind::apparmor_rule) {
        return {};
    }
    if (g.tclass == "file") {
        return g.targets.empty() || g.perms.empty()
            ? std::string()
            : std::string(g.owner ? "owner " : "") + g.targets.front() + " " + g.perms.front() + ",";
    }
    if (g.tclass == "capability") {
        std::string text;
        for (const auto& [key, name] : g.conditions) {
            text += (text.empty() ? "" : "\n") + ("capability " + name + ",");
        }
        return text;
    }
    if (g.tclass == "network") {
        std::string text = "network";
        for (const char* key : {"family", "type"}) {
            if (const std::string* word = condition(g, key)) {
                text += " " + *word;
            }
        }
        return text + ",";
    }
    if (g.tclass == "unix") {
        std::string text = "unix" + access_clause(g);
        if (const std::string* type = condition(g, "type")) {
            text += " type=" + *type;
        }
        if (const std::string* peer = condition(g, "peer_label")) {
            text += " peer=(label=" + util::apparmor_path(*peer) + ")";
        }
        return text + ",";
    }
    if (g.tclass == "signal") {
        std::string text = "signal" + access_clause(g);
        if (const std::string* set = condition(g, "set")) {
            text += " set=(" + *set + ")";
        }
        return text + peer_clause(condition(g, "peer")) + ",";
    }
    if (g.tclass == "ptrace") {
        return "ptrace" + access_clause(g) + peer_clause(condition(g, "peer")) + ",";
    }
    if (g.tclass == "dbus") {
        return dbus_text(g);
    }
    if (g.tclass == "mount" || g.tclass == "umount") {
        return mount_text(g);
    }
    return {};
}

std::string apparmor_rule(const model::Finding& f, const std::string& extra_letters)
{
    return apparmor_rule_text(kb::apparmor_rule_grant(f, extra_letters));
}

bool apparmor_glob_root_allowed(const std::string& dir_in)
{
    std::string dir = dir_in;
    while (dir.size() > 1 && dir.back() == '/') {
        dir.pop_back();
    }
    if (dir.empty() || dir.front() != '/' || dir.find("/..") != std::string::npos
        || dir.find("/./") != std::string::npos) {
        return false;
    }
    for (unsigned char c : dir) {
        if (c < 0x20 || c == 0x7f) {
            return false;
        }
    }
    static const char* const k_denied[] = {"/", "/tmp", "/var/tmp", "/dev/shm", "/home", "/root", "/run",
                                           "/var", "/srv", "/mnt", "/media", "/opt", "/usr", "/etc",
                                           "/var/lib", "/var/lib/libvirt", "/run/user"};
    for (const char* d : k_denied) {
        if (dir == d) {
            return false;
        }
    }
    const auto depth = std::count(dir.begin(), dir.end(), '/');
    if (depth < 2) {
        return false;
    }
    // a home directory itself (/home/<user>, /var/home/<user>, /run/user/<uid>)
    for (const char* home : {"/home/", "/var/home/", "/run/user/"}) {
        if (util::starts_with(dir, home) && dir.find('/', std::string(home).size()) == std::string::npos) {
            return false;
        }
    }
    return true;
}

namespace {

// QEMU's memfd fallback: <tmpdir>/memfd-XXXXXX from mkstemp (six random characters).
bool is_memfd_fallback(const model::Finding& f, std::string& dir)
{
    if (!f.device_hints.mkstemp_name || f.path.empty() || f.path.front() != '/') {
        return false;
    }
    const std::size_t slash = f.path.rfind('/');
    const std::string base = f.path.substr(slash + 1);
    if (base.size() != 12 || !util::starts_with(base, "memfd-")) {
        return false;
    }
    for (std::size_t i = 6; i < base.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(base[i]);
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
            return false;
        }
    }
    dir = f.path.substr(0, slash);
    return !dir.empty();
}

std::string parent_dir(const std::string& path)
{
    if (!path.empty() && path.back() == '/') {
        return path;
    }
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

// The directory a share denial names: the path itself when it is a directory, else its
// directory; without trailing slashes.
std::string own_share_dir(const std::string& path)
{
    std::string root = parent_dir(path);
    while (root.size() > 1 && root.back() == '/') {
        root.pop_back();
    }
    return root;
}

bool writes(const std::string& perms)
{
    return perms.find('w') != std::string::npos || perms.find('a') != std::string::npos;
}

const char* k_deny_warning =
    "virt-aa-helper writes `deny \"<file>\" w,` into libvirt-<uuid>.files for read-only disks and backing "
    "files; a deny rule beats any allow rule added later, and plain deny rules leave no log line. If the "
    "write is still refused without a new denial, the disk is read-only or a backing file in the domain "
    "XML: change the XML, not the profile.";

struct Pending
{
    std::string key;     // owner flag + pattern
    bool owner = false;
    std::string pattern; // quoted path or glob
    std::string perms;
    AppArmorEntry entry;
};

} // namespace

std::vector<AppArmorRuleSet> apparmor_rule_sets(const std::vector<const model::Finding*>& findings,
                                                const correlate::DomainXmlIndex* xml)
{
    std::vector<AppArmorRuleSet> sets;
    std::vector<std::vector<Pending>> pending;
    std::vector<std::vector<std::string>> other_rules;

    auto set_for = [&](const model::Finding& f) -> std::size_t {
        for (std::size_t i = 0; i < sets.size(); ++i) {
            if (sets[i].profile == f.subject) {
                return i;
            }
        }
        AppArmorRuleSet s;
        s.profile = f.subject;
        s.target_file = kb::apparmor_target_file(f);
        s.profile_file = kb::apparmor_profile_file(f);
        s.scope = f.host_level ? model::Scope::daemon : (f.domain ? model::Scope::domain : model::Scope::host);
        if (!correlate::libvirt_profile_uuid(f.subject).empty()) {
            s.scope = model::Scope::domain;
            s.domain_uuid = std::string(correlate::libvirt_profile_uuid(f.subject));
        }
        if (f.domain) {
            s.domain_name = f.domain->name;
            if (s.domain_uuid.empty()) {
                s.domain_uuid = f.domain->uuid;
            }
        }
        sets.push_back(std::move(s));
        pending.emplace_back();
        other_rules.emplace_back();
        return sets.size() - 1;
    };

    // the directories that share denials name, per profile (for findings XML does not place)
    std::map<std::string, std::vector<std::string>> share_dirs;
    for (const auto* f : findings) {
        if (f->mac == model::Mac::apparmor && f->tclass == "file" && f->device_hints.share_root &&
            !f->path.empty() && f->path.front() == '/') {
            share_dirs[f->subject].push_back(own_share_dir(f->path));
        }
    }

    auto share_root = [&](const model::Finding& f) -> std::string {
        if (xml && f.domain) {
            const correlate::DomainInfo* info = !f.domain->uuid.empty() ? xml->by_uuid(f.domain->uuid) : nullptr;
            if (!info && !f.domain->name.empty()) {
                info = xml->by_name(f.domain->name);
            }
            std::string p = f.path;
            while (p.size() > 1 && p.back() == '/') {
                p.pop_back();
            }
            const correlate::DeviceSource* dev = info ? correlate::DomainXmlIndex::device_at(*info, p) : nullptr;
            if (dev && dev->tree) {
                std::string root = dev->path;
                while (root.size() > 1 && root.back() == '/') {
                    root.pop_back();
                }
                return root;
            }
        }
        // no domain XML for it: the denied directory itself or the denied file's directory, or
        // the outermost such directory of the same profile that contains it (never a common
        // ancestor of unrelated shares, which could be far broader than any denial)
        std::string root = own_share_dir(f.path);
        const auto it = share_dirs.find(f.subject);
        if (it != share_dirs.end()) {
            for (const auto& d : it->second) {
                if (d.size() < root.size() && util::starts_with(root, d) && root[d.size()] == '/') {
                    root = d;
                }
            }
        }
        return root;
    };

    for (const auto* fp : findings) {
        const model::Finding& f = *fp;
        if (f.mac != model::Mac::apparmor) {
            continue;
        }
        const std::size_t si = set_for(f);
        if (f.tclass != "file") {
            const std::string text = apparmor_rule(f);
            if (text.empty()) {
                continue;
            }
            // several capability lines come as one text; merge each line once
            std::size_t start = 0;
            while (start < text.size()) {
                std::size_t nl = text.find('\n', start);
                const std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
                auto& seen = other_rules[si];
                if (std::find(seen.begin(), seen.end(), line) == seen.end()) {
                    seen.push_back(line);
                    AppArmorEntry e;
                    e.rule = line;
                    e.reason = "Allows only the denied " + f.tclass + " access.";
                    Pending p;
                    p.key = "\x01" + line;
                    p.entry = e;
                    pending[si].push_back(std::move(p));
                }
                if (nl == std::string::npos) {
                    break;
                }
                start = nl + 1;
            }
            continue;
        }
        if (f.path.empty() || f.path.front() != '/') {
            continue;
        }
        const model::Grant exact = kb::apparmor_rule_grant(f);
        if (exact.kind != model::GrantKind::apparmor_rule) {
            continue;
        }
        std::string perms = exact.perms.front();
        bool owner = exact.owner;
        std::string pattern;
        std::string reason;
        bool glob = false;
        std::string dir;
        // the advisor's checked file rule for this VM or daemon (the glob that survives the next
        // start, the letters with the device's follow-on needs), as explain prints it
        const auto checked = std::find_if(f.fixes.begin(), f.fixes.end(), [](const model::Fix& x) {
            return x.kind == "apparmor-rule" && x.effect == model::Effect::allows && x.scope != model::Scope::host
                && x.grant.kind == model::GrantKind::apparmor_rule && x.grant.tclass == "file"
                && x.grant.targets.size() == 1 && x.grant.perms.size() == 1;
        });
        if (checked != f.fixes.end()) {
            pattern = checked->grant.targets.front();
            perms = checked->grant.perms.front();
            owner = checked->grant.owner;
            glob = pattern != exact.targets.front();
            reason = checked->note;
        } else if (is_memfd_fallback(f, dir) && owner) {
            pattern = "\"" + util::apparmor_glob_escape(dir) + "/memfd-??????\"";
            glob = true;
            reason = "QEMU's memfd fallback creates " + dir + "/memfd-XXXXXX with a new random suffix at every "
                     "start (mkstemp, when the kernel has no memfd_create()), so one file name would not help "
                     "next time; the glob matches only six-character memfd- names, `owner` only files the VM's "
                     "own user created, and the rule sits in this VM's profile only. Better still: a kernel with "
                     "memfd_create() (3.17+) and a newer QEMU.";
        } else if (f.device_hints.share_root) {
            const std::string root = share_root(f);
            if (!root.empty() && apparmor_glob_root_allowed(root)) {
                pattern = "\"" + util::apparmor_glob_escape(root) + "/{,**}\"";
                glob = true;
                owner = false;
                reason = "The guest reads and writes anywhere in its 9p share " + root
                         + ", so the rule covers that one share tree (the directory and everything below it) "
                           "and nothing else on the host.";
            }
        }
        if (pattern.empty()) {
            pattern = exact.targets.front();
            reason = "Allows only the denied access to this one path.";
        }
        const std::string key = std::string(owner ? "o" : "-") + pattern;
        auto& list = pending[si];
        auto it = std::find_if(list.begin(), list.end(), [&](const Pending& p) { return p.key == key; });
        if (it == list.end()) {
            Pending p;
            p.key = key;
            p.owner = owner;
            p.pattern = pattern;
            p.perms = perms;
            p.entry.reason = reason;
            p.entry.glob = glob;
            p.entry.paths.push_back(f.path);
            list.push_back(std::move(p));
            it = list.end() - 1;
        } else {
            it->perms = kb::apparmor_merge_perms(it->perms, perms);
            if (std::find(it->entry.paths.begin(), it->entry.paths.end(), f.path) == it->entry.paths.end()) {
                it->entry.paths.push_back(f.path);
            }
        }
        if (writes(perms) && f.device_hints.guest_image) {
            it->entry.warning = k_deny_warning;
        }
    }

    for (std::size_t i = 0; i < sets.size(); ++i) {
        for (auto& p : pending[i]) {
            if (p.key.front() != '\x01') {
                p.entry.rule = std::string(p.owner ? "owner " : "") + p.pattern + " " + p.perms + ",";
            }
            sets[i].entries.push_back(std::move(p.entry));
        }
    }
    sets.erase(std::remove_if(sets.begin(), sets.end(), [](const AppArmorRuleSet& s) { return s.entries.empty(); }),
               sets.end());
    return sets;
}

std::string apparmor_comment(const std::string& text)
{
    // a comment must stay one line: a newline in a path would otherwise start a rule
    std::string out = "# ";
    for (unsigned char c : text) {
        out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
    }
    return out;
}

std::string apparmor_rules_text(const AppArmorRuleSet& set)
{
    std::string out;
    for (const auto& e : set.entries) {
        if (e.glob) {
            out += "  " + apparmor_comment(e.reason) + "\n";
        }
        if (!e.warning.empty()) {
            out += "  " + apparmor_comment("WARNING: " + e.warning) + "\n";
        }
        out += "  " + e.rule + "\n";
    }
    return out;
}

} // namespace virtdeny::emit
