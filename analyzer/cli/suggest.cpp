#include <analyzer/cli/analysis.hpp>
#include <analyzer/cli/commands.hpp>
#include <analyzer/emit/suggest_plan.hpp>
#include <analyzer/pipeline/knowledge.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace virtdeny::cli {

namespace {

bool write_artifact(const std::filesystem::path& root, const emit::SuggestFile& file)
{
    const std::filesystem::path path = root / file.path;
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
        std::fprintf(stderr, "virtdeny: cannot create %s: %s\n", path.parent_path().c_str(), ec.message().c_str());
        return false;
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << file.content;
    out.close();
    if (!out) {
        std::fprintf(stderr, "virtdeny: cannot write %s\n", path.c_str());
        return false;
    }
    using std::filesystem::perms;
    const perms mode = file.executable ? (perms::owner_all | perms::group_read | perms::group_exec | perms::others_read | perms::others_exec)
                                       : (perms::owner_read | perms::owner_write | perms::group_read | perms::others_read);
    std::filesystem::permissions(path, mode, ec);
    return true;
}

} // namespace

int run_suggest(const Config& config)
{
    util::Diagnostics diagnostics;
    Analysis analysis(config, diagnostics);
    if (!analysis.setup()) {
        return k_exit_usage;
    }
    AnalysisResult result = analysis.run();
    std::vector<model::Finding> findings;
    for (auto& f : result.findings) {
        if (config.domain_filter.empty() || pipeline::matches_domain(f, config.domain_filter)) {
            findings.push_back(std::move(f));
        }
    }
    emit::SuggestOptions options;
    options.cil = config.cil;
    const auto files = emit::suggest_files(findings, analysis.xml(), options);
    int status = result.unreadable_input ? k_exit_unreadable : k_exit_ok;
    if (config.out_dir.empty()) {
        for (const auto& file : files) {
            std::printf("==> %s <==\n", file.path.c_str());
            std::fwrite(file.content.data(), 1, file.content.size(), stdout);
            if (!file.content.empty() && file.content.back() != '\n') {
                std::fputc('\n', stdout);
            }
            std::fputc('\n', stdout);
        }
    } else {
        const std::filesystem::path root(config.out_dir);
        for (const auto& file : files) {
            if (!write_artifact(root, file)) {
                status = k_exit_unreadable;
                break;
            }
        }
        if (status != k_exit_unreadable) {
            std::fprintf(stderr, "virtdeny: wrote %zu files to %s (see README.md)\n", files.size(), config.out_dir.c_str());
        }
    }
    diagnostics.finish();
    return status;
}

} // namespace virtdeny::cli
