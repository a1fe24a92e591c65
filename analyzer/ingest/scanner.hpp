// The streaming scan: lines -> records; denials and their siblings to the event
// assembler, libvirt's VIRT_* records to the VM registry; nothing else is touched.
#pragma once

#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/ingest/event_assembler.hpp>
#include <analyzer/ingest/line_reader.hpp>
#include <analyzer/ingest/record_parser.hpp>
#include <analyzer/util/diagnostics.hpp>

#include <cstdint>
#include <string_view>

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
};

struct TimeWindow
{
    std::int64_t since_ms = INT64_MIN;
    std::int64_t until_ms = INT64_MAX;
    bool contains(std::int64_t t) const { return t >= since_ms && t <= until_ms; }
};

class Scanner
{
public:
    Scanner(EventAssembler& assembler, correlate::VmRegistry& registry, util::Diagnostics& diagnostics);

    void set_window(TimeWindow window) { m_window = window; }
    void set_default_year(int year) { m_parser.set_default_year(year); }

    // Reads a whole input.
    void scan(LineReader& reader, std::uint32_t input_index);
    // One line (follow mode and tests).
    void scan_line(std::string_view line, std::string_view input_name, std::uint64_t line_number,
                   std::uint32_t input_index);

    const ScanStats& stats() const { return m_stats; }

private:
    EventAssembler& m_assembler;
    correlate::VmRegistry& m_registry;
    util::Diagnostics& m_diagnostics;
    RecordParser m_parser;
    ScanStats m_stats;
    TimeWindow m_window;
    std::uint64_t m_seq = 0;
};

} // namespace virtdeny::ingest
