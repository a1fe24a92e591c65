// QEMU's command line, from an event's PROCTITLE (argv joined with spaces, cut by the kernel at
// 128 bytes) or EXECVE record (the whole argv, exact argument bounds): which VM it runs.
//   libvirt:    -name guest=NAME,debug-threads=on   -uuid UUID   (older: -name NAME)
//   Proxmox VE: /usr/bin/kvm -id VMID -name NAME,debug-threads=on ... (qemu-server's
//               config_to_command; -id is a no-op option of Proxmox's QEMU build, the VMID)
//   KubeVirt:   libvirt inside the virt-launcher pod, domain name NAMESPACE_VMNAME, sockets
//               under /var/run/kubevirt-private/ and /var/run/kubevirt/
// Only a command line whose program is QEMU (qemu-system-*, qemu-kvm, kvm) is read: another
// program's -name says nothing about a VM.
#pragma once

#include <string>
#include <string_view>

namespace virtdeny::correlate {

struct QemuCommandLine
{
    bool qemu = false;         // argv[0] is QEMU's program
    std::string name;          // -name guest=NAME / -name NAME (libvirt's ",," unescaped)
    std::string uuid;          // -uuid UUID (well-formed only)
    std::string proxmox_vmid;  // -id VMID (Proxmox VE), digits only
    bool kubevirt = false;     // an argument names a KubeVirt pod path
    bool empty() const { return name.empty() && uuid.empty() && proxmox_vmid.empty(); }
};

// A PROCTITLE: argv joined with spaces. A value the kernel may have cut (the title is 127
// bytes or more and the value runs to its end) is not trusted; a name with a space is read
// only up to libvirt's ",debug-threads=" (or another comma) before the next option.
QemuCommandLine parse_qemu_cmdline(std::string_view proctitle);

// An EXECVE's argv, arguments separated by NUL bytes (ingest::execve_command_line): whole.
QemuCommandLine parse_qemu_argv(std::string_view argv);

// KubeVirt's libvirt domain name NAMESPACE_VMNAME -> "NAMESPACE/VMNAME" (Kubernetes names have
// no '_', so the first one splits); empty when name has no '_' or an empty side.
std::string kubevirt_vm_name(std::string_view domain_name);

} // namespace virtdeny::correlate
