#include <analyzer/correlate/libvirt_log.hpp>

#include <analyzer/util/text.hpp>

namespace virtdeny::correlate {

using util::ends_with;
using util::starts_with;

namespace {


bool all_digits(std::string_view s)
{
    if (s.empty() || s.size() > 9) {
        return false;
    }
    for (char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

// A name as libvirt allows it in a path component: no '/', no control characters.
bool plausible_name(std::string_view s)
{
    if (s.empty() || s == "." || s == "..") {
        return false;
    }
    for (unsigned char c : s) {
        if (c == '/' || c < 0x20 || c == 0x7f) {
            return false;
        }
    }
    return true;
}

// "<id>-<name>" (virDomainDefGetShortName) into guess.
bool split_short_name(std::string_view s, PathGuess& guess)
{
    const std::size_t dash = s.find('-');
    if (dash == std::string_view::npos || !all_digits(s.substr(0, dash))) {
        return false;
    }
    const std::string_view name = s.substr(dash + 1);
    const std::size_t chars = utf8_length(name);
    if (!plausible_name(name) || chars > k_short_name_max) {
        return false;
    }
    guess.id = std::stoll(std::string(s.substr(0, dash)));
    guess.name = std::string(name);
    // cut at 20 characters, or at 20 bytes where libvirtd's locale cannot read the name as
    // multibyte text (virDomainDefGetShortName falls back to "%.*s")
    guess.truncated = chars == k_short_name_max || name.size() == k_short_name_max;
    return true;
}

// The path component after prefix (which ends with '/'), or empty.
std::string_view component_after(std::string_view path, std::string_view prefix)
{
    if (!starts_with(path, prefix)) {
        return {};
    }
    std::string_view rest = path.substr(prefix.size());
    return rest.substr(0, rest.find('/'));
}

} // namespace

std::size_t utf8_length(std::string_view s)
{
    std::size_t n = 0;
    for (unsigned char c : s) {
        n += (c & 0xC0) != 0x80;
    }
    return n;
}

std::optional<LoggedDomain> parse_domain_line(std::string_view line)
{
    const std::size_t at = line.find("Domain id=");
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view rest = line.substr(at + 10);
    const std::size_t space = rest.find(' ');
    if (space == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view id = rest.substr(0, space);
    rest = rest.substr(space + 1);
    if (!starts_with(rest, "name='")) {
        return std::nullopt;  // "Domain id=7 is tainted" (QEMU's own log): no name
    }
    rest = rest.substr(6);
    // the name ends at "' uuid=": a name may itself hold a quote
    const std::size_t end = rest.find("' uuid=");
    if (end == std::string_view::npos || end == 0 || end > 1024) {
        return std::nullopt;
    }
    LoggedDomain d;
    d.name = std::string(rest.substr(0, end));
    const std::string_view uuid = rest.substr(end + 7, 36);
    if (!util::is_uuid(uuid)) {
        return std::nullopt;
    }
    for (unsigned char c : d.name) {
        if (c < 0x20 || c == 0x7f) {
            return std::nullopt;  // not a line libvirt wrote as is
        }
    }
    d.uuid = std::string(uuid);
    d.id = all_digits(id) ? std::stoll(std::string(id)) : -1;
    return d;
}

PathGuess guess_from_path(std::string_view path)
{
    PathGuess g;
    // per-VM directories named by virDomainDefGetShortName
    static constexpr std::string_view k_domain_dirs[] = {
        "/var/lib/libvirt/qemu/domain-",
        "/var/lib/libvirt/qemu/channel/target/domain-",
        "/run/libvirt/qemu/domain-",
        "/var/run/libvirt/qemu/domain-",
    };
    for (std::string_view prefix : k_domain_dirs) {
        const std::string_view part = component_after(path, prefix);
        if (!part.empty() && split_short_name(part, g)) {
            g.signal = "domain-dir";
            return g;
        }
        g = PathGuess{};
    }
    // the swtpm socket and pid file: <swtpmStateDir>/<id>-<name>-swtpm.sock
    for (std::string_view dir : {std::string_view("/run/libvirt/qemu/swtpm/"), std::string_view("/var/run/libvirt/qemu/swtpm/")}) {
        const std::string_view file = component_after(path, dir);
        if (file.size() == path.size() - dir.size()) {
            for (std::string_view suffix : {std::string_view("-swtpm.sock"), std::string_view("-swtpm.pid")}) {
                if (ends_with(file, suffix) && split_short_name(file.substr(0, file.size() - suffix.size()), g)) {
                    g.signal = "swtpm-socket";
                    return g;
                }
                g = PathGuess{};
            }
        }
    }
    // whole names: QEMU's log and the UEFI variables libvirt creates
    {
        const std::string_view dir = "/var/log/libvirt/qemu/";
        const std::string_view file = component_after(path, dir);
        if (file.size() == path.size() - dir.size() && ends_with(file, ".log") && file.size() > 4) {
            const std::string_view name = file.substr(0, file.size() - 4);
            if (plausible_name(name)) {
                g.name = std::string(name);
                g.signal = "qemu-log";
                return g;
            }
        }
    }
    {
        const std::string_view dir = "/var/lib/libvirt/qemu/nvram/";
        const std::string_view file = component_after(path, dir);
        if (file.size() == path.size() - dir.size() && ends_with(file, "_VARS.fd") && file.size() > 8) {
            const std::string_view name = file.substr(0, file.size() - 8);
            if (plausible_name(name)) {
                g.name = std::string(name);
                g.signal = "nvram";
                return g;
            }
        }
    }
    // TPM state: /var/lib/libvirt/swtpm/<uuid>/tpm2/...; nova's instance directory
    for (std::string_view dir : {std::string_view("/var/lib/libvirt/swtpm/"), std::string_view("/var/lib/nova/instances/")}) {
        const std::string_view uuid = component_after(path, dir);
        if (util::is_uuid(uuid)) {
            g.uuid = std::string(uuid);
            g.signal = dir[9] == 'n' ? "nova-instance" : "swtpm-state";
            return g;
        }
    }
    return g;
}

namespace {

// Proxmox VE VMIDs: 100 to 999999999 (qemu-server's pve-vmid format).
bool proxmox_vmid(std::string_view s)
{
    return s.size() >= 3 && s.size() <= 9 && s.front() != '0' && all_digits(s);
}

// "vm-VMID-disk-N", "base-VMID-disk-N" (templates), "vm-VMID-cloudinit", "vm-VMID-state-..."
// with an image suffix or none (LVM, ZFS, RBD, iSCSI volumes): the VMID, else empty.
std::string_view proxmox_volume_vmid(std::string_view base)
{
    std::string_view rest;
    if (starts_with(base, "vm-")) {
        rest = base.substr(3);
    } else if (starts_with(base, "base-")) {
        rest = base.substr(5);
    } else {
        return {};
    }
    const std::size_t dash = rest.find('-');
    if (dash == std::string_view::npos || !proxmox_vmid(rest.substr(0, dash))) {
        return {};
    }
    std::string_view what = rest.substr(dash + 1);
    for (std::string_view suffix : {".qcow2", ".raw", ".vmdk"}) {
        if (ends_with(what, suffix)) {
            what.remove_suffix(suffix.size());
            break;
        }
    }
    if (starts_with(what, "disk-") && what.size() > 5 && all_digits(what.substr(5))) {
        return rest.substr(0, dash);
    }
    if (what == "cloudinit" || (starts_with(what, "state-") && what.size() > 6)) {
        return rest.substr(0, dash);
    }
    return {};
}

} // namespace

std::string proxmox_vmid_from_path(std::string_view path)
{
    // qemu-server's run directory: VMID.pid, VMID.qmp, VMID.vnc, VMID.qga, VMID.serial0, ...
    for (std::string_view dir : {std::string_view("/var/run/qemu-server/"), std::string_view("/run/qemu-server/")}) {
        if (starts_with(path, dir)) {
            const std::string_view file = path.substr(dir.size());
            const std::size_t dot = file.find('.');
            if (file.find('/') == std::string_view::npos && dot != std::string_view::npos && dot + 1 < file.size()
                && proxmox_vmid(file.substr(0, dot))) {
                return std::string(file.substr(0, dot));
            }
            return {};
        }
    }
    const std::size_t slash = path.rfind('/');
    const std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
    // directory storage (/var/lib/vz is "local"): <storage>/images/VMID/vm-VMID-disk-N.qcow2
    const std::size_t images = path.rfind("/images/");
    if (images != std::string_view::npos && slash != std::string_view::npos && slash > images + 8) {
        const std::string_view dir = path.substr(images + 8, slash - images - 8);
        const std::string_view vmid = proxmox_volume_vmid(base);
        if (!vmid.empty() && dir == vmid) {
            return std::string(vmid);
        }
        return {};
    }
    // block storage: LVM /dev/VG/vm-VMID-disk-N, ZFS /dev/zvol/POOL/.../vm-VMID-disk-N, and
    // device-mapper's /dev/mapper/VG-vm--VMID--disk--N (each '-' of the LV doubled)
    if (starts_with(path, "/dev/mapper/")) {
        const std::size_t at = base.find("-vm--");
        if (at == std::string_view::npos) {
            return {};
        }
        std::string lv;
        const std::string_view doubled = base.substr(at + 1);
        for (std::size_t i = 0; i < doubled.size(); ++i) {
            lv.push_back(doubled[i]);
            if (doubled[i] == '-') {
                if (i + 1 >= doubled.size() || doubled[i + 1] != '-') {
                    return {};  // a single '-' inside an LV name is not device-mapper's form
                }
                ++i;
            }
        }
        return std::string(proxmox_volume_vmid(lv));
    }
    if (starts_with(path, "/dev/")) {
        return std::string(proxmox_volume_vmid(base));
    }
    return {};
}

std::string lxd_instance(std::string_view profile)
{
    if (!starts_with(profile, "lxd-")) {
        return {};
    }
    const std::size_t end = profile.find("_<");
    if (end == std::string_view::npos || end <= 4 || !ends_with(profile, ">")) {
        return {};
    }
    const std::string_view name = profile.substr(4, end - 4);
    // LXD names: letters, digits, '-' ("_" only between project and instance)
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) {
            return {};
        }
    }
    return std::string(name);
}

} // namespace virtdeny::correlate
