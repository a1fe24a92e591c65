#include <analyzer/cli/analysis.hpp>

#include <analyzer/cli/progress.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace virtdeny::cli {

pipeline::Options pipeline_options(const Config& config)
{
    pipeline::Options o;
    o.rules_dirs = config.rules_dirs;
    o.libvirt_xml = config.libvirt_xml;
    o.policy_file = config.policy_file;
    o.connect = config.connect;
    o.virt_aa_helper = config.virt_aa_helper;
    o.window = config.window;
    o.year = config.year;
    o.threads = config.threads;
    o.domain_filter = config.domain_filter;
    // test knobs: small chunks put many chunk boundaries into small inputs
    if (const char* v = std::getenv("VIRTDENY_CHUNK_BYTES")) {
        o.chunk_bytes = static_cast<std::size_t>(std::strtoull(v, nullptr, 10));
    }
    if (const char* v = std::getenv("VIRTDENY_SYNC_LINES")) {
        o.sync_lines = std::max<std::uint64_t>(1, std::strtoull(v, nullptr, 10));
    }
    return o;
}

AnalysisResult Analysis::run()
{
    // The progress line (a terminal only): per chunk or block, bytes over all inputs so far.
    Progress progress(stderr, Progress::wanted(m_config));
    pipeline::ProgressHandler on_progress;
    if (progress.enabled()) {
        std::vector<std::string> inputs = m_config.inputs;
        if (inputs.empty()) {
            inputs.push_back("-");
        }
        progress.set_total(pipeline::total_bytes(inputs));
        m_diagnostics.before_print([&progress] { progress.clear(); });
        on_progress = [&progress](std::uint64_t done, std::uint64_t denials) { progress.update(done, denials); };
    }
    AnalysisResult result = m_pipeline.run(m_config.inputs, on_progress);
    progress.finish();
    m_diagnostics.before_print(nullptr);
    if (std::getenv("VIRTDENY_PARALLEL_STATS")) {
        std::fprintf(stderr, "virtdeny: parallel scan: %llu chunks, %llu adopted, %llu rescanned\n",
                     static_cast<unsigned long long>(result.parallel.chunks),
                     static_cast<unsigned long long>(result.parallel.adopted),
                     static_cast<unsigned long long>(result.parallel.rescanned));
    }
    return result;
}

} // namespace virtdeny::cli
