// virtdeny help COMMAND: one page per command, the options that matter to it and its exit
// status. The full list of options is in `virtdeny --help` and virtdeny(1).
#include <analyzer/cli/commands.hpp>

#include <cstdio>
#include <cstring>

namespace virtdeny::cli {

namespace {

struct Page
{
    const char* command;
    const char* text;
};

const char* const k_common = R"(
Common options:
  -f, --format FMT        text (default), json or markdown
      --color WHEN        auto (default: on a terminal, never with NO_COLOR), always, never
      --no-progress       no progress line on stderr (else shown on a terminal, never with json)
      --libvirt-xml PATH  domain XML file or directory, e.g. /etc/libvirt/qemu (repeatable)
      --domain NAME|UUID  only findings of this VM
      --rules DIR         extra knowledge-base directory (repeatable; later ids override)
      --rules-replace     use only the --rules directories, not the bundled rules
      --since TIME        only denials at or after TIME (epoch seconds or ISO 8601, UTC)
      --until TIME        only denials at or before TIME
      --threads N         worker threads for regular files (default: all cores)
      --policy FILE       binary SELinux policy for audit2why-like answers
)";

const Page k_pages[] = {
    {"explain", R"(usage: virtdeny explain [OPTIONS] [LOG...]

Reads SELinux and AppArmor denials, groups them into findings (same node, VM, MAC, subject,
object and class), says which VM and which device each is about, explains the cause and
lists the fixes, narrowest first.

LOG is a file (plain or .gz) or -. No LOG reads standard input when it is a pipe or a
file; on a terminal it reads the host's own logs (audit.log when readable, else the systemd
journal, else kern.log or syslog) and says which on stderr. auditd raw and ENRICHED lines,
kernel/syslog/journalctl lines and journald's audit[PID] lines may be mixed.

Options:
      --journal           read the systemd journal natively: its kernel and audit
                          messages (with --since/--until: only that time)
      --journal-file FILE read this journal file instead (repeatable)
      --journal-dir DIR   read the journal files in DIR instead (/var/log/journal,
                          systemd-journal-remote's output)

Examples:
  virtdeny explain /var/log/audit/audit.log
  virtdeny explain --libvirt-xml /etc/libvirt/qemu --domain web01 audit.log.1.gz
  virtdeny explain --journal --since 2024-06-03T08:00:00
  journalctl -k | virtdeny explain --format json

Exit status: 0 success (denials or not), 2 usage error, 3 unreadable input.
)"},
    {"suggest", R"(usage: virtdeny suggest [OPTIONS] [LOG...] [--out DIR]

Like explain, but writes the fixes as policy artifacts: per-VM AppArmor rules (where
virt-aa-helper keeps them), SELinux modules (.te, and CIL with --cil), fcontext/relabel
commands, booleans, and an apply.sh that installs them. Without --out, prints them.

Options:
      --out DIR           write the artifacts under DIR
      --dry-run           print what apply.sh would do
      --cil               also write SELinux modules as CIL

Exit status: 0 success, 2 usage error, 3 unreadable input.
)"},
    {"follow", R"(usage: virtdeny follow [OPTIONS] [SOURCE]

Live: explains each denial as it arrives. SOURCE is an audit log followed across rotation
(default /var/log/audit/audit.log), or - for a pipe (journalctl -f, dmesg -w), or the
systemd journal (--journal: hosts without auditd, where denials are only in the journal).
With --format json, prints one object per denial event, count = occurrences so far.

Options:
      --file FILE         the audit log to follow
      --journal           follow the systemd journal's kernel and audit messages
                          (--journal-file FILE, --journal-dir DIR: those journal files)
      --state FILE        with --journal: keep the cursor of the last entry printed in
                          FILE; a restart resumes after it, losing and doubling nothing
      --from-start        read the existing log (or journal) first, then follow
      --poll              look at the file every 200 ms instead of using inotify
                          (a log on NFS, whose other clients' writes inotify does not see)
      --audisp            run as an auditd plugin: events arrive on standard input
                          (/etc/audit/plugins.d/virtdeny.conf)
      --netlink           read the kernel's audit multicast socket (needs CAP_AUDIT_READ)

Exit status: 0 when the source ends, 2 usage error, 3 unreadable source.
)"},
    {"replay", R"(usage: virtdeny replay --baseline FILE [OPTIONS] [LOG...]
       virtdeny replay --write-baseline FILE [LOG...]

A CI gate: explains the logs and compares the findings with a baseline of known findings
(keys that ignore pids, serials and random file names). New findings fail the job.

Options:
      --baseline FILE       the baseline of known findings
      --write-baseline FILE write (or update) the findings as a baseline
      --junit FILE          write a JUnit XML report

Exit status: 0 no new findings, 1 new findings, 2 usage error, 3 unreadable input.
)"},
    {"rules", R"(usage: virtdeny rules list
       virtdeny rules show ID
       virtdeny rules validate DIR
       virtdeny rules schema

The knowledge base: device rules (rules/devices/*.yaml: path patterns -> device kind) and
cause rules (rules/causes/*.yaml: match -> explanation and fixes, with sample log lines).
The bundled rules are found in $VIRTDENY_RULES, then ../share/virtdeny/rules beside the
executable, then the installed share directory (/usr/share/virtdeny/rules).

  list           id, kind (device or cause), device and description of every rule
                 (--format json: one object per rule, with file and line)
  show ID        the rule as written, with its file and line
  validate DIR   loads DIR on top of the bundled rules (alone with --rules-replace), runs
                 every rule's samples through the real parser and matcher, and prints
                 file:line: rule ID: error for each problem
  schema         the rule files' format as JSON Schema

Options: --rules DIR (repeatable), --rules-replace, --format text|json.

Exit status: 0 success (validate: every rule valid), 1 validate found invalid rules,
2 usage error or unknown rule ID, 3 DIR is not a readable directory.
)"},
    {"help", R"(usage: virtdeny help [COMMAND]

Without COMMAND, the list of commands and every option (as virtdeny --help). With COMMAND
(explain, suggest, follow, replay, rules, help), that command's page. See also virtdeny(1).

Exit status: 0, or 2 for an unknown COMMAND.
)"},
};

bool shows_common(const char* command)
{
    return std::strcmp(command, "explain") == 0 || std::strcmp(command, "suggest") == 0 ||
           std::strcmp(command, "follow") == 0 || std::strcmp(command, "replay") == 0;
}

} // namespace

const char* command_help(const std::string& command)
{
    for (const Page& page : k_pages) {
        if (command == page.command) {
            return page.text;
        }
    }
    return nullptr;
}

int run_help(const std::string& command)
{
    const char* text = command_help(command);
    if (text == nullptr) {
        std::fprintf(stderr, "virtdeny: help: unknown command '%s' (explain, suggest, follow, replay, rules, help)\n",
                     command.c_str());
        return k_exit_usage;
    }
    std::fputs(text, stdout);
    if (shows_common(command.c_str())) {
        std::fputs(k_common, stdout);
    }
    return k_exit_ok;
}

} // namespace virtdeny::cli
