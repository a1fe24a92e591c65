// libFuzzer target: the line reader's record parser, field decoder (hex, quoting, ENRICHED),
// the denial parser and the sibling/VIRT record readers, on arbitrary lines.
#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/ingest/denial_parser.hpp>
#include <analyzer/ingest/event_assembler.hpp>
#include <analyzer/ingest/record_parser.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace virtdeny;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view input(reinterpret_cast<const char*>(data), size);
    ingest::RecordParser parser;
    parser.set_default_year(2024);
    correlate::VmRegistry registry;
    while (!input.empty()) {
        const std::size_t nl = input.find('\n');
        const std::string_view line = input.substr(0, nl);
        input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
        if (parser.parse(line) != ingest::LineKind::records) {
            continue;
        }
        for (int i = 0; i < parser.record_count(); ++i) {
            const auto& r = parser.record(i);
            if (ingest::is_denial_type(r.type)) {
                model::Denial d;
                std::string reason;
                ingest::parse_denial(r, d, reason);
            } else if (ingest::is_sibling_type(r.type)) {
                model::Event ev;
                ingest::apply_sibling(ev, r.type, r.body);
            } else if (ingest::is_virt_type(r.type)) {
                registry.add(r);
            }
        }
    }
    return 0;
}
