// A normalised denial: one SELinux AVC / USER_AVC / SELINUX_ERR or one AppArmor
// DENIED / ALLOWED record, with every field virtdeny models.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace virtdeny::model {

enum class Mac : std::uint8_t { selinux, apparmor };

inline const char* to_string(Mac mac)
{
    return mac == Mac::selinux ? "selinux" : "apparmor";
}

struct Denial
{
    Mac mac = Mac::selinux;
    bool enforced = true;         // false: permissive=1 or AppArmor ALLOWED (complain)
    std::string record_type;      // AVC, USER_AVC, SELINUX_ERR, APPARMOR_DENIED, 1400, ...
    std::string node;             // empty when the record had none
    bool has_stamp = false;
    std::int64_t time_ms = 0;
    std::uint64_t serial = 0;
    std::uint64_t line = 0;       // line number in its input
    std::uint32_t input = 0;      // index of the input it came from
    std::uint64_t seq = 0;        // order of arrival over the whole run
    // Read from another tool's summary, not an audit record (ingest/summary_forms.hpp):
    // "setroubleshoot", "aa-notify" or "aureport"; empty for a record. Such a denial has only
    // the fields its summary carries (setroubleshoot: no contexts, no pid).
    std::string summary;
    std::string raw_command;      // for a summary: the command that prints the raw record

    // process
    std::int64_t pid = -1;
    std::string comm;
    std::string exe;

    // SELinux
    std::string scontext;
    std::string tcontext;
    std::string tclass;
    std::vector<std::string> permissions;  // SELinux permissions in record order
    std::string path;                      // path= (full) when present
    std::string name;                      // name= (AppArmor: the object path)
    std::string dev;
    std::string ino;
    std::string ioctlcmd;

    // AppArmor
    std::string apparmor;        // DENIED / ALLOWED / ...
    std::string operation;
    std::string profile;
    std::string name2;           // target= / name2=
    std::string requested_mask;
    std::string denied_mask;
    std::optional<std::int64_t> fsuid;
    std::optional<std::int64_t> ouid;
    std::optional<int> capability;
    std::string capname;
    std::string family;
    std::string sock_type;
    std::string protocol;
    std::string signal;
    std::string peer;
    std::string peer_addr;       // unix sockets: the peer's address (a socket path or @abstract)
    std::string info;
    std::optional<int> error;
    std::string aa_class;        // class= (newer kernels)
    std::optional<std::int64_t> parent;
    std::string bus;             // dbus
    std::string dbus_path;
    std::string interface;
    std::string member;
    std::string fstype;
    std::string flags;
    std::string srcname;
};

} // namespace virtdeny::model
