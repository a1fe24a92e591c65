// Command-line options: Boost.Program_options fills Options, which is validated into an
// immutable Config; only Config travels further.
#pragma once

#include <analyzer/emit/sink.hpp>
#include <analyzer/ingest/scanner.hpp>

#include <optional>
#include <string>
#include <vector>

namespace virtdeny::cli {

enum class Command { explain, suggest, follow, replay, rules, help, version };

struct Config
{
    Command command = Command::explain;
    std::vector<std::string> inputs;        // files or "-"; empty = stdin
    emit::Format format = emit::Format::text;
    bool colour = false;
    bool no_progress = false;               // --no-progress (see cli/progress.hpp)
    std::vector<std::string> libvirt_xml;
    std::string connect;                    // --connect URI|none; empty: the default (see correlate/libvirt_source.hpp)
    std::vector<std::string> rules_dirs;    // bundled rules first, then --rules
    bool rules_replace = false;
    std::string domain_filter;
    ingest::TimeWindow window;
    unsigned threads = 0;
    int year = 0;                           // --year: of syslog dates without one (0: inferred)
    std::string out_dir;                    // suggest --out
    std::string baseline;                   // replay --baseline
    std::string write_baseline;
    std::string junit;
    bool journal = false;                   // --journal (also set by --journal-file/--journal-dir)
    std::vector<std::string> journal_files; // --journal-file (repeatable)
    std::string journal_dir;                // --journal-dir
    std::string state_file;                 // follow --state: where the journal cursor is kept
    std::string follow_file;
    bool from_start = false;
    bool poll = false;  // follow: stat the file every 200 ms, no inotify (NFS)
    bool audisp = false;
    bool netlink = false;
    bool dry_run = false;
    bool cil = false;
    std::string policy_file;
    std::string virt_aa_helper;  // "" = /usr/lib/libvirt/virt-aa-helper when installed, "none" = off
    std::vector<std::string> rest;          // command-specific words (rules list/show/validate)
};

struct ParseResult
{
    std::optional<Config> config;
    int exit_code = 0;       // when no config: 0 after --help/--version, 2 on usage error
};

ParseResult parse_command_line(int argc, char** argv);

// Parses --since/--until values: epoch seconds, "YYYY-MM-DD[ HH:MM:SS]" or ISO 8601 (UTC).
std::optional<std::int64_t> parse_time_option(const std::string& value);

} // namespace virtdeny::cli
