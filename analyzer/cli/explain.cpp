#include <analyzer/cli/analysis.hpp>
#include <analyzer/cli/commands.hpp>

namespace virtdeny::cli {

int run_explain(const Config& config)
{
    util::Diagnostics diagnostics;
    Analysis analysis(config, diagnostics);
    if (!analysis.setup()) {
        return k_exit_usage;
    }
    AnalysisResult result = analysis.run();
    auto sink = emit::make_sink(config.format, stdout, emit::SinkOptions{config.colour});
    sink->begin();
    for (const auto& f : result.findings) {
        sink->finding(f);
    }
    sink->end(result.stats);
    diagnostics.finish();
    return result.unreadable_input ? k_exit_unreadable : k_exit_ok;
}

int run_command(const Config& config)
{
    switch (config.command) {
    case Command::explain: return run_explain(config);
    case Command::suggest: return run_suggest(config);
    case Command::follow: return run_follow(config);
    case Command::replay: return run_replay(config);
    case Command::rules: return run_rules(config);
    case Command::help:
    case Command::version: break;
    }
    return k_exit_ok;
}

} // namespace virtdeny::cli
