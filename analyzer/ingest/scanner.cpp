#include <analyzer/ingest/scanner.hpp>

#include <analyzer/ingest/denial_parser.hpp>

#include <ctime>

namespace virtdeny::ingest {

namespace {

int current_year()
{
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    return tm.tm_year + 1900;
}

} // namespace

Scanner::Scanner(EventAssembler& assembler, correlate::VmRegistry& registry, util::Diagnostics& diagnostics)
    : m_assembler(assembler), m_registry(registry), m_diagnostics(diagnostics)
{
    m_parser.set_default_year(current_year());
}

void Scanner::scan(LineReader& reader, std::uint32_t input_index)
{
    reader.on_error([this, &reader](std::uint64_t line, const std::string& why) {
        ++m_stats.malformed;
        m_diagnostics.bad_line(reader.name(), line, why);
    });
    std::string_view line;
    const std::uint64_t before = reader.bytes_read();
    while (reader.next(line)) {
        scan_line(line, reader.name(), reader.line_number(), input_index);
    }
    m_stats.bytes += reader.bytes_read() - before;
}

void Scanner::scan_line(std::string_view line, std::string_view input_name, std::uint64_t line_number,
                        std::uint32_t input_index)
{
    ++m_stats.lines;
    const LineKind kind = m_parser.parse(line);
    if (kind == LineKind::irrelevant) {
        m_assembler.tick();
        return;
    }
    if (kind == LineKind::malformed) {
        ++m_stats.malformed;
        m_diagnostics.bad_line(input_name, line_number, m_parser.reason());
        m_assembler.tick();
        return;
    }
    for (int i = 0; i < m_parser.record_count(); ++i) {
        const Record& r = m_parser.record(i);
        ++m_stats.records;
        if (is_denial_type(r.type)) {
            model::Denial d;
            std::string reason;
            const DenialParse result = parse_denial(r, d, reason);
            if (result == DenialParse::malformed) {
                ++m_stats.malformed;
                m_diagnostics.bad_line(input_name, line_number, reason);
                m_assembler.tick();
                continue;
            }
            if (result == DenialParse::not_denial) {
                ++m_stats.not_denials;
                m_assembler.tick();
                continue;
            }
            if (!m_window.contains(d.time_ms)) {
                m_assembler.tick();
                continue;
            }
            ++m_stats.denial_records;
            d.line = line_number;
            d.input = input_index;
            d.seq = ++m_seq;
            m_assembler.add_denial(r, std::move(d));
        } else if (is_sibling_type(r.type)) {
            if (r.has_stamp) {
                m_assembler.add_sibling(r);
            }
        } else if (r.type == RecordType::eoe) {
            m_assembler.end_of_event(r);
        } else if (is_virt_type(r.type)) {
            ++m_stats.virt_records;
            m_registry.add(r);
            m_assembler.tick();
        }
    }
}

} // namespace virtdeny::ingest
