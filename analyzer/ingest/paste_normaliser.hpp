// Pasted text back into audit lines. What people paste into bug reports, mails, forums and
// commit messages is rarely a clean audit.log: `ausearch -i` output (local dates, " : ",
// names for numbers, unquoted strings), records run together on one line, lines hard wrapped
// or continued with "\", indented, quoted with "> ", inside Markdown code fences, "----"
// separators between events. The normaliser turns such text back into lines the record
// parser reads as it reads audit.log.
//
// It runs only on inputs whose first block holds lines the fast path rejects and that look
// pasted (looks_like_paste); a clean audit.log, kern.log or journal export never reaches it.
#pragma once

#include <analyzer/ingest/journal_text.hpp>
#include <analyzer/model/denial.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace virtdeny::ingest {

// Bits of what the normaliser met (PasteNormaliser::forms()).
enum PasteForm : unsigned {
    paste_interpreted = 1u << 0,   // ausearch -i: "msg=audit(02/06/2025 12:31:15.483:1776) : "
    paste_joined = 1u << 1,        // a record continued on the next line(s): wrap, "\"
    paste_split = 1u << 2,         // several records run together on one line
    paste_prefixed = 1u << 3,      // indentation, "> " quote prefixes
    paste_fenced = 1u << 4,        // Markdown code fences, "----" event separators
    paste_setroubleshoot = 1u << 5,// "SELinux is preventing ..." (sealert / journal one-liner)
    paste_two_renderings = 1u << 6,// journald's audit[PID]: AVC and the kernel's type=1400 of one record
    paste_journal_export = 1u << 7,// journalctl -o json / json-pretty / verbose entries
    paste_summary = 1u << 8,       // a denial read from a summary (setroubleshoot, aa-notify, aureport)
};

// How many bytes of an input's start looks_like_paste is given.
constexpr std::size_t k_paste_sniff_bytes = 64 * 1024;

// True when the first block of an input (complete lines only are looked at) has a line the
// record parser rejects or reads wrongly and that looks like pasted audit text.
bool looks_like_paste(std::string_view block);

// ausearch -i's record line, made raw again: "[node=N ]type=T msg=audit(DATE TIME.MS:SERIAL) : BODY"
// (or "T msg=audit(...)" without "type=") -> "[node=N ]type=T msg=audit(EPOCH.MS:SERIAL): BODY"
// with the string fields ausearch prints bare (comm, exe, path, name, cwd, proctitle, ...)
// quoted again, or hex-encoded when they hold a '"'. The date is the local time of the host that
// ran ausearch, which the text does not name: it is read in this host's time zone (TZ).
// Dates: MM/DD/YYYY, MM/DD/YY (DD/MM/YYYY when the first number is over 12), DD.MM.YYYY,
// YYYY-MM-DD. false (out untouched) when line is not such a record.
bool uninterpret_record(std::string_view line, std::string& out);

// For an input in which no record was recognised: what its start looks like and which command
// gives the raw records, as one sentence; empty when it looks like an audit or kernel log that
// simply holds no denial (or is empty).
std::string unrecognised_note(std::string_view head);

class PasteNormaliser
{
public:
    using Emit = std::function<void(std::string_view line, std::uint64_t line_number)>;
    // A denial read from another tool's summary (summary_forms.hpp), with the text it came from.
    using SummaryHandler = std::function<void(model::Denial& denial, std::string_view line, std::uint64_t line_number)>;

    // Where summary denials go. Without a handler, summary lines are emitted as text lines.
    void on_summary(SummaryHandler handler) { m_on_summary = std::move(handler); }

    // One physical line (CR already dropped). Emits the logical lines it completes.
    void feed(std::string_view line, std::uint64_t line_number, const Emit& emit);
    // End of input: emits what is held back.
    void finish(const Emit& emit);

    unsigned forms() const { return m_forms; }
    // Denials read from summaries, by summary (setroubleshoot, aa-notify, aureport).
    std::uint64_t summaries(std::string_view kind) const;
    // A format met that carries too little to be read as a denial (aa-notify -l's count,
    // aureport's other reports): one sentence naming it and the command giving raw records.
    const std::string& too_little() const { return m_too_little; }
    // Records dropped because the same record was already read in the journal's other rendering.
    std::uint64_t duplicates() const { return m_duplicates; }

private:
    static constexpr std::size_t k_max_split = 64;

    void flush(const Emit& emit);
    void emit_logical(std::string_view line, std::uint64_t line_number, const Emit& emit);
    // journalctl -o json / json-pretty / verbose: entries to lines (journal_text.hpp)
    bool feed_journal(std::string_view raw, std::uint64_t line_number, const Emit& emit);
    void finish_journal(const Emit& emit);
    void emit_journal_entry(std::uint64_t line_number, const Emit& emit);
    // aa-notify's Profile:/Operation:/.../Logfile: blocks
    bool feed_aa_notify(std::string_view s, std::uint64_t line_number);
    void finish_aa_notify_block();
    bool summary(std::string_view line, std::uint64_t line_number);
    // setroubleshoot's one-liner wrapped over lines (a mail or a blog): joined until its "sealert -l"
    bool feed_setroubleshoot(std::string_view s, std::uint64_t line_number, const Emit& emit);
    void flush_setroubleshoot(const Emit& emit);
    bool seen_journal_record(std::string_view line);

    std::string m_pending;          // a record line that may continue on the next line
    std::uint64_t m_pending_line = 0;
    bool m_has_pending = false;
    // The same kernel record rendered twice by journalctl: "audit[PID]: AVC BODY" (audit
    // transport) and "kernel: audit: type=1400 audit(T:S): BODY" (kernel transport), same second.
    bool seen_in_other_rendering(std::string_view line);

    struct Rendered
    {
        std::int64_t second = 0;
        std::size_t body_hash = 0;
        bool kernel = false;
    };
    static constexpr std::size_t k_recent = 64;
    Rendered m_recent[k_recent];
    std::size_t m_recent_next = 0;
    std::uint64_t m_duplicates = 0;
    std::string m_rewrite;
    std::string m_nbsp;
    unsigned m_forms = 0;

    SummaryHandler m_on_summary;
    std::uint64_t m_setroubleshoot = 0;
    std::uint64_t m_aa_notify = 0;
    std::uint64_t m_aureport = 0;
    std::string m_too_little;
    std::string m_sr;               // a wrapped setroubleshoot one-liner being joined
    std::uint64_t m_sr_line = 0;
    int m_sr_parts = 0;
    std::string m_sr_prefix;        // "DATE HOST setroubleshoot:" alone on the line before
    std::uint64_t m_sr_prefix_line = 0;
    // aa-notify block in progress
    model::Denial m_aa;
    bool m_in_aa = false;
    std::uint64_t m_aa_line = 0;
    std::string m_aa_text;
    // journal entry in progress: verbose fields, or a json-pretty object's lines
    JournalTextEntry m_entry;
    bool m_in_verbose = false;
    bool m_in_pretty = false;
    std::string m_pretty;
    std::uint64_t m_entry_line = 0;
    std::string m_journal_line;
    // stamps and bodies of records read from journal entries (kernel and audit transports of
    // one record: read once)
    std::size_t m_journal_seen[k_recent] = {};
    std::size_t m_journal_next = 0;
};

} // namespace virtdeny::ingest
