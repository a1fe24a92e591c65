#include <analyzer/emit/apparmor_writer.hpp>

#include <analyzer/correlate/correlator.hpp>
#include <analyzer/util/text.hpp>

#include <algorithm>
#include <cstdio>

namespace virtdeny::emit {

std::string apparmor_quote_path(const std::string& path)
{
    std::string out = "\"";
    for (unsigned char c : path) {
        switch (c) {
        case '*':
        case '?':
        case '[':
        case ']':
        case '{':
        case '}':
        case '^':
        case '"':
        case '\\':
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
            break;
        default:
            if (c < 0x20 || c == 0x7f || c >= 0x80) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\%03o", c);
                out += buf;
            } else {
                out.push_back(static_cast<char>(c));
            }
        }
    }
    out.push_back('"');
    return out;
}

std::string apparmor_file_perms(const model::Finding& f)
{
    bool r = false;
    bool w = false;
    bool a = false;
    bool l = false;
    bool k = false;
    bool m = false;
    bool x = false;
    for (const auto& p : f.permissions) {
        if (p == "read") {
            r = true;
        } else if (p == "write" || p == "create" || p == "delete") {
            w = true;
        } else if (p == "append") {
            a = true;
        } else if (p == "link") {
            l = true;
        } else if (p == "lock") {
            k = true;
        } else if (p == "mmap_exec") {
            m = true;
        } else if (p == "exec") {
            x = true;
        }
    }
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

namespace {

bool is_word(const std::string& s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

} // namespace

AppArmorRule apparmor_rule(const model::Finding& f)
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
    if (f.tclass == "file" && !f.path.empty() && f.path.front() == '/') {
        const std::string perms = apparmor_file_perms(f);
        if (perms.empty()) {
            return rule;
        }
        const bool owner = d.fsuid && d.ouid && *d.fsuid == *d.ouid;
        rule.text = std::string(owner ? "owner " : "") + apparmor_quote_path(f.path) + " " + perms + ",";
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

} // namespace virtdeny::emit
