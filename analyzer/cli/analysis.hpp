// The pipeline (analyzer/pipeline/) driven by the command line: the flags mapped onto its
// options, the progress line around a run. Shared by explain, suggest and replay.
#pragma once

#include <analyzer/cli/config.hpp>
#include <analyzer/pipeline/analysis.hpp>
#include <analyzer/pipeline/options.hpp>
#include <analyzer/util/diagnostics.hpp>

namespace virtdeny::cli {

using pipeline::AnalysisResult;

// The pipeline's options from the command line, and the test-only knobs from the
// environment (documented in README.md, "Tests"; the last one is read by run()):
//   VIRTDENY_CHUNK_BYTES=N     bytes per chunk of the parallel scan (small: many chunk boundaries)
//   VIRTDENY_SYNC_LINES=N      lines the parallel scan rescans per chunk (at least 1)
//   VIRTDENY_PARALLEL_STATS    set: chunk counts to stderr after the scan
pipeline::Options pipeline_options(const Config& config);

class Analysis
{
public:
    Analysis(const Config& config, util::Diagnostics& diagnostics)
        : m_config(config), m_diagnostics(diagnostics), m_options(pipeline_options(config)),
          m_pipeline(m_options, diagnostics)
    {
    }

    // Loads the knowledge base and domain XML. false on a fatal problem (bad rules).
    bool setup() { return m_pipeline.setup(); }
    AnalysisResult run();

    const kb::KnowledgeBase& knowledge_base() const { return m_pipeline.knowledge_base(); }
    // The binary SELinux policy that answers like audit2why (--policy, or the loaded one), or null.
    const kb::PolicyQuery* policy() const { return m_pipeline.policy(); }
    const correlate::DomainXmlIndex* xml() const { return m_pipeline.xml(); }

private:
    const Config& m_config;
    util::Diagnostics& m_diagnostics;
    pipeline::Options m_options;
    pipeline::Analysis m_pipeline;
};

} // namespace virtdeny::cli
