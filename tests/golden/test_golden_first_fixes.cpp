// Reviewed answers (issue 14): for every finding of every fixture, the first fix and the fixes it
// must never offer (tests/golden/first-fixes.tsv), and what must hold for every fix of every
// fixture: no moot or insufficient fix printed as a fix, no allow rule or boolean for an MCS
// constraint, no rule tied to one run (a domain id, a mkstemp suffix, a pid). The fixtures'
// expected.json files are read; the golden test pins them to the binary's output.
#include "../json_support.hpp"
#include "../rules_tables.hpp"
#include "../support.hpp"

#include <analyzer/kb/access_model.hpp>
#include <analyzer/kb/tsv_table.hpp>
#include <analyzer/kb/virt_allow_table.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <regex>
#include <set>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Expectation
{
    std::string fixture;
    std::string object;     // object.path, or class:perms; trailing * = prefix
    std::string first;      // fixes[0].text; trailing * = prefix
    std::string effect;     // fixes[0].effect
    std::string forbidden;  // regex no fix text may match ("" = none)
    std::string why;
};

bool matches(const std::string& pattern, const std::string& value)
{
    if (!pattern.empty() && pattern.back() == '*') {
        return value.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
    }
    return pattern == value;
}

std::vector<Expectation> expectations()
{
    const std::string path = virtdeny::test::source_dir() + "/tests/golden/first-fixes.tsv";
    std::vector<Expectation> out;
    std::string error;
    const bool ok = virtdeny::kb::tsv::for_each_row(
        virtdeny::test::read_file(path), path, "fixture\tobject\tfirst\teffect\tforbidden\twhy", error,
        [&out](const std::vector<std::string_view>& f, const std::string&, std::string&) {
            out.push_back({std::string(f[0]), std::string(f[1]), std::string(f[2]), std::string(f[3]),
                           std::string(f[4]), std::string(f[5])});
            return true;
        });
    INFO(error);
    REQUIRE(ok);
    return out;
}

// The object selector of a finding: its path, else class:perm,perm.
std::string object_of(const json& f)
{
    const json& o = f.value("object", json::object());
    if (o.is_object() && o.contains("path") && o["path"].is_string()) {
        return o["path"].get<std::string>();
    }
    std::string perms;
    for (const auto& p : f.value("permissions", json::array())) {
        perms += (perms.empty() ? "" : ",") + p.get<std::string>();
    }
    return f.value("class", std::string()) + ":" + perms;
}

struct FixtureFinding
{
    std::string fixture;
    json finding;
};

std::vector<FixtureFinding> all_findings()
{
    std::vector<FixtureFinding> out;
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(virtdeny::test::fixtures_dir())) {
        if (e.is_directory() && fs::exists(e.path() / "expected.json")) {
            dirs.push_back(e.path());
        }
    }
    std::sort(dirs.begin(), dirs.end());
    for (const auto& dir : dirs) {
        for (const json& line : virtdeny::test::json_lines(virtdeny::test::read_file((dir / "expected.json").string()))) {
            if (line.contains("fixes") && !line["fixes"].empty()) {
                out.push_back({dir.filename().string(), line});
            }
        }
    }
    return out;
}

const virtdeny::kb::VirtAllowTable& bundled_tables()
{
    return virtdeny::test::bundled_table<virtdeny::kb::VirtAllowTable>("selinux");
}

std::vector<std::string> strings(const json& array)
{
    std::vector<std::string> out;
    for (const auto& v : array) {
        out.push_back(v.get<std::string>());
    }
    return out;
}

} // namespace

TEST_CASE("first fixes: every finding of every fixture has its reviewed first fix, no forbidden fix",
          "[golden][fixes]")
{
    const auto rows = expectations();
    const auto findings = all_findings();
    REQUIRE(findings.size() >= 50);
    std::set<std::size_t> used;
    for (const auto& [fixture, f] : findings) {
        const std::string object = object_of(f);
        INFO("fixture " << fixture << ", object " << object);
        // the n-th finding a selector matches uses the n-th row of that selector (same path,
        // two findings: e.g. an AppArmor and an SELinux host in one fixture)
        const Expectation* row = nullptr;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            if (rows[i].fixture == fixture && matches(rows[i].object, object) && used.count(i) == 0) {
                row = &rows[i];
                used.insert(i);
                break;
            }
        }
        REQUIRE(row != nullptr);  // a new finding needs a reviewed row in first-fixes.tsv
        const json& first = f["fixes"][0];
        CHECK(matches(row->first, first["text"].get<std::string>()));
        CHECK(first["effect"] == row->effect);
        if (!row->forbidden.empty()) {
            const std::regex forbidden(row->forbidden, std::regex::ECMAScript | std::regex::multiline);
            for (const auto& fix : f["fixes"]) {
                INFO("forbidden: " << row->forbidden << " (" << row->why << ")");
                CHECK_FALSE(std::regex_search(fix["text"].get<std::string>(), forbidden));
            }
        }
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
        INFO("first-fixes.tsv row for " << rows[i].fixture << " " << rows[i].object << " matches no finding");
        CHECK(used.count(i) == 1);
    }
}

TEST_CASE("first fixes: what holds for every fix of every fixture", "[golden][fixes]")
{
    // run-specific names: a libvirt domain id directory, a mkstemp suffix of a hugepage or memfd
    // file, a pid under /proc
    const std::regex run_specific(R"(/libvirt/qemu/[0-9]+-|domain-[0-9]+-|qemu_back_mem\.[^ "]*\.[A-Za-z0-9]{6}|memfd-[A-Za-z0-9]{6}"|/proc/[0-9]+/)");
    for (const auto& [fixture, f] : all_findings()) {
        INFO("fixture " << fixture << ", object " << object_of(f));
        const bool mcs = f.value("mac", "") == "selinux"
            && virtdeny::kb::mcs_denies(bundled_tables(), f.value("subject", ""),
                                        f["object"].value("tcontext", ""), f.value("class", ""),
                                        strings(f.value("permissions", json::array())));
        // narrowest first: after the policy upgrade (which adds only upstream's own rule), no
        // effective fix opens fewer VMs than one ranked above it
        int widest = 0;
        for (const auto& fix : f["fixes"]) {
            const std::string vms = fix.contains("breadth") ? fix["breadth"].value("vms", "") : "";
            const bool upgrade = fix["text"].get<std::string>().find("upgrade") != std::string::npos
                && fix["kind"] == "host-change";
            if (fix["effect"] != "allows" || upgrade || vms.empty()) {
                continue;
            }
            const int reach = vms == "this" ? 0 : vms == "all" ? 1 : 2;
            INFO("fix " << fix["text"].get<std::string>() << " opens " << vms);
            CHECK(reach >= widest);
            widest = std::max(widest, reach);
        }
        for (const auto& fix : f["fixes"]) {
            const std::string kind = fix["kind"].get<std::string>();
            const std::string text = fix["text"].get<std::string>();
            INFO("fix " << kind << ": " << text);
            // moot and insufficient candidates are dropped (said in the explanation), never printed
            CHECK(fix["effect"] != "moot");
            CHECK(fix["effect"] != "insufficient");
            if (mcs) {
                CHECK(kind != "selinux-allow");
                CHECK(kind != "selinux-boolean");
            }
            // a rule must survive the next start: only commands acting on today's file may name it
            const bool rule = kind == "apparmor-rule" || kind == "selinux-allow"
                || text.rfind("semanage fcontext", 0) == 0;
            if (rule) {
                CHECK_FALSE(std::regex_search(text, run_specific));
            }
        }
    }
}
