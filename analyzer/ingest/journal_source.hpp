// The systemd journal read natively (libsystemd's sd-journal): the kernel and audit transports
// (_TRANSPORT=kernel, _TRANSPORT=audit), each entry rendered as a line the record parser
// already reads, so a journal is one more input of the same pipeline:
//   kernel: "2024-03-14T02:15:10.170000+00:00 HOST kernel: audit: type=1400 audit(S.MS:N): ..."
//           (MESSAGE as the kernel printed it, after a date for the lines that carry no stamp)
//   audit:  "type=AVC msg=audit(S.MS:N): ..." (auditd's raw form, rebuilt from journald's fields
//           _AUDIT_TYPE, _SOURCE_REALTIME_TIMESTAMP and _AUDIT_ID, so that an AVC is joined with
//           its SYSCALL, PATH and PROCTITLE records like in audit.log)
// The same record in both transports (no auditd: the kernel prints it and journald's audit
// socket receives it) is read once. A journal of several machines (systemd-journal-remote's
// directory) names each record's machine as auditd's node= does (its _HOSTNAME): serials of
// two hosts are not one event.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

struct sd_journal;

namespace virtdeny::ingest {

// Which journal: the local system journal (nothing set), journal files, a directory of journal
// files (such as /var/log/journal or systemd-journal-remote's output), or an OS tree (ROOT
// with ROOT/var/log/journal and ROOT/run/log/journal; the tests' stand-in for the host).
struct JournalSpec
{
    std::vector<std::string> files;
    std::string directory;
    std::string os_root;

    bool local() const { return files.empty() && directory.empty() && os_root.empty(); }
    // For diagnostics: "the systemd journal", "journal file X", ...
    std::string describe() const;
};

// The fields of one entry that the rendering needs.
struct JournalEntry
{
    std::string transport;                 // "kernel" or "audit"
    std::string message;                   // MESSAGE
    std::uint64_t realtime_us = 0;         // __REALTIME_TIMESTAMP (when journald received it)
    std::uint64_t source_realtime_us = 0;  // _SOURCE_REALTIME_TIMESTAMP (audit: the record's stamp)
    std::uint64_t audit_id = 0;            // _AUDIT_ID (the record's serial), 0: none
    int audit_type = 0;                    // _AUDIT_TYPE, 0: none
    std::string audit_type_name;           // _AUDIT_TYPE_NAME
    std::string hostname;                  // _HOSTNAME
    bool node = false;                     // name the host as node= (a journal of several machines)
};

// The line an entry is read as; empty when it carries nothing to read (no MESSAGE).
std::string render_journal_line(const JournalEntry& entry);
// The identity of the record an entry carries: its type number, audit(S.MS:N) stamp and body,
// the same for the kernel's and journald's rendering of one record (and, with node, its host);
// empty when it has no stamp.
std::string journal_record_key(const JournalEntry& entry);

class JournalReader
{
public:
    // Opens the journal. nullptr and `error` (one line, without "virtdeny: ") when it cannot be
    // read: missing, unreadable, not a journal, or no journal file at all.
    static std::unique_ptr<JournalReader> open(const JournalSpec& spec, std::string& error);
    ~JournalReader();
    JournalReader(const JournalReader&) = delete;
    JournalReader& operator=(const JournalReader&) = delete;

    // Where the next call to next() starts.
    void seek_head();
    void seek_tail();   // after the last entry: only what is written from now on
    void seek_realtime_ms(std::int64_t since_ms);
    // After the entry with this cursor. false when the journal no longer holds it (rotated
    // away): reading goes on from the first entry after where it was.
    bool seek_after_cursor(const std::string& cursor);

    // Next entry of the kernel or audit transport, rendered (render_journal_line); false when
    // there is none (yet). Entries that render to nothing, and the second rendering of a
    // record already read, are skipped. *realtime_us: the entry's reception time.
    bool next(std::string& line, std::uint64_t* realtime_us = nullptr);
    // The cursor of the last entry next() went past ("" before the first); kept only after
    // track_cursor(true) (follow: formatting a cursor per entry costs a one-shot read).
    const std::string& cursor() const { return m_cursor; }
    void track_cursor(bool on) { m_track_cursor = on; }
    std::uint64_t duplicates() const { return m_duplicates; }
    std::uint64_t entries() const { return m_entries; }
    // The journal holds entries of more than one machine (_MACHINE_ID): records carry node=.
    bool several_machines() const { return m_several_machines; }

    // Following: the descriptor to poll (inotify on the journal files) and how long to wait at
    // most; process() after a wake-up (true when entries may have been added).
    int fd();
    int timeout_ms();
    bool process();

    const std::string& name() const { return m_name; }

private:
    explicit JournalReader(sd_journal* j, std::string name);
    bool seen(const std::string& key);

    sd_journal* m_j;
    std::string m_name;
    std::string m_cursor;
    bool m_track_cursor = false;
    bool m_several_machines = false;
    std::uint64_t m_duplicates = 0;
    std::uint64_t m_entries = 0;
    // keys of the records read lately, to read a record once though it comes in both transports
    static constexpr std::size_t k_recent = 4096;
    std::deque<std::uint64_t> m_recent_order;
    std::unordered_set<std::uint64_t> m_recent;
};

} // namespace virtdeny::ingest
