// The include rules between the layers of analyzer/ (issue 13), read from the source tree so
// that re-adding a forbidden include fails here: the library layers never include the
// command line (cli/), and ingest (lines -> records -> events) knows nothing of correlation
// (its scanner reports VIRT_* records through a callback; the caller adds them to the registry).
#include "../support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Include
{
    std::string file;  // relative to analyzer/
    std::string target;
};

// Every #include <analyzer/...> (or "...") of the sources under analyzer/<layer>/.
std::vector<Include> includes_of(const std::string& layer)
{
    const fs::path root = fs::path(virtdeny::test::source_dir()) / "analyzer";
    std::vector<Include> out;
    const std::regex include_re(R"re(^\s*#\s*include\s*[<"]([^>"]+)[>"])re");
    for (const auto& entry : fs::recursive_directory_iterator(root / layer)) {
        const std::string ext = entry.path().extension().string();
        if (!entry.is_regular_file() || (ext != ".cpp" && ext != ".hpp" && ext != ".h")) {
            continue;
        }
        std::ifstream in(entry.path());
        std::string line;
        while (std::getline(in, line)) {
            std::smatch m;
            if (std::regex_search(line, m, include_re)) {
                out.push_back({fs::relative(entry.path(), root).string(), m[1].str()});
            }
        }
    }
    return out;
}

// The includes of `layer` that name a file of one of the `forbidden` layers.
std::vector<std::string> violations(const std::string& layer, const std::vector<std::string>& forbidden)
{
    std::vector<std::string> bad;
    for (const auto& inc : includes_of(layer)) {
        for (const auto& f : forbidden) {
            // <analyzer/cli/x.hpp>, or a relative "../cli/x.hpp"
            if (inc.target.rfind("analyzer/" + f + "/", 0) == 0 || inc.target.find("../" + f + "/") != std::string::npos) {
                bad.push_back(inc.file + " includes " + inc.target);
            }
        }
    }
    return bad;
}

} // namespace

TEST_CASE("layering: the source tree is where the test looks", "[layering]")
{
    // a wrong root would make the rules below pass on nothing
    const auto ingest = includes_of("ingest");
    const auto live = includes_of("live");
    const auto kb = includes_of("kb");
    CHECK(ingest.size() > 20);
    CHECK(live.size() > 10);
    CHECK(kb.size() > 10);
    // and the matcher sees a real include of a layer: live uses the pipeline
    CHECK_FALSE(violations("live", {"pipeline"}).empty());
}

TEST_CASE("layering: live, kb, ingest and pipeline do not include cli", "[layering]")
{
    for (const std::string layer : {"live", "kb", "ingest", "pipeline", "correlate", "aggregate", "emit", "model",
                                    "util"}) {
        INFO(layer);
        CHECK(violations(layer, {"cli"}) == std::vector<std::string>{});
    }
}

TEST_CASE("layering: ingest does not include correlate (nor anything above it)", "[layering]")
{
    CHECK(violations("ingest", {"correlate", "aggregate", "kb", "emit", "live", "pipeline", "cli"})
          == std::vector<std::string>{});
}

TEST_CASE("layering: kb does not include emit", "[layering]")
{
    // kb/ decides what a fix grants and checks it; emit/fix_text writes its text once, after
    // the ranking (issue 14, item 0)
    CHECK(violations("kb", {"emit"}) == std::vector<std::string>{});
}
