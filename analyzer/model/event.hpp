// An audit event: the records that share (node, serial), reduced to what virtdeny uses.
#pragma once

#include <analyzer/model/denial.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace virtdeny::model {

struct PathItem
{
    std::string name;
    std::string nametype;
    std::string obj;  // SELinux label of the object
};

struct Event
{
    std::string node;
    std::uint64_t serial = 0;
    std::int64_t time_ms = 0;
    std::vector<Denial> denials;

    // SYSCALL
    bool has_syscall = false;
    std::string arch;
    std::int64_t syscall = -1;
    std::int64_t pid = -1;
    std::int64_t ppid = -1;
    std::string comm;
    std::string exe;
    std::string subj;
    bool success = true;
    // CWD, PATH, AVC_PATH, PROCTITLE
    std::string cwd;
    std::vector<PathItem> paths;
    std::string avc_path;
    std::string proctitle;  // argv joined with spaces (NULs replaced)
    // EXECVE: the whole argv of an execve (not cut at 128 bytes like PROCTITLE), the arguments
    // separated by NUL bytes. An event with no denial and this set is a QEMU start (Scanner: an EXECVE that
    // looks like QEMU opens an event of its own).
    std::string execve;
};

} // namespace virtdeny::model
