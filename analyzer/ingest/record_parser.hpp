// Line -> records. Knows every outer wrapper an audit record arrives in: auditd raw and
// ENRICHED lines (with node=/host= prefixes, several records on one line), kernel ring
// buffer, syslog and journalctl lines (type=1400 with or without "audit:"), journald's own
// rendering ("audit[PID]: AVC ..."), and daemons' syslog lines carrying apparmor=/avc: text.
#pragma once

#include <analyzer/ingest/record.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace virtdeny::ingest {

enum class LineKind : std::uint8_t {
    irrelevant,  // no record virtdeny needs (the vast majority of lines)
    records,     // one or more records were parsed
    malformed,   // looked like an audit record but could not be parsed (see reason)
};

// Classifies a record type name ("AVC", "1400", "UNKNOWN[1503]", ...).
RecordType classify_type(std::string_view name);

class RecordParser
{
public:
    static constexpr int k_max_records_per_line = 8;

    // Year assumed for syslog dates that carry none ("Mar 14 02:15:10"). Unless fixed (the
    // admin's --year), a date that would lie more than a day ahead of now_ms is taken from the
    // year before (a December log read in January).
    void set_default_year(int year, bool fixed = false, std::int64_t now_ms = 0)
    {
        m_default_year = year;
        m_year_fixed = fixed;
        m_now_ms = now_ms;
    }

    // Parses one line. Records are stored in the parser and valid until the next call.
    LineKind parse(std::string_view line);

    int record_count() const { return m_count; }
    const Record& record(int i) const { return m_records[i]; }
    const std::string& reason() const { return m_reason; }
    // The last malformed line was binary data (not text).
    bool binary() const { return m_binary; }

private:
    LineKind parse_raw(std::string_view line);
    LineKind parse_other(std::string_view line);
    LineKind fail(std::string reason);
    std::int64_t syslog_time(std::string_view line) const;

    Record m_records[k_max_records_per_line];
    int m_count = 0;
    int m_default_year = 0;
    bool m_year_fixed = false;
    std::int64_t m_now_ms = 0;
    std::string m_reason;
    bool m_binary = false;
};

// Parses "SEC.MS:SERIAL)" after "audit(". Advances s past ')'. false when malformed.
bool parse_stamp(std::string_view& s, std::int64_t& time_ms, std::uint64_t& serial);

// Parses a syslog/journal date at the start of a line (classic "Mar 14 02:15:10" with
// default_year, or RFC 3339 "2024-03-14T02:15:10.170123+00:00"). 0 when none.
std::int64_t parse_syslog_time(std::string_view line, int default_year);

} // namespace virtdeny::ingest
