// What the log says about VMs outside the audit records: libvirtd/virtqemud's own lines
// ("Domain id=2 name='Win7VM' uuid=... is tainted: host-cpu": qemuDomainObjTaint's warnings, and any line of that form)
// and host paths that carry a VM's name or uuid (libvirt's per-VM directories and files).
//
// A path is a guess: a file of one VM may be opened by another. libvirt also cuts names in its
// "domain-<id>-<name>" directories (virDomainDefGetShortName: "%d-%.20s", the first 20
// characters, or 20 bytes where libvirtd's locale cannot decode the name), so a 20-character
// (or 20-byte) part there is only a prefix, matched against the names known
// from libvirt itself (--connect, --libvirt-xml, VIRT_* records, daemon lines), never taken as
// the name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace virtdeny::correlate {

// libvirt's VIR_DOMAIN_SHORT_NAME_MAX: characters of a name kept in domain-<id>-<name> paths.
constexpr std::size_t k_short_name_max = 20;

struct LoggedDomain
{
    std::int64_t id = -1;
    std::string name;
    std::string uuid;
};

// "Domain id=N name='NAME' uuid=UUID" anywhere in a line (syslog, journal, libvirtd.log). Only
// a well-formed uuid and a non-empty name are taken.
std::optional<LoggedDomain> parse_domain_line(std::string_view line);

// Cheap test before parse_domain_line: could the line be one?
inline bool may_name_domain(std::string_view line)
{
    return line.find("Domain id=") != std::string_view::npos;
}

struct PathGuess
{
    std::string name;       // the name, or with truncated the first 20 characters of it
    bool truncated = false; // a domain-<id>-<name> part of exactly 20 characters: a prefix only
    std::int64_t id = -1;   // the libvirt domain id in domain-<id>-<name>, else -1
    std::string uuid;       // from /var/lib/libvirt/swtpm/<uuid>/
    const char* signal = ""; // which path form: for the docs and the tests
    bool empty() const { return name.empty() && uuid.empty(); }
};

// The VM a libvirt-managed path belongs to, as far as the path says:
//   /var/lib/libvirt/qemu/domain-<id>-<name>/...         (QEMU's private dir: monitor, master key,
//                                                          virtiofsd sockets fsN-fs.sock)
//   /run/libvirt/qemu/domain-<id>-<name>/..., /var/run/... (runtime dirs)
//   /var/lib/libvirt/qemu/channel/target/domain-<id>-<name>/... (guest agent and other channels)
//   /run/libvirt/qemu/swtpm/<id>-<name>-swtpm.sock         (swtpm socket)
//   /var/log/libvirt/qemu/<name>.log                       (QEMU's log)
//   /var/lib/libvirt/qemu/nvram/<name>_VARS.fd             (UEFI variables)
//   /var/lib/libvirt/swtpm/<uuid>/...                      (TPM state)
//   /var/lib/nova/instances/<uuid>/...                     (OpenStack nova: the instance uuid is
//                                                          the libvirt domain's)
PathGuess guess_from_path(std::string_view path);

// Other managers of QEMU VMs:
// LXD's AppArmor profile of an instance, "lxd-NAME_</var/snap/lxd/common/lxd>" (or
// "lxd-PROJECT_NAME_<...>" outside the default project): "NAME" / "PROJECT_NAME", else empty.
// The same profile confines containers: only QEMU under it is a VM (the caller checks).
std::string lxd_instance(std::string_view profile);

// Proxmox VE's per-VM paths: the VMID they carry, else empty. A guess like guess_from_path:
//   /var/run/qemu-server/VMID.pid (.qmp, .vnc, .qga, .serial0, ...), /run/qemu-server/...
//   <storage>/images/VMID/vm-VMID-disk-N.qcow2 (.raw, .vmdk; /var/lib/vz/images/ is "local")
//   /dev/VG/vm-VMID-disk-N (LVM), /dev/mapper/VG-vm--VMID--disk--N, /dev/zvol/POOL/vm-VMID-disk-N
//   (also base-VMID-disk-N templates, vm-VMID-cloudinit, vm-VMID-state-NAME)
std::string proxmox_vmid_from_path(std::string_view path);

// Number of UTF-8 characters (libvirt cuts by characters, not bytes).
std::size_t utf8_length(std::string_view s);

} // namespace virtdeny::correlate
