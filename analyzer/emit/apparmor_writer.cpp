#include <analyzer/emit/apparmor_writer.hpp>

#include <analyzer/correlate/correlator.hpp>
#include <analyzer/correlate/domain_xml.hpp>
#include <analyzer/util/escape.hpp>
#include <analyzer/util/text.hpp>

#include <algorithm>
#include <cstdio>
#include <map>

namespace virtdeny::emit {

std::string apparmor_quote_file_path(const std::string& path)
{
    std::string canonical;
    canonical.reserve(path.size());
    for (char c : path) {
        if (c == '/' && !canonical.empty() && canonical.back() == '/') {
            continue;  // the kernel never reports "//"; apparmor_parser keeps a leading one
        }
        canonical.push_back(c);
    }
    return util::apparmor_path(canonical);
}

namespace {

constexpr const char* k_perm_order = "rwalkmx";

std::string canonical_perms(bool r, bool w, bool a, bool l, bool k, bool m, bool x)
{
    std::string out;
    if (r) {
        out += 'r';
    }
    if (w) {
        out += 'w';
    } else if (a) {
        out += 'a';
    }
    if (l) {
        out += 'l';
    }
    if (k) {
        out += 'k';
    }
    if (m) {
        out += 'm';
    }
    if (x) {
        out += "ix";
    }
    return out;
}

std::string perms_from_letters(const std::string& letters)
{
    auto has = [&](char c) { return letters.find(c) != std::string::npos; };
    return canonical_perms(has('r'), has('w') || has('c') || has('d'), has('a'), has('l'), has('k'), has('m'),
                           has('x'));
}

} // namespace

std::string apparmor_mask_perms(const std::string& mask)
{
    std::string letters;
    for (char c : mask) {
        if (std::string("rwacdlkmx").find(c) != std::string::npos) {
            letters.push_back(c);
        }
    }
    return perms_from_letters(letters);
}

std::string apparmor_merge_perms(const std::string& a, const std::string& b)
{
    std::string letters;
    for (const std::string* s : {&a, &b}) {
        for (char c : *s) {
            if (c != 'i' && std::string(k_perm_order).find(c) != std::string::npos) {
                letters.push_back(c);
            }
        }
    }
    return perms_from_letters(letters);
}

std::string apparmor_file_perms(const model::Finding& f)
{
    std::string letters;
    for (const auto& p : f.permissions) {
        if (p == "read") {
            letters += 'r';
        } else if (p == "write" || p == "create" || p == "delete") {
            letters += 'w';
        } else if (p == "append") {
            letters += 'a';
        } else if (p == "link") {
            letters += 'l';
        } else if (p == "lock") {
            letters += 'k';
        } else if (p == "mmap_exec") {
            letters += 'm';
        } else if (p == "exec") {
            letters += 'x';
        }
    }
    return perms_from_letters(letters);
}

namespace {

bool is_word(const std::string& s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

// Words of a signal / ptrace / unix / dbus access list that AppArmor knows.
std::string access_list(const std::vector<std::string>& words, std::initializer_list<const char*> known)
{
    std::string out;
    for (const auto& w : words) {
        const bool ok = std::any_of(known.begin(), known.end(), [&](const char* k) { return w == k; });
        if (ok && out.find(w) == std::string::npos) {
            out += (out.empty() ? "" : " ") + w;
        }
    }
    return out;
}

bool is_owner(const model::Finding& f)
{
    const model::Denial& d = f.sample;
    return d.fsuid && d.ouid && *d.fsuid == *d.ouid;
}

std::string peer_clause(const std::string& peer)
{
    if (peer.empty() || peer == "unconfined") {
        return peer.empty() ? "" : " peer=unconfined";
    }
    return " peer=" + util::apparmor_path(peer);
}

// mount options=(...) from the record's flags="rw, nosuid, nodev" (words only).
std::string mount_options(const std::string& flags)
{
    std::string out;
    std::string word;
    auto flush = [&]() {
        if (is_word(word)) {
            out += (out.empty() ? "" : ",") + word;
        }
        word.clear();
    };
    for (char c : flags) {
        if (c == ',' || c == ' ') {
            flush();
        } else {
            word.push_back(c);
        }
    }
    flush();
    return out;
}

} // namespace

namespace {

// A D-Bus value made only of the characters D-Bus allows in it (object paths: A-Z a-z 0-9 _ /;
// bus, interface and member names: A-Z a-z 0-9 _ . - and ':' for unique names), none of
// which is an AppArmor glob character; anything else gets no rule at all.
bool is_dbus_value(const std::string& v, bool object_path)
{
    if (v.empty() || v.size() > 255 || (object_path && v.front() != '/')) {
        return false;
    }
    return std::all_of(v.begin(), v.end(), [object_path](unsigned char c) {
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        return alnum || (object_path ? c == '/' : (c == '.' || c == '-' || c == ':'));
    });
}

} // namespace

// dbus (send) bus=system path="/org/..." interface="..." member="..." peer=(name="..."),
// with every conditional the denial names, so it allows only that one method call.
std::string dbus_rule(const model::Finding& f)
{
    const model::Denial& d = f.sample;
    const std::string access = access_list(f.permissions, {"send", "receive", "bind", "eavesdrop"});
    if (access.empty() || (d.bus != "system" && d.bus != "session")) {
        return {};
    }
    std::string text = "dbus (" + access + ") bus=" + d.bus;
    if (!d.dbus_path.empty()) {
        if (!is_dbus_value(d.dbus_path, true)) {
            return {};
        }
        text += " path=\"" + d.dbus_path + "\"";
    }
    for (const auto& [key, value] : {std::pair<const char*, const std::string*>{"interface", &d.interface},
                                     {"member", &d.member}}) {
        if (!value->empty()) {
            if (!is_dbus_value(*value, false)) {
                return {};
            }
            text += std::string(" ") + key + "=\"" + *value + "\"";
        }
    }
    if (access != "bind" && !d.name.empty()) {
        if (!is_dbus_value(d.name, false)) {
            return {};
        }
        text += " peer=(name=\"" + d.name + "\")";
    }
    return text + ",";
}

AppArmorRule apparmor_rule(const model::Finding& f, const std::string& extra_letters)
{
    AppArmorRule rule;
    const model::Denial& d = f.sample;
    if (f.tclass == "cap") {
        for (const auto& p : f.permissions) {
            if (is_word(p)) {
                rule.text += (rule.text.empty() ? "" : "\n") + ("capability " + p + ",");
            }
        }
        return rule;
    }
    if (f.tclass == "net" && d.family != "unix") {
        std::string text = "network";
        if (is_word(d.family)) {
            text += " " + d.family;
            if (is_word(d.sock_type)) {
                text += " " + d.sock_type;
            }
        }
        rule.text = text + ",";
        return rule;
    }
    if (f.tclass == "unix" || (f.tclass == "net" && d.family == "unix")) {
        std::string access = access_list(f.permissions, {"create", "bind", "listen", "accept", "connect", "shutdown",
                                                         "getattr", "setattr", "getopt", "setopt", "send",
                                                         "receive"});
        std::string text = "unix";
        if (!access.empty()) {
            text += " (" + access + ")";
        }
        if (is_word(d.sock_type)) {
            text += " type=" + d.sock_type;
        }
        if (!d.peer.empty() && d.peer != "unconfined") {
            text += " peer=(label=" + util::apparmor_path(d.peer) + ")";
        }
        rule.text = text + ",";
        return rule;
    }
    if (f.tclass == "signal") {
        const std::string access = access_list(f.permissions, {"send", "receive"});
        std::string text = "signal";
        if (!access.empty()) {
            text += " (" + access + ")";
        }
        if (is_word(d.signal)) {
            text += " set=(" + d.signal + ")";
        }
        rule.text = text + peer_clause(d.peer) + ",";
        return rule;
    }
    if (f.tclass == "ptrace") {
        std::string access = access_list(f.permissions, {"read", "trace", "readby", "tracedby"});
        // kernels before 4.13 log operation="ptrace" with no mask and the peer as target=:
        // that check covered both reading and tracing the peer
        const std::string peer = !d.peer.empty() ? d.peer : d.name2;
        if (access.empty()) {
            access = "read trace";
        }
        rule.text = "ptrace (" + access + ")" + peer_clause(peer) + ",";
        return rule;
    }
    if (f.tclass == "dbus") {
        rule.text = dbus_rule(f);
        return rule;
    }
    if (f.tclass == "mount") {
        const std::string target = !f.path.empty() ? f.path : d.name;
        if (target.empty() || target.front() != '/') {
            return rule;
        }
        if (d.operation == "umount") {
            rule.text = "umount " + util::apparmor_path(target) + ",";
            return rule;
        }
        std::string text = "mount";
        if (is_word(d.fstype)) {
            text += " fstype=" + d.fstype;
        }
        const std::string options = mount_options(d.flags);
        if (!options.empty()) {
            text += " options=(" + options + ")";
        }
        if (!d.srcname.empty()) {
            text += " " + util::apparmor_path(d.srcname);
        }
        rule.text = text + " -> " + util::apparmor_path(target) + ",";
        return rule;
    }
    if (f.tclass == "file" && !f.path.empty() && f.path.front() == '/') {
        const std::string perms = apparmor_merge_perms(apparmor_file_perms(f), extra_letters);
        if (perms.empty()) {
            return rule;
        }
        rule.glob = apparmor_quote_file_path(f.path);
        rule.perms = perms;
        rule.text = std::string(is_owner(f) ? "owner " : "") + rule.glob + " " + perms + ",";
    }
    return rule;
}

std::string apparmor_target_file(const model::Finding& f)
{
    const std::string& profile = f.subject;
    auto uuid = correlate::libvirt_profile_uuid(profile);
    if (!uuid.empty()) {
        return "/etc/apparmor.d/libvirt/libvirt-" + std::string(uuid);
    }
    std::string base = profile.substr(0, profile.find("//"));
    if (base == "/usr/sbin/libvirtd" || base == "libvirtd") {
        return "/etc/apparmor.d/local/usr.sbin.libvirtd";
    }
    if (base == "/usr/sbin/virtqemud" || base == "virtqemud") {
        return "/etc/apparmor.d/local/usr.sbin.virtqemud";
    }
    if (base == "virt-aa-helper" || base == "/usr/lib/libvirt/virt-aa-helper") {
        return "/etc/apparmor.d/local/usr.lib.libvirt.virt-aa-helper";
    }
    if (!base.empty() && base.front() == '/') {
        std::string name = base.substr(1);
        std::replace(name.begin(), name.end(), '/', '.');
        return "/etc/apparmor.d/local/" + name;
    }
    return {};
}

std::string apparmor_profile_file(const model::Finding& f)
{
    const std::string target = apparmor_target_file(f);
    const std::string local = "/etc/apparmor.d/local/";
    if (util::starts_with(target, local)) {
        return "/etc/apparmor.d/" + target.substr(local.size());
    }
    return target;
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
        s.target_file = apparmor_target_file(f);
        s.profile_file = apparmor_profile_file(f);
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
            AppArmorRule r = apparmor_rule(f);
            if (r.text.empty()) {
                continue;
            }
            // several capability lines come as one text; merge each line once
            std::size_t start = 0;
            while (start < r.text.size()) {
                std::size_t nl = r.text.find('\n', start);
                const std::string line = r.text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
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
        const std::string perms = apparmor_file_perms(f);
        if (perms.empty()) {
            continue;
        }
        bool owner = is_owner(f);
        std::string pattern;
        std::string reason;
        bool glob = false;
        std::string dir;
        if (is_memfd_fallback(f, dir) && owner) {
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
            pattern = apparmor_quote_file_path(f.path);
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
            it->perms = apparmor_merge_perms(it->perms, perms);
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
