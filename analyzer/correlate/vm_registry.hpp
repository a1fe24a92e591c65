// What libvirt's own audit records (VIRT_MACHINE_ID, VIRT_CONTROL, VIRT_RESOURCE) say about
// VMs: uuid -> name, each run's QEMU pid with its start and stop, its SELinux MCS label and
// the host paths libvirt granted it.
#pragma once

#include <analyzer/correlate/libvirt_log.hpp>
#include <analyzer/ingest/record.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace virtdeny::correlate {

struct VmInstance
{
    std::string node;
    std::string name;
    std::string uuid;
    std::string vm_level;   // MCS level of vm-ctx ("s0:c23,c892"), empty for AppArmor/DAC
    std::string img_level;  // MCS level of img-ctx
    std::int64_t pid = -1;
    std::int64_t first_ms = 0;
    std::int64_t start_ms = -1;
    std::int64_t stop_ms = -1;
    std::vector<std::string> paths;  // VIRT_RESOURCE path= (disks, shares, devices)
};

// The MCS level of a context ("system_u:system_r:svirt_t:s0:c23,c892" -> "s0:c23,c892").
std::string_view mcs_level(std::string_view context);
// The type of a context ("system_u:system_r:svirt_t:s0:c23,c892" -> "svirt_t").
std::string_view context_type(std::string_view context);

class VmRegistry
{
public:
    static constexpr std::size_t k_max_instances = 200000;
    // Slack around a start record: QEMU is running (and may be denied) shortly before
    // libvirt writes VIRT_CONTROL op=start.
    static constexpr std::int64_t k_start_slack_ms = 120000;

    static constexpr std::size_t k_max_logged = 100000;

    // VIRT_* records, and libvirtd/virtqemud "Domain id=N name='X' uuid=U" lines (libvirt_log).
    void add(const ingest::Record& record);
    void add_logged(const LoggedDomain& domain);
    // The domains libvirt's own log lines named (id of their last start).
    const std::vector<LoggedDomain>& logged() const { return m_logged; }

    // The VM run whose QEMU had this pid at time_ms, or nullptr.
    const VmInstance* by_pid(std::string_view node, std::int64_t pid, std::int64_t time_ms) const;
    // The VM whose vm-ctx or img-ctx MCS level equals level, nearest in time.
    const VmInstance* by_level(std::string_view node, std::string_view level, std::int64_t time_ms) const;
    // A VM name for a uuid (any node first matching node), empty when unknown.
    std::string name_of(std::string_view node, std::string_view uuid) const;
    // Changes each time a VM run with this pid starts or stops: denials with different
    // generations must not be merged before they are correlated.
    std::uint32_t pid_generation(std::string_view node, std::int64_t pid) const;
    std::size_t instance_count() const { return m_instances.size(); }
    const std::vector<VmInstance>& instances() const { return m_instances; }
    std::uint64_t dropped() const { return m_dropped; }

private:
    VmInstance* current(std::string_view node, std::string_view uuid, bool create, std::int64_t time_ms);
    static std::string key(std::string_view node, std::string_view x);

    std::vector<VmInstance> m_instances;
    std::unordered_map<std::string, std::size_t> m_current;           // node|uuid -> instance index
    std::unordered_map<std::string, std::vector<std::size_t>> m_by_pid; // node|pid -> instances
    std::unordered_map<std::string, std::uint32_t> m_generation;      // node|pid -> generation
    std::unordered_map<std::string, std::string> m_names;             // node|uuid -> name
    std::uint64_t m_dropped = 0;
    std::vector<LoggedDomain> m_logged;
};

} // namespace virtdeny::correlate
