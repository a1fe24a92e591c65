#include <analyzer/kb/sample_findings.hpp>

#include <analyzer/aggregate/aggregator.hpp>
#include <analyzer/correlate/correlator.hpp>
#include <analyzer/pipeline/intake.hpp>
#include <analyzer/util/diagnostics.hpp>

#include <string_view>

namespace virtdeny::kb {

std::vector<model::Finding> sample_findings(const std::string& sample, std::uint64_t& bad_lines)
{
    correlate::VmRegistry registry;
    aggregate::Aggregator aggregator(registry);
    util::Diagnostics diagnostics(nullptr);
    const pipeline::Options options;
    pipeline::Intake intake(options, registry, [&](model::Event& event) { aggregator.add(event); }, diagnostics);
    ingest::Scanner& scanner = intake.scanner();
    std::string_view rest = sample;
    std::uint64_t line_number = 0;
    while (!rest.empty()) {
        const std::size_t end = rest.find('\n');
        scanner.scan_line(rest.substr(0, end), "sample", ++line_number, 0);
        rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    }
    intake.assembler().flush_all();
    bad_lines = scanner.stats().malformed;
    correlate::Correlator correlator(registry, nullptr);
    return aggregator.finish(correlator);
}

} // namespace virtdeny::kb
