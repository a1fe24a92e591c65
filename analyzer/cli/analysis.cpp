#include <analyzer/cli/analysis.hpp>

#include <analyzer/cli/progress.hpp>
#include <analyzer/pipeline/host_logs.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

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
    o.journal = config.journal;
    o.journal_spec.files = config.journal_files;
    o.journal_spec.directory = config.journal_dir;
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
    std::vector<std::string> inputs = m_config.inputs;
    if (inputs.empty() && !m_options.journal && ::isatty(STDIN_FILENO)) {
        // no LOG on a terminal: the host's own logs, as audit2allow -a does, not a wait on stdin
        const char* root = std::getenv("VIRTDENY_HOST_ROOT");
        const pipeline::HostLogs host = pipeline::find_host_logs(root ? root : "");
        if (!host.error.empty()) {
            m_diagnostics.error(host.error);
            AnalysisResult result;
            result.unreadable_input = true;
            return result;
        }
        std::fprintf(stderr, "virtdeny: no LOG given: reading %s\n", host.what.c_str());
        inputs = host.files;
        m_options.journal = host.journal;
        m_options.journal_spec = host.journal_spec;
    }
    // The progress line (a terminal only): per chunk or block, bytes over all inputs so far.
    Progress progress(stderr, Progress::wanted(m_config));
    pipeline::ProgressHandler on_progress;
    if (progress.enabled()) {
        // the journal's size is not known ahead: no total
        const bool stdin_only = inputs.empty() && !m_options.journal;
        progress.set_total(m_options.journal ? 0 : pipeline::total_bytes(stdin_only ? std::vector<std::string>{"-"} : inputs));
        m_diagnostics.before_print([&progress] { progress.clear(); });
        on_progress = [&progress](std::uint64_t done, std::uint64_t denials) { progress.update(done, denials); };
    }
    AnalysisResult result = m_pipeline.run(inputs, on_progress);
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
