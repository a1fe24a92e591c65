#include <analyzer/cli/analysis.hpp>

#include <analyzer/aggregate/aggregator.hpp>
#include <analyzer/cli/progress.hpp>
#include <analyzer/correlate/correlator.hpp>
#include <analyzer/ingest/event_assembler.hpp>
#include <analyzer/ingest/line_reader.hpp>
#include <analyzer/ingest/parallel_scan.hpp>
#include <analyzer/ingest/scanner.hpp>
#include <analyzer/kb/advisor.hpp>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <sys/stat.h>
#include <thread>

namespace virtdeny::cli {

bool matches_domain(const model::Finding& f, const std::string& filter)
{
    return filter.empty() || (f.domain && (f.domain->name == filter || f.domain->uuid == filter));
}

bool load_knowledge(const Config& config, util::Diagnostics& diagnostics, kb::KnowledgeBase& kb,
                    correlate::DomainXmlIndex& xml, std::unique_ptr<kb::PolicyQuery>& policy)
{
    std::vector<std::string> errors;
    const bool ok = kb.load(config.rules_dirs, errors);
    for (const auto& e : errors) {
        diagnostics.error("rules: " + e);
    }
    if (!ok) {
        return false;
    }
    for (const auto& path : config.libvirt_xml) {
        std::vector<std::string> xml_errors;
        xml.load(path, xml_errors);
        for (const auto& e : xml_errors) {
            diagnostics.error("libvirt-xml: " + e);
        }
    }
    if (config.policy_file == "none") {
        return true;  // the bundled policy data only, even on an SELinux host
    }
    if (config.policy_file.empty()) {
        policy = kb::PolicyQuery::open_loaded();
        return true;
    }
    std::string error;
    policy = kb::PolicyQuery::open(config.policy_file, error);
    if (!policy) {
        diagnostics.error("policy: " + error);
        return false;
    }
    return true;
}

bool Analysis::setup()
{
    return load_knowledge(m_config, m_diagnostics, m_kb, m_xml, m_policy);
}

AnalysisResult Analysis::run()
{
    AnalysisResult result;
    correlate::VmRegistry registry;
    aggregate::Aggregator aggregator(registry);
    std::uint64_t events = 0;
    const ingest::EventAssembler::EventHandler on_event = [&](model::Event& event) {
        ++events;
        aggregator.add(event);
    };
    ingest::EventAssembler assembler(on_event);
    ingest::Scanner scanner(assembler, registry, m_diagnostics);
    scanner.set_window(m_config.window);
    if (m_config.year != 0) {
        scanner.set_default_year(m_config.year, true);
    }
    ingest::ParallelOptions parallel;
    parallel.threads = m_config.threads != 0 ? m_config.threads : std::max(1u, std::thread::hardware_concurrency());
    // test knobs: small chunks put many chunk boundaries into small inputs
    if (const char* v = std::getenv("VIRTDENY_CHUNK_BYTES")) {
        parallel.chunk_bytes = static_cast<std::size_t>(std::strtoull(v, nullptr, 10));
    }
    if (const char* v = std::getenv("VIRTDENY_SYNC_LINES")) {
        parallel.sync_lines = std::max<std::uint64_t>(1, std::strtoull(v, nullptr, 10));
    }

    std::vector<std::string> inputs = m_config.inputs;
    if (inputs.empty()) {
        inputs.push_back("-");
    }
    // The progress line (a terminal only): per chunk or block, bytes over all inputs so far.
    Progress progress(stderr, Progress::wanted(m_config));
    std::uint64_t done_before = 0;  // bytes of the inputs already read
    if (progress.enabled()) {
        std::uint64_t total = 0;
        for (const auto& path : inputs) {
            struct stat st{};
            if (!ingest::is_mappable_file(path) || ::stat(path.c_str(), &st) != 0) {
                total = 0;
                break;
            }
            total += static_cast<std::uint64_t>(st.st_size);
        }
        progress.set_total(total);
        m_diagnostics.before_print([&progress] { progress.clear(); });
        parallel.on_chunk = [&](std::uint64_t done) { progress.update(done_before + done, aggregator.denials()); };
    }
    ingest::ParallelStats parallel_stats;
    std::uint32_t index = 0;
    for (const auto& path : inputs) {
        done_before = scanner.stats().bytes;
        std::string error;
        if (ingest::is_mappable_file(path)) {
            // regular files: mapped chunk by chunk, scanned in parallel, same result
            if (!ingest::scan_mapped_file(path, index++, scanner, assembler, on_event, registry, m_diagnostics,
                                          parallel, error, &parallel_stats)) {
                m_diagnostics.error(error);
                result.unreadable_input = true;
            }
            continue;
        }
        auto reader = ingest::LineReader::open(path, error);
        if (!reader) {
            m_diagnostics.error(error);
            result.unreadable_input = true;
            continue;
        }
        if (progress.enabled()) {
            reader->on_block([&](std::uint64_t done) { progress.update(done_before + done, aggregator.denials()); });
        }
        scanner.scan(*reader, index++);
        if (!reader->error().empty()) {
            result.unreadable_input = true;
        }
    }
    assembler.flush_all();
    progress.finish();
    m_diagnostics.before_print(nullptr);
    if (std::getenv("VIRTDENY_PARALLEL_STATS")) {
        std::fprintf(stderr, "virtdeny: parallel scan: %llu chunks, %llu adopted, %llu rescanned\n",
                     static_cast<unsigned long long>(parallel_stats.chunks),
                     static_cast<unsigned long long>(parallel_stats.adopted),
                     static_cast<unsigned long long>(parallel_stats.rescanned));
    }

    correlate::Correlator correlator(registry, xml());
    kb::Advisor advisor(m_kb, xml(), m_policy.get());
    const kb::VirtAaHelper helper(m_config.virt_aa_helper == "none" ? std::string()
                                  : m_config.virt_aa_helper.empty() ? kb::VirtAaHelper::find()
                                                                     : m_config.virt_aa_helper);
    if (!m_config.libvirt_xml.empty()) {
        advisor.set_virt_aa_helper(&helper);  // only where the domain XML is known
    }
    std::vector<model::Finding> findings = aggregator.finish(correlator);
    result.findings.reserve(findings.size());
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
