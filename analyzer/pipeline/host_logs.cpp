#include <analyzer/pipeline/host_logs.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace virtdeny::pipeline {

namespace {

// A regular file we can open for reading; else why not.
bool readable_file(const std::string& path, std::string& why)
{
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) {
        why = std::strerror(errno);
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        why = "not a regular file";
        return false;
    }
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        why = std::strerror(errno);
        return false;
    }
    ::close(fd);
    return true;
}

} // namespace

HostLogs find_host_logs(const std::string& root)
{
    HostLogs logs;
    std::string tried;
    const auto note = [&tried](const std::string& what, const std::string& why) {
        tried += (tried.empty() ? "" : "; ") + what + ": " + why;
    };
    std::string why;
    const std::string audit_log = root + "/var/log/audit/audit.log";
    if (readable_file(audit_log, why)) {
        logs.files.push_back(audit_log);
        logs.what = audit_log;
        return logs;
    }
    note(audit_log, why);
    ingest::JournalSpec spec;
    spec.os_root = root;
    std::string error;
    if (ingest::JournalReader::open(spec, error)) {
        logs.journal = true;
        logs.journal_spec = spec;
        logs.what = spec.describe() + " (kernel and audit messages)";
        return logs;
    }
    tried += (tried.empty() ? "" : "; ") + error;
    for (const char* name : {"/var/log/kern.log", "/var/log/syslog"}) {
        const std::string path = root + name;
        if (readable_file(path, why)) {
            logs.files.push_back(path);
            logs.what = path;
            return logs;
        }
        note(path, why);
    }
    logs.error = "no LOG given and standard input is a terminal, but none of the host's logs can be read (" + tried +
                 "); give a LOG file, or pipe one in";
    return logs;
}

} // namespace virtdeny::pipeline
