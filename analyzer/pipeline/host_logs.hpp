// The host's own logs, for a run given no LOG on a terminal (as audit2allow -a and aa-logprof
// do): audit.log when readable, else the systemd journal, else kern.log, else syslog.
#pragma once

#include <analyzer/ingest/journal_source.hpp>

#include <string>
#include <vector>

namespace virtdeny::pipeline {

struct HostLogs
{
    std::vector<std::string> files;   // log files to read (one at most today)
    bool journal = false;             // else the journal
    ingest::JournalSpec journal_spec;
    std::string what;                 // what is read, for the one line on stderr
    std::string error;                // nothing readable: why, naming each place looked at
};

// root: "" for the host itself, else a directory standing in for / (the tests; the
// VIRTDENY_HOST_ROOT environment variable, README.md "Tests").
HostLogs find_host_logs(const std::string& root);

} // namespace virtdeny::pipeline
