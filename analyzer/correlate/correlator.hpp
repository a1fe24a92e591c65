// Finding -> which VM (or the host's libvirt daemons), using every signal in the order of docs/correlation.md:
// VIRT_* records (pid, vm-ctx), libvirt-<uuid> profiles, MCS of scontext, QEMU's
// command line (PROCTITLE), and domain XML.
#pragma once

#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/model/finding.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace virtdeny::correlate {

class DomainXmlIndex;

// "-name guest=NAME,..." / "-name NAME" and "-uuid U" from a QEMU command line.
// A value the kernel may have cut (it keeps 128 bytes) is not trusted.
struct QemuCommandLine
{
    std::string name;
    std::string uuid;
};
QemuCommandLine parse_qemu_cmdline(std::string_view proctitle);

// "libvirt-2afa1131-bc8c-43d2-9c4a-962c1bf7723e" (also a child "libvirt-UUID//..."): the uuid.
std::string_view libvirt_profile_uuid(std::string_view profile);

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
    // Step 6: the VM a libvirt path names (see correlate/libvirt_log.hpp), or nothing.
    std::optional<model::DomainRef> guess_domain(const std::string& node, std::string_view path) const;

    const VmRegistry& m_registry;
    const DomainXmlIndex* m_xml;
};

} // namespace virtdeny::correlate
