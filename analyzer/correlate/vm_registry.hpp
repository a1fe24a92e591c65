// What libvirt's own audit records (VIRT_MACHINE_ID, VIRT_CONTROL, VIRT_RESOURCE) say about
// VMs: uuid -> name, each run's QEMU pid with its start and stop, its SELinux MCS label and
// the host paths libvirt granted it.
#pragma once

#include <analyzer/correlate/libvirt_log.hpp>
#include <analyzer/correlate/qemu_cmdline.hpp>
#include <analyzer/ingest/record.hpp>
#include <analyzer/model/event.hpp>

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

// A QEMU start seen in the log: an execve event (EXECVE record, without a denial) whose program
// is QEMU and whose command line names its VM. Valid for that pid from the exec on, as long as
// the denied process is still that program (a pid reused by another program is not the VM).
struct QemuExec
{
    std::string node;
    std::int64_t pid = -1;
    std::int64_t time_ms = 0;
    std::string exe;        // SYSCALL exe= of the exec
    std::string level;      // MCS level of SYSCALL subj= (in a KubeVirt pod: the pod's pair)
    std::string subj_type;  // SELinux type of subj= ("virt_launcher.process")
    QemuCommandLine cmd;
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
    // A QEMU execve event (EXECVE, no denial): remembered when its command line names a VM.
    void add_exec(const model::Event& event);
    // The QEMU start of this pid before time_ms (the latest), or nullptr.
    const QemuExec* exec_by_pid(std::string_view node, std::int64_t pid, std::int64_t time_ms) const;
    // The QEMU started in a KubeVirt pod whose SELinux MCS pair is level (every process of a
    // virt-launcher pod shares it), or nullptr; nullptr when two VMs had it.
    const QemuExec* exec_by_pod_level(std::string_view node, std::string_view level) const;
    static constexpr std::size_t k_max_execs = 100000;
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
    std::vector<QemuExec> m_execs;
    std::unordered_map<std::string, std::vector<std::size_t>> m_exec_by_pid;  // node|pid -> execs
};

} // namespace virtdeny::correlate
