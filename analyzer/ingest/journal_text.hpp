// journalctl's export-like text forms, as people paste them: `-o json` / `-o json-pretty`
// (one JSON object per entry; json-pretty spread over lines) and `-o verbose` (a header line,
// then indented FIELD=VALUE lines). Each entry becomes the one line virtdeny reads as it reads
// journalctl's short output: the audit transport's record with its stamp again
// ("type=AVC msg=audit(SEC.MS:ID): BODY", from _AUDIT_TYPE_NAME, _AUDIT_ID and
// _SOURCE_REALTIME_TIMESTAMP, so siblings join it by serial), other transports as
// "ISO-DATE HOST IDENT[PID]: MESSAGE". Run only in the paste path (PasteNormaliser).
#pragma once

#include <string>
#include <string_view>

namespace virtdeny::ingest {

// One entry of a journalctl text export (json, json-pretty, verbose) pasted as text; the native
// reader has its own JournalEntry (journal_source.hpp): two names, or the linker mixes layouts.
struct JournalTextEntry
{
    std::string message;
    std::string transport;         // _TRANSPORT: kernel, audit, syslog, journal, stdout
    std::string audit_type_name;   // _AUDIT_TYPE_NAME (audit transport)
    std::string audit_type;        // _AUDIT_TYPE
    std::string audit_id;          // _AUDIT_ID: the record's serial
    std::string source_realtime;   // _SOURCE_REALTIME_TIMESTAMP (usec): the audit stamp's time
    std::string realtime;          // __REALTIME_TIMESTAMP (usec)
    std::string hostname;          // _HOSTNAME
    std::string identifier;        // SYSLOG_IDENTIFIER
    std::string pid;               // _PID or SYSLOG_PID
    bool has_message = false;
    void clear() { *this = JournalTextEntry(); }
};

// A `journalctl -o json` line (a whole JSON object). false when it is not one or has no MESSAGE.
bool parse_journal_json(std::string_view text, JournalTextEntry& e);
// True when line could open a journal JSON entry ("{" then a quoted journal field name).
bool looks_like_journal_json(std::string_view line);

// `journalctl -o verbose`: the header line of an entry
// ("Sun 2024-03-14 02:15:10.170123 UTC [s=...;i=...;b=...;m=...;t=...;x=...]").
bool is_verbose_header(std::string_view line);
// One indented "FIELD=VALUE" line of a verbose entry (line as printed, indentation included);
// false when it is not one (the entry ended).
bool add_verbose_field(std::string_view line, JournalTextEntry& e);

// The line to read for an entry; false when the entry holds nothing to read.
bool journal_entry_line(const JournalTextEntry& e, std::string& out);

} // namespace virtdeny::ingest
