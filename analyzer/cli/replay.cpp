// replay: the CI gate. Every finding is looked up in the baseline by its stable key; exit 1
// when any is new (docs/inputs.md, "Exit status"), with --write-baseline to create or update it, --junit
// for a JUnit XML report and --format markdown for a pull-request comment.
#include <analyzer/aggregate/aggregator.hpp>
#include <analyzer/cli/analysis.hpp>
#include <analyzer/cli/baseline.hpp>
#include <analyzer/cli/commands.hpp>
#include <analyzer/emit/json_sink.hpp>
#include <analyzer/emit/text_sink.hpp>
#include <analyzer/util/text.hpp>
#include <analyzer/util/escape.hpp>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include <cstdio>
#include <sys/stat.h>
#include <unordered_map>

namespace virtdeny::cli {

namespace {

struct Verdict
{
    model::Finding merged;               // the run's findings with this stable key, merged
    const model::Finding* finding = nullptr;
    BaselineEntry entry;
    bool is_new = false;
};

std::string object_of(const model::Finding& f)
{
    return !f.path.empty() ? f.path : (!f.tcontext.empty() ? f.tcontext : "-");
}


void print_text(const std::vector<Verdict>& verdicts, std::size_t new_count, bool have_baseline)
{
    for (const auto& v : verdicts) {
        if (!v.is_new) {
            continue;
        }
        const model::Finding& f = *v.finding;
        std::printf("NEW %s\n", util::printable(v.entry.key).c_str());
        std::printf("    %s %s {%s} on %s  [%s] x%llu\n", model::to_string(f.mac), util::printable(f.tclass).c_str(),
                    util::printable(util::join(f.permissions, " ")).c_str(), util::printable(object_of(f)).c_str(),
                    f.device.c_str(), static_cast<unsigned long long>(f.count));
        if (!f.explanation.empty()) {
            std::printf("    why: %s\n", util::printable(f.explanation).c_str());
        }
        if (!f.fixes.empty()) {
            std::printf("    fix [%s, %s]: %s\n", f.fixes.front().kind.c_str(), model::to_string(f.fixes.front().scope),
                        util::printable(f.fixes.front().text).c_str());
        }
    }
    std::printf("%zu findings: %zu new, %zu in the baseline%s\n", verdicts.size(), new_count,
                verdicts.size() - new_count, have_baseline ? "" : " (no baseline given)");
}

void print_json(const std::vector<Verdict>& verdicts, const emit::RunStats& stats, std::size_t new_count)
{
    for (const auto& v : verdicts) {
        emit::Json j = emit::finding_record(*v.finding);
        j["baseline"] = v.is_new ? "new" : "known";
        j["baseline_key"] = util::sanitize_utf8(v.entry.key);
        std::printf("%s\n", emit::serialize(j).c_str());
    }
    emit::Json s = emit::summary_record(stats);
    s["summary"]["new"] = new_count;
    s["summary"]["known"] = verdicts.size() - new_count;
    std::printf("%s\n", emit::serialize(s).c_str());
}

void print_markdown(const std::vector<Verdict>& verdicts, std::size_t new_count)
{
    if (new_count == 0) {
        std::printf("## virtdeny: no new denials\n\n%zu findings, all in the baseline.\n", verdicts.size());
        return;
    }
    std::printf("## virtdeny: %zu new denial finding%s\n\n", new_count, new_count == 1 ? "" : "s");
    std::printf("| VM | mac | class | permissions | object | device | count |\n");
    std::printf("|---|---|---|---|---|---|---:|\n");
    for (const auto& v : verdicts) {
        if (!v.is_new) {
            continue;
        }
        const model::Finding& f = *v.finding;
        std::printf("| %s | %s | %s | %s | `%s` | %s | %llu |\n", util::markdown_cell(v.entry.vm).c_str(), model::to_string(f.mac),
                    util::markdown_cell(f.tclass).c_str(), util::markdown_cell(util::join(f.permissions, " ")).c_str(), util::markdown_cell(object_of(f)).c_str(),
                    f.device.c_str(), static_cast<unsigned long long>(f.count));
    }
    std::printf("\n");
    for (const auto& v : verdicts) {
        if (!v.is_new) {
            continue;
        }
        const model::Finding& f = *v.finding;
        std::printf("- **%s** (%s): %s\n", util::markdown_cell(object_of(f)).c_str(), util::markdown_cell(v.entry.vm).c_str(),
                    util::markdown_cell(f.explanation).c_str());
        for (const auto& fix : f.fixes) {
            std::printf("  - %s (%s): `%s`\n", fix.kind.c_str(), model::to_string(fix.scope), util::markdown_cell(fix.text).c_str());
        }
    }
    if (verdicts.size() > new_count) {
        std::printf("\n<details><summary>%zu known finding%s (in the baseline)</summary>\n\n", verdicts.size() - new_count,
                    verdicts.size() - new_count == 1 ? "" : "s");
        for (const auto& v : verdicts) {
            if (!v.is_new) {
                std::printf("- `%s`\n", util::markdown_cell(v.entry.key).c_str());
            }
        }
        std::printf("\n</details>\n");
    }
}

bool write_junit(const std::string& path, const std::vector<Verdict>& verdicts, std::size_t new_count,
                 std::string& error)
{
    pugi::xml_document doc;
    auto decl = doc.append_child(pugi::node_declaration);
    decl.append_attribute("version") = "1.0";
    decl.append_attribute("encoding") = "UTF-8";
    auto suites = doc.append_child("testsuites");
    suites.append_attribute("name") = "virtdeny";
    suites.append_attribute("tests") = static_cast<unsigned long long>(verdicts.size());
    suites.append_attribute("failures") = static_cast<unsigned long long>(new_count);
    auto suite = suites.append_child("testsuite");
    suite.append_attribute("name") = "virtdeny replay";
    suite.append_attribute("tests") = static_cast<unsigned long long>(verdicts.size());
    suite.append_attribute("failures") = static_cast<unsigned long long>(new_count);
    suite.append_attribute("errors") = 0;
    suite.append_attribute("skipped") = 0;
    for (const auto& v : verdicts) {
        const model::Finding& f = *v.finding;
        auto tc = suite.append_child("testcase");
        tc.append_attribute("classname") = util::printable("virtdeny." + v.entry.vm).c_str();
        tc.append_attribute("name") = util::printable(v.entry.key).c_str();
        if (v.is_new) {
            auto failure = tc.append_child("failure");
            failure.append_attribute("type") = "new-denial";
            failure.append_attribute("message") =
                util::printable(std::string(f.enforced ? "denied " : "allowed (not enforced) ") + f.tclass + " {" +
                                util::join(f.permissions, " ") + "} on " + object_of(f))
                    .c_str();
            std::string body = util::printable(f.explanation);
            for (const auto& fix : f.fixes) {
                body += "\nfix [" + fix.kind + ", " + model::to_string(fix.scope) + "]: " + util::printable(fix.text);
            }
            failure.text().set(body.c_str());
        }
        auto out = tc.append_child("system-out");
        out.text().set(util::printable("device=" + f.device + " count=" + std::to_string(f.count) +
                                       " subject=" + f.subject)
                           .c_str());
    }
    if (!doc.save_file(path.c_str(), "  ", pugi::format_default, pugi::encoding_utf8)) {
        error = path + ": cannot write JUnit report";
        return false;
    }
    return true;
}

bool file_exists(const std::string& path)
{
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0;
}

// A baseline to update: only a regular file holds one (a pipe or /dev/null has nothing to
// read back, and reading a FIFO would wait for a writer).
bool regular_file(const std::string& path)
{
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

} // namespace

int run_replay(const Config& config)
{
    util::Diagnostics diagnostics;
    Baseline baseline;
    const bool have_baseline = !config.baseline.empty();
    if (have_baseline) {
        std::string error;
        const bool creating = config.baseline == config.write_baseline && !file_exists(config.baseline);
        if (!creating && !baseline.load(config.baseline, error)) {
            std::fprintf(stderr, "virtdeny: %s\n", error.c_str());
            return k_exit_unreadable;
        }
    }
    Analysis analysis(config, diagnostics);
    if (!analysis.setup()) {
        return k_exit_usage;
    }
    AnalysisResult result = analysis.run();

    // findings that differ only in what changes between runs (memfd suffixes, MCS pairs)
    // share a stable key: one verdict (and one JUnit test case) each
    std::vector<Verdict> verdicts;
    std::unordered_map<std::string, std::size_t> by_key;
    for (const auto& f : result.findings) {
        BaselineEntry entry = baseline_entry(f);
        auto it = by_key.find(entry.key);
        if (it != by_key.end()) {
            Verdict& v = verdicts[it->second];
            aggregate::merge_into(v.merged, f);
            v.entry.permissions.insert(entry.permissions.begin(), entry.permissions.end());
            continue;
        }
        by_key.emplace(entry.key, verdicts.size());
        Verdict v;
        v.merged = f;
        v.entry = std::move(entry);
        verdicts.push_back(std::move(v));
    }
    std::size_t new_count = 0;
    for (auto& v : verdicts) {
        v.finding = &v.merged;
        v.is_new = !baseline.covers(v.entry);
        if (v.is_new) {
            ++new_count;
        }
    }
    if (!have_baseline) {
        // only writing a baseline: nothing is compared, nothing is new
        new_count = 0;
        for (auto& v : verdicts) {
            v.is_new = false;
        }
    }

    switch (config.format) {
    case emit::Format::json: print_json(verdicts, result.stats, new_count); break;
    case emit::Format::markdown: print_markdown(verdicts, new_count); break;
    case emit::Format::text: print_text(verdicts, new_count, have_baseline); break;
    }
    std::fflush(stdout);

    int status = result.unreadable_input ? k_exit_unreadable : (new_count > 0 ? k_exit_new_findings : k_exit_ok);
    if (!config.junit.empty()) {
        std::string error;
        if (!write_junit(config.junit, verdicts, new_count, error)) {
            std::fprintf(stderr, "virtdeny: %s\n", error.c_str());
            status = k_exit_unreadable;
        }
    }
    if (!config.write_baseline.empty()) {
        // update: what the file already holds, plus every finding of this run
        Baseline updated;
        std::string error;
        if (regular_file(config.write_baseline) && !updated.load(config.write_baseline, error)) {
            std::fprintf(stderr, "virtdeny: %s (not updated)\n", error.c_str());
            return k_exit_unreadable;
        }
        for (const auto& v : verdicts) {
            updated.add(v.entry);
        }
        if (!updated.save(config.write_baseline, error)) {
            std::fprintf(stderr, "virtdeny: %s\n", error.c_str());
            return k_exit_unreadable;
        }
        std::fprintf(stderr, "virtdeny: baseline %s: %zu findings\n", config.write_baseline.c_str(), updated.size());
    }
    diagnostics.finish();
    return status;
}

} // namespace virtdeny::cli
