// --threads N gives byte-identical output to --threads 1 (and to reading the same bytes from
// a pipe): on the fixtures, the test corpus and generated logs (scripts/gen-log) with interleaved events,
// with the default chunking and with tiny chunks that put a chunk boundary inside most events.
#include "../support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

using namespace virtdeny;
namespace fs = std::filesystem;

namespace {

std::string quoted_list(const std::vector<std::string>& files)
{
    std::string s;
    for (const auto& f : files) {
        s += " " + test::shell_quote(f);
    }
    return s;
}

// Runs explain --format json over files with the given threads and chunking.
test::RunResult explain(const std::vector<std::string>& files, const std::string& threads,
                        const std::string& env = {})
{
    return test::run(env + " NO_COLOR=1 " + test::shell_quote(test::binary()) + " explain --format json --threads "
                     + threads + quoted_list(files));
}

void check_identical(const std::vector<std::string>& files, bool compare_stdin, bool all_chunkings = true)
{
    INFO("inputs: " << quoted_list(files));
    const auto one = explain(files, "1");
    REQUIRE(one.status == 0);
    const auto two = explain(files, "2");
    CHECK(two.status == one.status);
    CHECK(two.out == one.out);
    CHECK(two.err == one.err);
    // chunk boundaries every few lines; rescans and adoptions after a few lines
    for (const char* env : {"VIRTDENY_CHUNK_BYTES=300 VIRTDENY_SYNC_LINES=3",
                            "VIRTDENY_CHUNK_BYTES=4096 VIRTDENY_SYNC_LINES=40",
                            "VIRTDENY_CHUNK_BYTES=65536"}) {
        if (!all_chunkings && std::string(env).find("65536") != std::string::npos) {
            continue;
        }
        INFO(env);
        for (const char* threads : {"1", "2", "3"}) {
            if (!all_chunkings && std::string(threads) == "1") {
                continue;
            }
            INFO("threads " << threads);
            const auto r = explain(files, threads, env);
            CHECK(r.status == one.status);
            CHECK(r.out == one.out);
            CHECK(r.err == one.err);
        }
    }
    if (compare_stdin && files.size() == 1) {
        // the streaming reader (pipes, gzip) sees the same bytes: same findings and counts
        const auto piped = test::run("cat " + test::shell_quote(files.front()) + " | NO_COLOR=1 "
                                     + test::shell_quote(test::binary()) + " explain --format json --threads 2");
        CHECK(piped.status == one.status);
        CHECK(piped.out == one.out);
    }
}

std::vector<std::string> files_under(const std::string& dir)
{
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); ++it) {
        if (it->is_regular_file(ec)) {
            out.push_back(it->path().string());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

TEST_CASE("threads: fixtures give identical output with 1 and 2 threads", "[ingest][threads]")
{
    std::vector<std::string> all;
    for (const auto& f : files_under(test::fixtures_dir())) {
        if (fs::path(f).filename() == "input.log") {
            all.push_back(f);
        }
    }
    REQUIRE(!all.empty());
    for (const auto& f : all) {
        check_identical({f}, true);
    }
    // all of them in one run: the state carried from one input to the next
    check_identical(all, false);
}

TEST_CASE("threads: the test corpus gives identical output with 1 and 2 threads", "[ingest][threads][corpus]")
{
    const std::string corpus = test::corpus_dir();
    for (const char* sub : {"apparmor", "audit", "selinux"}) {
        const auto files = files_under(corpus + "/" + sub);
        INFO(sub);
        REQUIRE(!files.empty());
        check_identical(files, false, false);
    }
}

TEST_CASE("threads: generated logs with interleaved events give identical output", "[ingest][threads][generated]")
{
    // the project's own generator (scripts/gen-log)
    if (!test::require_tool("python3", "python3")) {
        return;
    }
    const std::string gen = test::source_dir() + "/scripts/gen-log";
    const std::string dir = test::temp_dir();
    struct Case
    {
        const char* name;
        const char* args;
    };
    for (const Case& c : {Case{"raw-interleave-eoe.log", "--mb 5 --interleave 0.3 --eoe"},
                          Case{"kernel.log", "--mb 5 --format kernel"},
                          Case{"raw-interleave.log", "--mb 2 --interleave 0.3 --seed 7 --lsm selinux"}}) {
        const std::string path = dir + "/" + c.name;
        const auto g = test::run("python3 " + test::shell_quote(gen) + " " + c.args + " > " + test::shell_quote(path));
        INFO(g.err);
        REQUIRE(g.status == 0);
        REQUIRE(fs::file_size(path) > 1000000);
        INFO(c.args);
        check_identical({path}, true);
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
}
