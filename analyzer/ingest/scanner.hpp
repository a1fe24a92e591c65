// The streaming scan: lines -> records; denials and their siblings to the event
// assembler, libvirt's VIRT_* records to the on_virt handler (the caller adds them to its VM
// registry); nothing else is touched.
#pragma once

#include <analyzer/ingest/event_assembler.hpp>
#include <analyzer/ingest/line_reader.hpp>
#include <analyzer/ingest/record_parser.hpp>
#include <analyzer/util/diagnostics.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace virtdeny::ingest {

struct ScanStats
{
    std::uint64_t lines = 0;
    std::uint64_t bytes = 0;
    std::uint64_t records = 0;        // records of the kinds virtdeny reads
    std::uint64_t denial_records = 0; // denials and allowed (complain/permissive) records
    std::uint64_t not_denials = 0;    // avc: granted, AppArmor STATUS/AUDIT/HINT
    std::uint64_t malformed = 0;
    std::uint64_t virt_records = 0;

    ScanStats& operator+=(const ScanStats& o);
    ScanStats operator-(const ScanStats& o) const;
};

struct TimeWindow
{
    std::int64_t since_ms = INT64_MIN;
    std::int64_t until_ms = INT64_MAX;
    bool contains(std::int64_t t) const { return t >= since_ms && t <= until_ms; }
};

// Where a scan of a memory region stopped: bytes and lines consumed.
struct RegionPos
{
    std::size_t bytes = 0;
    std::uint64_t lines = 0;
};

// The order key of a record (Denial::seq): input index, then the line's position (byte
// offset for regular files, line number for streams), then the record within the line.
inline std::uint64_t seq_base(std::uint32_t input_index, std::uint64_t position)
{
    return (static_cast<std::uint64_t>(input_index) << 50) | (position << 3);
}

class Scanner
{
public:
    using VirtHandler = std::function<void(const Record&)>;
    // binary_bytes: 0 for a malformed line, else the bytes of a binary (non-text) line, which
    // is reported with the others of its input in one line at its end (add_binary).
    using BadLineHandler = std::function<void(std::uint64_t line, std::string_view why, std::size_t binary_bytes)>;

    Scanner(EventAssembler& assembler, util::Diagnostics& diagnostics);

    void set_window(TimeWindow window) { m_window = window; }
    // The year of syslog dates without one: fixed (--year) or inferred (the current year, or
    // the one before for dates that would lie in the future).
    void set_default_year(int year, bool fixed = false);
    TimeWindow window() const { return m_window; }
    int default_year() const { return m_default_year; }
    bool year_fixed() const { return m_year_fixed; }
    // Where libvirt's VIRT_* records go, in input order (without a handler they are only
    // counted). Bad lines: captured instead of reported (parallel workers).
    void on_virt(VirtHandler handler) { m_on_virt = std::move(handler); }
    void on_bad_line(BadLineHandler handler) { m_on_bad_line = std::move(handler); }
    // Hands a VIRT_* record to the on_virt handler (a parallel scan's replay).
    void report_virt(const Record& record) const
    {
        if (m_on_virt) {
            m_on_virt(record);
        }
    }

    // Reads a whole input.
    void scan(LineReader& reader, std::uint32_t input_index);
    // One line (follow mode and tests).
    void scan_line(std::string_view line, std::string_view input_name, std::uint64_t line_number,
                   std::uint32_t input_index);
    // One line with an explicit order key (see seq_base).
    void scan_line(std::string_view line, std::string_view input_name, std::uint64_t line_number,
                   std::uint32_t input_index, std::uint64_t seq);

    // Scans the lines of [data, data + size), which starts a line at byte offset `offset`
    // of its input and whose first line is number first_line + 1. Stops after max_lines
    // lines or at the end; a last line without newline is a half-written line when at_eof,
    // else left unscanned. Same line rules as LineReader (over-long lines, CR LF).
    RegionPos scan_region(const char* data, std::size_t size, std::uint64_t offset, std::uint64_t first_line,
                          bool at_eof, std::string_view input_name, std::uint32_t input_index,
                          std::uint64_t max_lines = UINT64_MAX,
                          std::size_t max_line = LineReader::k_default_max_line);

    const ScanStats& stats() const { return m_stats; }
    // After an input: when it held no record virtdeny reads, says so once on stderr with `note`
    // (unrecognised_note of its start; empty: nothing said).
    void note_unrecognised(std::string_view input_name, const ScanStats& before, const std::string& note);
    void add_stats(const ScanStats& stats) { m_stats += stats; }
    // Binary lines of the current input (a parallel scan's replay): said once, at its end.
    void add_binary(std::uint64_t first_line, std::uint64_t lines, std::uint64_t bytes);
    // A denial read from another tool's summary (PasteNormaliser::on_summary): counted as a
    // denial record unless the input already held the raw record it summarises.
    void add_summary_denial(model::Denial& d, std::string_view text, std::string_view input_name,
                            std::uint64_t line_number, std::uint32_t input_index, std::uint64_t seq);

private:
    void bad_line(std::string_view input_name, std::uint64_t line_number, std::string_view why);
    void binary_line(std::string_view input_name, std::uint64_t line_number, std::size_t bytes);
    void remember_raw(const model::Denial& d);
    bool summarised_raw(const model::Denial& d) const;

    struct BinarySkip
    {
        std::uint64_t first_line = 0;
        std::uint64_t lines = 0;
        std::uint64_t bytes = 0;
    };
    BinarySkip m_binary;  // binary lines of the current input
    // inside scan() or scan_region(), whose input ends with note_unrecognised: binary lines are
    // said there, once; a line scanned alone (follow) says its own
    int m_in_input = 0;
    struct InInput
    {
        int& depth;
        explicit InInput(int& d) : depth(d) { ++depth; }
        ~InInput() { --depth; }
        InInput(const InInput&) = delete;
        InInput& operator=(const InInput&) = delete;
    };
    // Raw SELinux denials of a pasted input, for summaries of the same denial (setroubleshoot
    // logs its one-liner after the kernel's record): a small ring, only in the paste path.
    // keys of the raw SELinux denials of the input and their times (bounded)
    static constexpr std::size_t k_max_raw_seen = 1u << 16;
    static constexpr std::size_t k_max_deferred = 1u << 12;
    bool m_remember_raw = false;
    std::unordered_multimap<std::string, std::int64_t> m_raw_seen;
    // setroubleshoot summaries of a pasted input, added at its end unless its raw record was read
    std::vector<model::Denial> m_deferred;
    // summary denials of the current input: read as denials (by summary), and dropped because
    // their raw record was read too
    std::uint64_t m_summary_read[3] = {0, 0, 0};
    std::uint64_t m_summary_dropped = 0;
    void add_summary_now(model::Denial&& d);
    void flush_deferred_summaries();

    EventAssembler& m_assembler;
    util::Diagnostics& m_diagnostics;
    RecordParser m_parser;
    ScanStats m_stats;
    TimeWindow m_window;
    int m_default_year = 0;
    bool m_year_fixed = false;
    VirtHandler m_on_virt;
    BadLineHandler m_on_bad_line;
};

} // namespace virtdeny::ingest
