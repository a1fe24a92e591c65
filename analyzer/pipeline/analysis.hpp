// The whole pipeline over a set of inputs: scan -> assemble -> aggregate -> correlate ->
// advise. Shared by explain, suggest and replay (through cli::Analysis).
#pragma once

#include <analyzer/correlate/domain_xml.hpp>
#include <analyzer/emit/sink.hpp>
#include <analyzer/ingest/parallel_scan.hpp>
#include <analyzer/kb/knowledge_base.hpp>
#include <analyzer/kb/policy_query.hpp>
#include <analyzer/model/finding.hpp>
#include <analyzer/pipeline/options.hpp>
#include <analyzer/util/diagnostics.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace virtdeny::pipeline {

struct AnalysisResult
{
    std::vector<model::Finding> findings;
    emit::RunStats stats;
    ingest::ParallelStats parallel;  // how the regular files' chunks were scanned
    bool unreadable_input = false;
};

// Progress of a run: bytes over all inputs so far, denials so far (called per chunk or block).
using ProgressHandler = std::function<void(std::uint64_t bytes_done, std::uint64_t denials)>;

// The size of the inputs when all are regular files (else 0: unknown), for a progress line.
std::uint64_t total_bytes(const std::vector<std::string>& inputs);

class Analysis
{
public:
    Analysis(const Options& options, util::Diagnostics& diagnostics) : m_options(options), m_diagnostics(diagnostics) {}

    // Loads the knowledge base and domain XML. false on a fatal problem (bad rules).
    bool setup();
    // inputs: files or "-" (stdin); empty: stdin, unless the options' journal is the input.
    AnalysisResult run(std::vector<std::string> inputs, const ProgressHandler& progress = {});

    const kb::KnowledgeBase& knowledge_base() const { return m_kb; }
    // The binary SELinux policy that answers like audit2why (policy_file, or the loaded one), or null.
    const kb::PolicyQuery* policy() const { return m_policy.get(); }
    const correlate::DomainXmlIndex* xml() const { return m_xml.domains().empty() ? nullptr : &m_xml; }

private:
    const Options& m_options;
    util::Diagnostics& m_diagnostics;
    kb::KnowledgeBase m_kb;
    correlate::DomainXmlIndex m_xml;
    std::unique_ptr<kb::PolicyQuery> m_policy;
};

// A finding read from another tool's summary (Finding::from_summary): for setroubleshoot's
// one-liner, which has no contexts, only the fixes that need no types are kept and the
// explanation says what the summary lacks and which command prints the raw record; for
// aa-notify and aureport the explanation says the same after the knowledge base's.
void answer_from_summary(model::Finding& f);

} // namespace virtdeny::pipeline
