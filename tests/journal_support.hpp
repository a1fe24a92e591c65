// Real journal files for the --journal tests, written by systemd-journal-remote (package
// systemd-journal-remote) from journal export format that is built out of the fixtures' own
// log lines, entry by entry as journald stores them:
//   - an auditd raw line "type=NAME msg=audit(S.MS:N): BODY" becomes an entry of the audit
//     transport as journald's audit socket writes it: _TRANSPORT=audit, _AUDIT_TYPE (the
//     number), _AUDIT_TYPE_NAME, _AUDIT_ID=N, _SOURCE_REALTIME_TIMESTAMP = the stamp,
//     MESSAGE="NAME BODY" (auditd's ENRICHED part after \x1d is auditd's, not the kernel's:
//     left out);
//   - a kernel line of kern.log/syslog/journalctl ("... kernel: [uptime] MESSAGE") becomes an
//     entry of the kernel transport with MESSAGE as the kernel printed it (no uptime prefix);
//   - other lines (systemd[1]: ...) are not of these transports: left out.
// __REALTIME_TIMESTAMP is the record's own stamp plus a little (journald receives it after the
// kernel stamped it); a kernel line without a stamp gets the one of the record before it.
#pragma once

#include "support.hpp"

#include <libaudit.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace virtdeny::test {

inline std::string journal_remote_path()
{
    for (const char* p : {"/usr/lib/systemd/systemd-journal-remote", "/lib/systemd/systemd-journal-remote"}) {
        if (std::filesystem::exists(p)) {
            return p;
        }
    }
    return {};
}

// systemd-journal-remote is there, or the test fails (VIRTDENY_REQUIRE_TOOLS=1) or is skipped.
inline bool require_journal_remote()
{
    return require_present(!journal_remote_path().empty(),
                           "systemd-journal-remote (/usr/lib/systemd/systemd-journal-remote, package "
                           "systemd-journal-remote)");
}

constexpr std::uint64_t k_boot_us = 1000000000ULL * 1000000ULL;

enum class Transports { as_logged, kernel_and_audit };

// One export-format entry.
inline std::string export_entry(const std::vector<std::pair<std::string, std::string>>& fields)
{
    std::string e;
    for (const auto& [k, v] : fields) {
        e += k + "=" + v + "\n";
    }
    return e + "\n";
}

// The lines of a log as journal export entries (see above). both: each kernel audit record is
// also written as journald's audit socket receives it (a host without auditd where journald
// listens to audit: the same record in two transports).
inline std::string log_to_export(const std::string& log, Transports transports = Transports::as_logged,
                                 std::uint64_t delay_us = 40)
{
    static const std::regex raw(R"(^(?:node=\S+ )?type=(\S+) msg=audit\((\d+)\.(\d+):(\d+)\): ?(.*)$)");
    static const std::regex kernel_stamp(R"(type=(\d+) audit\((\d+)\.(\d+):(\d+)\): (.*)$)");
    static const std::regex uptime(R"(^\[\s*\d+\.\d+\] )");
    const std::string boot = "0123456789abcdef0123456789abcdef";
    const std::string machine = "fedcba9876543210fedcba9876543210";
    std::string out;
    std::istringstream in(log);
    std::string line;
    std::uint64_t last_us = 0;
    std::vector<std::pair<std::string, std::string>> pending_kernel;  // lines before the first stamp
    const auto us_of = [](const std::string& s, const std::string& ms) {
        return std::stoull(s) * 1000000ULL + std::stoull(ms) * 1000ULL;
    };
    const auto common = [&](std::uint64_t us) {
        return std::vector<std::pair<std::string, std::string>>{
            {"__REALTIME_TIMESTAMP", std::to_string(us + delay_us)},
            // one boot since 2001-09-09: the monotonic clock keeps the realtime order, so entries
            // of several files interleave (and resume after a cursor) in time order
            {"__MONOTONIC_TIMESTAMP", std::to_string(us + delay_us - k_boot_us)},
            {"_BOOT_ID", boot},
            {"_MACHINE_ID", machine},
            {"_HOSTNAME", "virthost"}};
    };
    const auto audit_entry = [&](const std::string& type, std::uint64_t us, const std::string& serial,
                                 const std::string& body) {
        auto f = common(us);
        const int number = ::audit_name_to_msg_type(type.c_str());
        f.push_back({"_TRANSPORT", "audit"});
        f.push_back({"SYSLOG_FACILITY", "4"});
        f.push_back({"SYSLOG_IDENTIFIER", "audit"});
        if (number > 0) {
            f.push_back({"_AUDIT_TYPE", std::to_string(number)});
        }
        f.push_back({"_AUDIT_TYPE_NAME", type});
        f.push_back({"_AUDIT_ID", serial});
        f.push_back({"_SOURCE_REALTIME_TIMESTAMP", std::to_string(us)});
        f.push_back({"MESSAGE", type + " " + body});
        out += export_entry(f);
    };
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        const std::size_t gs = line.find('\x1d');
        if (gs != std::string::npos) {
            line.erase(gs);
        }
        std::smatch m;
        if (std::regex_match(line, m, raw)) {
            last_us = us_of(m[2], m[3]);
            audit_entry(m[1], last_us, m[4], m[5]);
            continue;
        }
        const std::size_t k = line.find(" kernel: ");
        if (k == std::string::npos) {
            continue;
        }
        const std::string message = std::regex_replace(line.substr(k + 9), uptime, "", std::regex_constants::format_first_only);
        std::smatch s;
        if (std::regex_search(message, s, kernel_stamp)) {
            last_us = us_of(s[2], s[3]);
        } else if (last_us == 0) {
            pending_kernel.push_back({"MESSAGE", message});
            continue;
        }
        for (const auto& p : pending_kernel) {
            auto f = common(last_us);
            f.push_back({"_TRANSPORT", "kernel"});
            f.push_back(p);
            out += export_entry(f);
        }
        pending_kernel.clear();
        auto f = common(last_us);
        f.push_back({"_TRANSPORT", "kernel"});
        f.push_back({"SYSLOG_FACILITY", "0"});
        f.push_back({"SYSLOG_IDENTIFIER", "kernel"});
        f.push_back({"MESSAGE", message});
        out += export_entry(f);
        if (transports == Transports::kernel_and_audit && !s.empty()) {
            const char* name = ::audit_msg_type_to_name(std::atoi(s[1].str().c_str()));
            audit_entry(name ? name : "UNKNOWN", last_us, s[4], s[5]);
        }
    }
    return out;
}

// Writes (or appends to) a journal file from export text with systemd-journal-remote.
inline RunResult write_journal(const std::string& export_text, const std::string& path)
{
    const std::string dir = temp_dir();
    write_file(dir + "/entries.export", export_text);
    return run(shell_quote(journal_remote_path()) + " --output=" + shell_quote(path) + " - < " +
               shell_quote(dir + "/entries.export"));
}

} // namespace virtdeny::test
