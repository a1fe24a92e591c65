#include <analyzer/kb/apparmor_grant.hpp>

#include <analyzer/correlate/correlator.hpp>
#include <analyzer/util/escape.hpp>
#include <analyzer/util/text.hpp>

#include <algorithm>

namespace virtdeny::kb {

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

std::string apparmor_file_glob(const std::string& path)
{
    // /proc/PID[/task/TID]/...: the next start has other ids; the variables of
    // tunables/kernelvars (included by every libvirt profile through tunables/global) match any
    const auto digits = [&](std::size_t from) {
        std::size_t to = from;
        while (to < path.size() && path[to] >= '0' && path[to] <= '9') {
            ++to;
        }
        // a real id: no leading zero, at most PID_MAX_LIMIT (4194304), as @{pid} matches
        const bool whole = to > from && to - from <= 7 && path[from] != '0' && (to == path.size() || path[to] == '/')
            && std::stoul(path.substr(from, to - from)) <= 4194304;
        return whole ? to : std::string::npos;
    };
    if (path.rfind("/proc/", 0) != 0) {
        return apparmor_quote_file_path(path);
    }
    const std::size_t pid_end = digits(6);
    if (pid_end == std::string::npos) {
        return apparmor_quote_file_path(path);
    }
    std::string glob = "/proc/@{pid}";
    std::size_t rest = pid_end;
    if (path.compare(pid_end, 6, "/task/") == 0) {
        const std::size_t tid_end = digits(pid_end + 6);
        if (tid_end != std::string::npos) {
            glob += "/task/@{tid}";
            rest = tid_end;
        }
    }
    const std::string tail = apparmor_quote_file_path(path.substr(rest).empty() ? std::string() : path.substr(rest));
    // tail is "\"...\"": splice its inside after the variables
    return "\"" + glob + tail.substr(1, tail.size() - 2) + "\"";
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

void add(model::Grant& g, const char* key, const std::string& value)
{
    g.conditions.emplace_back(key, value);
}

// dbus (send) bus=system path="/org/..." interface="..." member="..." peer=(name="..."),
// with every conditional the denial names, so it allows only that one method call.
bool dbus_grant(const model::Finding& f, model::Grant& g)
{
    const model::Denial& d = f.sample;
    const std::string access = access_list(f.permissions, {"send", "receive", "bind", "eavesdrop"});
    if (access.empty() || (d.bus != "system" && d.bus != "session")) {
        return false;
    }
    add(g, "access", access);
    add(g, "bus", d.bus);
    if (!d.dbus_path.empty()) {
        if (!is_dbus_value(d.dbus_path, true)) {
            return false;
        }
        add(g, "path", d.dbus_path);
    }
    for (const auto& [key, value] : {std::pair<const char*, const std::string*>{"interface", &d.interface},
                                     {"member", &d.member}}) {
        if (!value->empty()) {
            if (!is_dbus_value(*value, false)) {
                return false;
            }
            add(g, key, *value);
        }
    }
    if (access != "bind" && !d.name.empty()) {
        if (!is_dbus_value(d.name, false)) {
            return false;
        }
        add(g, "name", d.name);
    }
    return true;
}

// The words of a rule of a class other than file; false when none can be written.
bool other_grant(const model::Finding& f, model::Grant& g)
{
    const model::Denial& d = f.sample;
    if (f.tclass == "cap") {
        g.tclass = "capability";
        for (const auto& p : f.permissions) {
            if (is_word(p)) {
                add(g, "capability", p);
            }
        }
        return !g.conditions.empty();
    }
    if (f.tclass == "net" && d.family != "unix") {
        g.tclass = "network";
        if (is_word(d.family)) {
            add(g, "family", d.family);
            if (is_word(d.sock_type)) {
                add(g, "type", d.sock_type);
            }
        }
        return true;
    }
    if (f.tclass == "unix" || (f.tclass == "net" && d.family == "unix")) {
        g.tclass = "unix";
        const std::string access = access_list(f.permissions, {"create", "bind", "listen", "accept", "connect",
                                                               "shutdown", "getattr", "setattr", "getopt", "setopt",
                                                               "send", "receive"});
        if (!access.empty()) {
            add(g, "access", access);
        }
        if (is_word(d.sock_type)) {
            add(g, "type", d.sock_type);
        }
        if (!d.peer.empty() && d.peer != "unconfined") {
            add(g, "peer_label", d.peer);
        }
        return true;
    }
    if (f.tclass == "signal") {
        g.tclass = "signal";
        const std::string access = access_list(f.permissions, {"send", "receive"});
        if (!access.empty()) {
            add(g, "access", access);
        }
        if (is_word(d.signal)) {
            add(g, "set", d.signal);
        }
        if (!d.peer.empty()) {
            add(g, "peer", d.peer);
        }
        return true;
    }
    if (f.tclass == "ptrace") {
        g.tclass = "ptrace";
        const std::string access = access_list(f.permissions, {"read", "trace", "readby", "tracedby"});
        // kernels before 4.13 log operation="ptrace" with no mask and the peer as target=:
        // that check covered both reading and tracing the peer
        const std::string peer = !d.peer.empty() ? d.peer : d.name2;
        add(g, "access", access.empty() ? std::string("read trace") : access);
        if (!peer.empty()) {
            add(g, "peer", peer);
        }
        return true;
    }
    if (f.tclass == "dbus") {
        g.tclass = "dbus";
        return dbus_grant(f, g);
    }
    if (f.tclass == "mount") {
        const std::string target = !f.path.empty() ? f.path : d.name;
        if (target.empty() || target.front() != '/') {
            return false;
        }
        if (d.operation == "umount") {
            g.tclass = "umount";
            add(g, "target", target);
            return true;
        }
        g.tclass = "mount";
        if (is_word(d.fstype)) {
            add(g, "fstype", d.fstype);
        }
        const std::string options = mount_options(d.flags);
        if (!options.empty()) {
            add(g, "options", options);
        }
        if (!d.srcname.empty()) {
            add(g, "source", d.srcname);
        }
        add(g, "target", target);
        return true;
    }
    return false;
}

} // namespace

model::Grant apparmor_rule_grant(const model::Finding& f, const std::string& extra_letters)
{
    model::Grant g;
    if (f.tclass == "file") {
        const std::string perms = f.path.empty() || f.path.front() != '/'
            ? std::string()
            : apparmor_merge_perms(apparmor_file_perms(f), extra_letters);
        if (!perms.empty()) {
            g.kind = model::GrantKind::apparmor_rule;
            g.tclass = "file";
            g.targets = {apparmor_file_glob(f.path)};
            g.perms = {perms};
            g.owner = is_owner(f);
        }
        return g;
    }
    if (other_grant(f, g)) {
        g.kind = model::GrantKind::apparmor_rule;
    } else {
        g = model::Grant{};
    }
    return g;
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

} // namespace virtdeny::kb
