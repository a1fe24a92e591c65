// Finding -> which VM (or the host's libvirt daemons), using every signal in the order of docs/correlation.md:
// VIRT_* records (pid, vm-ctx), libvirt-<uuid> profiles, MCS of scontext, QEMU's
// command line (EXECVE, PROCTITLE), other managers (Proxmox VE, KubeVirt, LXD), domain XML and paths.
#pragma once

#include <analyzer/correlate/qemu_cmdline.hpp>
#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/model/finding.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace virtdeny::correlate {

class DomainXmlIndex;

// "libvirt-2afa1131-bc8c-43d2-9c4a-962c1bf7723e" (also a child "libvirt-UUID//..."): the uuid.
std::string_view libvirt_profile_uuid(std::string_view profile);

// A process of a KubeVirt virt-launcher pod: SELinux type virt_launcher.process, or the
// virt-launcher / virt-launcher-monitor programs.
bool in_kubevirt_pod(const model::Finding& finding);

// The VM a QEMU command line names (via: the signal, "execve" or "proctitle"): Proxmox VE's
// -id VMID (via proxmox-id), KubeVirt's NAMESPACE_NAME as "NAMESPACE/NAME" (via kubevirt) when
// kubevirt or the command line names a KubeVirt path, else -name/-uuid.
std::optional<model::DomainRef> domain_from_cmdline(const QemuCommandLine& cmd, const char* via, bool kubevirt);

// libvirtd, virtqemud and their helpers (by AppArmor profile, SELinux type or command).
bool is_libvirt_daemon(const model::Finding& finding);

// A finding of a VM (svirt MCS categories, libvirt-<uuid> profile) that no signal named:
// follow asks libvirt again (--connect) for a VM started since.
bool names_unknown_vm(const model::Finding& finding);

class Correlator
{
public:
    Correlator(const VmRegistry& registry, const DomainXmlIndex* xml) : m_registry(registry), m_xml(xml) {}

    // Sets finding.domain (or host_level) from the finding's sample denial, pids, time
    // and proctitle.
    void correlate(model::Finding& finding) const;

private:
    // Step 4: QEMU's command line (EXECVE, PROCTITLE, the pid's QEMU start, the pod's QEMU).
    std::optional<model::DomainRef> from_command_line(const model::Finding& finding) const;
    // Step 6: the VM a libvirt path names (see correlate/libvirt_log.hpp), or nothing.
    std::optional<model::DomainRef> guess_domain(const std::string& node, std::string_view path) const;

    const VmRegistry& m_registry;
    const DomainXmlIndex* m_xml;
};

} // namespace virtdeny::correlate
