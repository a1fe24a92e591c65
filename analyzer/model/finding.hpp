// A finding: all denials with the same node, domain, MAC, subject, object and class,
// their permissions merged; plus what virtdeny concluded about it.
#pragma once

#include <analyzer/model/denial.hpp>
#include <analyzer/model/device.hpp>
#include <analyzer/model/fix.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace virtdeny::model {

struct DomainRef
{
    std::string name;  // empty when unknown
    std::string uuid;  // empty when unknown
    std::string via;   // virt-pid, vm-ctx, apparmor-profile, seclabel, execve, proctitle, proxmox-id,
                       // kubevirt, libvirt-xml, libvirt-api, lxd-profile, path-guess, proxmox-path (docs/json.md)
};

struct Finding
{
    std::string node;             // empty = null
    Mac mac = Mac::selinux;
    bool enforced = false;        // true when any occurrence was enforced
    std::optional<DomainRef> domain;
    bool host_level = false;      // libvirtd / virtqemud / their helpers
    std::string subject;          // full scontext or profile
    std::string comm;
    std::string exe;
    std::vector<std::int64_t> pids;
    std::string path;             // object path, empty = null
    std::string tcontext;         // empty = null
    std::string tclass;
    std::vector<std::string> permissions;
    std::string operation;        // AppArmor operation (first seen), empty = null
    std::string device = k_unknown_device;
    // What set the kind: "xml" (the domain XML names the path as this device), "cause" (a known
    // cause of this denial), "class" (the denial's class, e.g. a capability), "path" (only a path
    // pattern: a guess); empty for k_unknown_device
    std::string device_via;
    DeviceHints device_hints;     // what the writers do with this kind (from the vocabulary)
    std::uint64_t count = 0;
    std::int64_t first_seen_ms = 0;
    std::int64_t last_seen_ms = 0;
    std::uint64_t first_seq = 0;  // arrival order of the first denial
    // Read from another tool's summary (Denial::summary), not an audit record: "setroubleshoot",
    // "aa-notify", "aureport"; empty when any of its denials was a record. JSON from_summary.
    std::string from_summary;
    std::string explanation;
    std::string rule_id;          // knowledge-base rule that explained it, if any
    std::vector<Fix> fixes;

    Denial sample;                // the first denial, for the advisor and writers
    std::string proctitle;        // QEMU command line, when the event carried one
    std::string execve;           // the event's EXECVE argv (NUL-separated), when it carried one
    std::string xml_source;       // the domain XML device source (file or tree) holding path, if any
};

} // namespace virtdeny::model
