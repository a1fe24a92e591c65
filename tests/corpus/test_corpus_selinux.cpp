// Every SELinux and auditd log of ../shared/corpus is read with zero reader errors, and the
// AVC / USER_AVC denials found equal an independent count of "avc: denied" in each file,
// cross-checked against ausearch where it is installed.
#include "../support.hpp"

#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/ingest/event_assembler.hpp>
#include <analyzer/ingest/line_reader.hpp>
#include <analyzer/ingest/scanner.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <sstream>

namespace fs = std::filesystem;
using namespace virtdeny;

namespace {

struct Counts
{
    std::uint64_t avc = 0;
    std::uint64_t user_avc = 0;
    std::uint64_t selinux_err = 0;
    std::uint64_t bad_lines = 0;
};

bool is_user_avc(const std::string& type)
{
    return type == "USER_AVC" || type == "1107";
}

Counts scan_file(const std::string& path)
{
    Counts c;
    correlate::VmRegistry registry;
    ingest::EventAssembler assembler([&](model::Event& ev) {
        for (const auto& d : ev.denials) {
            if (d.mac != model::Mac::selinux) {
                continue;
            }
            if (d.record_type == "SELINUX_ERR" || d.record_type == "USER_SELINUX_ERR") {
                ++c.selinux_err;
            } else if (is_user_avc(d.record_type)) {
                ++c.user_avc;
            } else {
                ++c.avc;
            }
        }
    });
    util::Diagnostics diagnostics(nullptr);
    ingest::Scanner scanner(assembler, diagnostics);
    scanner.on_virt([&](const ingest::Record& r) { registry.add(r); });
    std::string error;
    auto reader = ingest::LineReader::open(path, error);
    REQUIRE(reader);
    scanner.scan(*reader, 0);
    assembler.flush_all();
    c.bad_lines = diagnostics.bad_lines();
    return c;
}

// Independent count: "avc:" followed by "denied" inside a record of the type.
Counts grep_count(const std::string& path)
{
    Counts c;
    std::istringstream in(test::read_file(path));
    std::string line;
    static const std::regex k_record(R"((type=(AVC|USER_AVC)\b)[^\n]*?avc:\s+denied)");
    while (std::getline(in, line)) {
        for (std::sregex_iterator it(line.begin(), line.end(), k_record), end; it != end; ++it) {
            if ((*it)[2] == "USER_AVC") {
                ++c.user_avc;
            } else {
                ++c.avc;
            }
        }
    }
    return c;
}

std::vector<std::string> corpus_logs()
{
    std::vector<std::string> files;
    for (const char* sub : {"corpus/selinux", "corpus/audit"}) {
        const fs::path root = fs::path(test::shared_dir()) / sub;
        for (const auto& e : fs::recursive_directory_iterator(root)) {
            const auto p = e.path();
            const auto ext = p.extension().string();
            if (!e.is_regular_file() || ext == ".md" || ext == ".cil" || ext == ".ref" || ext == ".py"
                || p.filename() == "perm_map") {
                continue;
            }
            files.push_back(p.string());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

} // namespace

TEST_CASE("SELinux and auditd corpus logs: zero reader errors, denial counts equal an independent count",
          "[corpus][selinux]")
{
    REQUIRE_SHARED();
    const auto files = corpus_logs();
    REQUIRE(files.size() >= 20);
    std::uint64_t total_avc = 0;
    std::uint64_t total_user = 0;
    for (const auto& file : files) {
        INFO(file);
        const Counts ours = scan_file(file);
        const Counts theirs = grep_count(file);
        CHECK(ours.bad_lines == 0);
        CHECK(ours.avc == theirs.avc);
        CHECK(ours.user_avc == theirs.user_avc);
        total_avc += ours.avc;
        total_user += ours.user_avc;
    }
    std::printf("corpus: %zu logs, %llu AVC and %llu USER_AVC denials, all matching the independent count\n",
                files.size(), static_cast<unsigned long long>(total_avc), static_cast<unsigned long long>(total_user));
    CHECK(total_avc > 5000);
    CHECK(total_user > 3000);
}

TEST_CASE("SELinux corpus: AVC counts agree with ausearch where it reads the log", "[corpus][selinux][ausearch]")
{
    REQUIRE_SHARED();
    if (test::run("command -v ausearch").status != 0) {
        WARN("SKIPPED: ausearch not installed (package auditd)");
        return;
    }
    for (const char* rel : {"corpus/selinux/SELinuxProject-selinux/python/sepolgen/tests/test_data/audit.log",
                            "corpus/selinux/SELinuxProject-selinux/python/sepolgen/tests/test_data/short.log",
                            "corpus/audit/audit-userspace/auparse/test/test.log"}) {
        const std::string file = test::shared_dir() + "/" + rel;
        INFO(file);
        // ausearch prints the matching events' records; count the AVC records among them
        const auto r = test::run("ausearch --input " + test::shell_quote(file) + " -m AVC --raw 2>/dev/null | grep -c '^type=AVC .*avc: *denied' || true");
        const Counts ours = scan_file(file);
        const auto theirs = std::stoull(r.out.empty() ? "0" : r.out);
        // ausearch drops records it judges malformed; it never finds more than we do
        CHECK(theirs <= ours.avc);
        CHECK(theirs > 0);
        if (theirs != ours.avc) {
            WARN(std::string(rel) + ": ausearch " + std::to_string(theirs) + " vs virtdeny " + std::to_string(ours.avc));
        }
    }
}
