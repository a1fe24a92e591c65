#include <analyzer/pipeline/analysis.hpp>

#include <analyzer/aggregate/aggregator.hpp>
#include <analyzer/correlate/correlator.hpp>
#include <analyzer/emit/fix_text.hpp>
#include <analyzer/ingest/journal_source.hpp>
#include <analyzer/ingest/line_reader.hpp>
#include <analyzer/ingest/parallel_scan.hpp>
#include <analyzer/kb/advisor.hpp>
#include <analyzer/pipeline/intake.hpp>
#include <analyzer/pipeline/knowledge.hpp>

#include <algorithm>
#include <set>
#include <sys/stat.h>
#include <thread>

namespace virtdeny::pipeline {

namespace {

// The journal's kernel and audit entries, as lines, into the scanner. false when it cannot be read.
bool scan_journal(const Options& options, ingest::Scanner& scanner, std::uint32_t index, util::Diagnostics& diagnostics)
{
    std::string error;
    auto reader = ingest::JournalReader::open(options.journal_spec, error);
    if (!reader) {
        diagnostics.error(error);
        return false;
    }
    const ingest::TimeWindow window = options.window;
    if (window.since_ms != INT64_MIN) {
        reader->seek_realtime_ms(window.since_ms);
    } else {
        reader->seek_head();
    }
    // entries come in the order journald received them: a minute past --until, nothing more is in the window
    const std::int64_t stop_ms = window.until_ms < INT64_MAX - 60000 ? window.until_ms + 60000 : INT64_MAX;
    std::string line;
    std::uint64_t realtime_us = 0;
    std::uint64_t number = 0;
    ingest::ScanStats bytes;
    while (reader->next(line, &realtime_us)) {
        if (static_cast<std::int64_t>(realtime_us / 1000) > stop_ms) {
            break;
        }
        scanner.scan_line(line, reader->name(), ++number, index);
        bytes.bytes += line.size() + 1;
    }
    scanner.add_stats(bytes);
    return true;
}

std::string join_words(const std::vector<std::string>& words)
{
    std::string out;
    for (const auto& w : words) {
        out += (out.empty() ? "" : ", ") + w;
    }
    return out;
}

} // namespace

void answer_from_summary(model::Finding& f)
{
    if (f.from_summary.empty()) {
        return;
    }
    const std::string& raw = f.sample.raw_command;
    if (f.from_summary == "setroubleshoot") {
        // no scontext and no tcontext: only the answers that need no types (the VM, the device)
        std::vector<model::Fix> kept;
        for (auto& fix : f.fixes) {
            if (fix.kind == "libvirt-xml" || fix.kind == "apparmor-rule") {
                kept.push_back(std::move(fix));
            }
        }
        f.fixes = std::move(kept);
        std::string who = !f.exe.empty() ? f.exe : !f.comm.empty() ? f.comm : std::string("a process");
        if (f.domain && !f.domain->name.empty()) {
            who += " of VM " + f.domain->name;
        }
        std::string what = f.path.empty() ? "a " + f.tclass : "the " + f.tclass + " " + f.path;
        if (f.device != model::k_unknown_device) {
            what += " (" + f.device + ")";
        }
        f.explanation = who + " was denied " + join_words(f.permissions) + " on " + what +
                        ", as setroubleshoot's one-line summary says. It names no security context, so which "
                        "label is wrong and which fix works cannot be told from it, and no fix is offered: `" +
                        (raw.empty() ? std::string("ausearch -m AVC -ts recent") : raw) +
                        "` prints setroubleshoot's full report with the raw AVC (`ausearch -m AVC -ts recent` the raw "
                        "records); virtdeny reads either.";
        return;
    }
    const std::string missing = f.from_summary == "aa-notify" ? "no pid, program or time" : "no path";
    f.explanation += (f.explanation.empty() ? "" : " ") + std::string("(Read from ") +
                     (f.from_summary == "aa-notify" ? "aa-notify's summary" : "an `aureport --avc` row") +
                     ", which carries " + missing + ": `" + raw + "` prints the raw record.)";
}

std::uint64_t total_bytes(const std::vector<std::string>& inputs)
{
    std::uint64_t total = 0;
    for (const auto& path : inputs) {
        struct stat st{};
        if (!ingest::is_chunkable_file(path) || ::stat(path.c_str(), &st) != 0) {
            return 0;
        }
        total += static_cast<std::uint64_t>(st.st_size);
    }
    return total;
}

bool Analysis::setup()
{
    return load_knowledge(m_options, m_diagnostics, m_kb, m_xml, m_policy);
}

AnalysisResult Analysis::run(std::vector<std::string> inputs, const ProgressHandler& progress)
{
    AnalysisResult result;
    correlate::VmRegistry registry;
    aggregate::Aggregator aggregator(registry);
    std::uint64_t events = 0;
    Intake intake(
        m_options, registry,
        [&](model::Event& event) {
            ++events;
            aggregator.add(event);
        },
        m_diagnostics);
    ingest::Scanner& scanner = intake.scanner();
    ingest::ParallelOptions parallel;
    parallel.threads =
        m_options.threads != 0 ? m_options.threads : std::max(1u, std::thread::hardware_concurrency());
    if (m_options.chunk_bytes != 0) {
        parallel.chunk_bytes = m_options.chunk_bytes;
    }
    if (m_options.sync_lines != 0) {
        parallel.sync_lines = m_options.sync_lines;
    }

    if (inputs.empty() && !m_options.journal) {
        inputs.push_back("-");
    }
    std::uint64_t done_before = 0;  // bytes of the inputs already read
    if (progress) {
        parallel.on_chunk = [&](std::uint64_t done) { progress(done_before + done, aggregator.denials()); };
    }
    std::uint32_t index = 0;
    if (m_options.journal && !scan_journal(m_options, scanner, index++, m_diagnostics)) {
        result.unreadable_input = true;
    }
    for (const auto& path : inputs) {
        done_before = scanner.stats().bytes;
        std::string error;
        if (ingest::is_chunkable_file(path)) {
            // regular files: read chunk by chunk, scanned in parallel, same result
            if (!ingest::scan_file_in_chunks(path, index++, scanner, intake.assembler(), intake.on_event(),
                                             m_diagnostics, parallel, error, &result.parallel)) {
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
        if (progress) {
            reader->on_block([&](std::uint64_t done) { progress(done_before + done, aggregator.denials()); });
        }
        scanner.scan(*reader, index++);
        if (!reader->error().empty()) {
            result.unreadable_input = true;
        }
    }
    intake.assembler().flush_all();

    correlate::Correlator correlator(registry, xml());
    kb::Advisor advisor(m_kb, xml(), m_policy.get());
    const kb::VirtAaHelper helper(m_options.virt_aa_helper == "none" ? std::string()
                                  : m_options.virt_aa_helper.empty() ? kb::VirtAaHelper::find()
                                                                      : m_options.virt_aa_helper);
    if (xml() != nullptr) {
        advisor.set_virt_aa_helper(&helper);  // only where a domain XML is known
    }
    std::vector<model::Finding> findings = aggregator.finish(correlator);
    result.findings.reserve(findings.size());
    std::set<std::string> domains;
    for (auto& f : findings) {
        if (!matches_domain(f, m_options.domain_filter)) {
            continue;
        }
        advisor.advise(f);
        answer_from_summary(f);
        emit::write_fix_texts(f);
        if (f.domain) {
            domains.insert(f.domain->uuid.empty() ? f.domain->name : f.domain->uuid);
        }
        result.findings.push_back(std::move(f));
    }
    const auto& s = scanner.stats();
    result.stats.inputs = inputs.size() + (m_options.journal ? 1 : 0);
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

} // namespace virtdeny::pipeline
