// One audit record as found in a line of input: its type, node, stamp and body.
// Views point into the line and are valid only while the line is.
#pragma once

#include <cstdint>
#include <string_view>

namespace virtdeny::ingest {

enum class RecordType : std::uint8_t {
    other,
    avc,              // AVC / 1400: SELinux avc: or AppArmor apparmor=
    user_avc,         // USER_AVC / 1107
    selinux_err,      // SELINUX_ERR / 1401, USER_SELINUX_ERR / 1122
    apparmor_legacy,  // APPARMOR_* / 1500-1507 (AppArmor 2.x)
    syslog_denial,    // no audit type: "apparmor=..." or "avc: ..." in a daemon's syslog line
    syscall,          // SYSCALL / 1300
    cwd,              // CWD / 1307
    path,             // PATH / 1302
    proctitle,        // PROCTITLE / 1327
    execve,           // EXECVE / 1309: the argv of an execve (a0=... a1=...)
    avc_path,         // AVC_PATH / 1402
    sockaddr,         // SOCKADDR / 1306
    eoe,              // EOE / 1320
    virt_control,     // VIRT_CONTROL / 2500
    virt_resource,    // VIRT_RESOURCE / 2501
    virt_machine_id,  // VIRT_MACHINE_ID / 2502
    libvirt_log,      // not audit: a libvirtd/virtqemud line "Domain id=N name='X' uuid=U" (body: the line)
};

inline bool is_denial_type(RecordType t)
{
    return t == RecordType::avc || t == RecordType::user_avc || t == RecordType::selinux_err
        || t == RecordType::apparmor_legacy || t == RecordType::syslog_denial;
}

inline bool is_sibling_type(RecordType t)
{
    return t == RecordType::syscall || t == RecordType::cwd || t == RecordType::path || t == RecordType::proctitle
        || t == RecordType::avc_path || t == RecordType::sockaddr || t == RecordType::execve;
}

inline bool is_virt_type(RecordType t)
{
    return t == RecordType::virt_control || t == RecordType::virt_resource || t == RecordType::virt_machine_id
        || t == RecordType::libvirt_log;
}

struct Record
{
    RecordType type = RecordType::other;
    std::string_view type_name;  // as written: "AVC", "1400", "APPARMOR_DENIED", ...
    std::string_view node;       // node= / host= prefix; empty when none
    bool has_stamp = false;      // msg=audit(SEC.MS:SERIAL) present
    std::int64_t time_ms = 0;    // epoch milliseconds (from the stamp, or the syslog date)
    std::uint64_t serial = 0;
    std::string_view body;       // text after "): " (ENRICHED part removed)
    std::string_view enriched;   // text after the 0x1d separator, if any
};

} // namespace virtdeny::ingest
