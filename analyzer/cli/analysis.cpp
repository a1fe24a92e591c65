#include <analyzer/cli/analysis.hpp>

#include <analyzer/aggregate/aggregator.hpp>
#include <analyzer/correlate/correlator.hpp>
#include <analyzer/ingest/event_assembler.hpp>
#include <analyzer/ingest/line_reader.hpp>
#include <analyzer/ingest/scanner.hpp>
#include <analyzer/kb/advisor.hpp>

#include <set>

namespace virtdeny::cli {

bool matches_domain(const model::Finding& f, const std::string& filter)
{
    return filter.empty() || (f.domain && (f.domain->name == filter || f.domain->uuid == filter));
}

bool Analysis::setup()
{
    std::vector<std::string> errors;
    const bool ok = m_kb.load(m_config.rules_dirs, errors);
    for (const auto& e : errors) {
        m_diagnostics.error("rules: " + e);
    }
    if (!ok) {
        return false;
    }
    for (const auto& path : m_config.libvirt_xml) {
        std::vector<std::string> xml_errors;
        m_xml.load(path, xml_errors);
        for (const auto& e : xml_errors) {
            m_diagnostics.error("libvirt-xml: " + e);
        }
    }
    return true;
}

AnalysisResult Analysis::run()
{
    AnalysisResult result;
    correlate::VmRegistry registry;
    aggregate::Aggregator aggregator(registry);
    std::uint64_t events = 0;
    ingest::EventAssembler assembler([&](model::Event& event) {
        ++events;
        aggregator.add(event);
    });
    ingest::Scanner scanner(assembler, registry, m_diagnostics);
    scanner.set_window(m_config.window);

    std::vector<std::string> inputs = m_config.inputs;
    if (inputs.empty()) {
        inputs.push_back("-");
    }
    std::uint32_t index = 0;
    for (const auto& path : inputs) {
        std::string error;
        auto reader = ingest::LineReader::open(path, error);
        if (!reader) {
            m_diagnostics.error(error);
            result.unreadable_input = true;
            continue;
        }
        scanner.scan(*reader, index++);
        if (!reader->error().empty()) {
            result.unreadable_input = true;
        }
    }
    assembler.flush_all();

    correlate::Correlator correlator(registry, xml());
    kb::Advisor advisor(m_kb, xml());
    std::vector<model::Finding> findings = aggregator.finish(correlator);
    std::set<std::string> domains;
    for (auto& f : findings) {
        if (!matches_domain(f, m_config.domain_filter)) {
            continue;
        }
        advisor.advise(f);
        if (f.domain) {
            domains.insert(f.domain->uuid.empty() ? f.domain->name : f.domain->uuid);
        }
        result.findings.push_back(std::move(f));
    }
    const auto& s = scanner.stats();
    result.stats.inputs = inputs.size();
    result.stats.lines = s.lines;
    result.stats.bytes = s.bytes;
    result.stats.malformed_lines = s.malformed;
    result.stats.events = events;
    result.stats.denials = aggregator.denials();
    result.stats.not_enforced = aggregator.not_enforced();
    result.stats.findings = result.findings.size();
    result.stats.overflow = aggregator.overflow();
    result.stats.domains = domains.size();
    return result;
}

} // namespace virtdeny::cli
