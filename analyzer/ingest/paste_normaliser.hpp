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

    // One physical line (CR already dropped). Emits the logical lines it completes.
    void feed(std::string_view line, std::uint64_t line_number, const Emit& emit);
    // End of input: emits what is held back.
    void finish(const Emit& emit);

    unsigned forms() const { return m_forms; }
    // Records dropped because the same record was already read in the journal's other rendering.
    std::uint64_t duplicates() const { return m_duplicates; }

private:
    static constexpr std::size_t k_max_split = 64;

    void flush(const Emit& emit);
    void emit_logical(std::string_view line, std::uint64_t line_number, const Emit& emit);

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
};

} // namespace virtdeny::ingest
