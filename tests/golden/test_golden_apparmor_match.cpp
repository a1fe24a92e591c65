// Every AppArmor file rule virtdeny proposes on the fixtures is compiled by apparmor_parser
// (-QK -D expr-tree), and the pattern the parser built must match the denied path (issue 14:
// "check each proposed rule with apparmor_parser that it matches the denied path"). The fix
// check's own matcher (kb/apparmor_glob) must agree with the parser on that path and on paths
// around it (below it, a sibling, the parent), so its answers for follow-on accesses are the
// parser's answers too.
#include "../apparmor_tree.hpp"
#include "../json_support.hpp"
#include "../support.hpp"

#include <analyzer/kb/apparmor_glob.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <sstream>

namespace fs = std::filesystem;
using nlohmann::json;
using namespace virtdeny;

namespace {

// The path glob of a file rule ("owner "/a/b" rw," → "/a/b" with its quotes), or "" when the
// rule is not a file rule (network, dbus, capability, mount ...).
std::string file_rule_glob(std::string rule)
{
    if (rule.rfind("owner ", 0) == 0) {
        rule.erase(0, 6);
    }
    if (rule.rfind("\"/", 0) == 0) {
        for (std::size_t i = 1; i < rule.size(); ++i) {
            if (rule[i] == '\\') {
                ++i;
            } else if (rule[i] == '"') {
                return rule.substr(0, i + 1);
            }
        }
        return {};
    }
    if (rule.rfind('/', 0) == 0) {
        return rule.substr(0, rule.find(' '));
    }
    return {};
}

// The dump's expression for the rule (one line; a rule with l holds two patterns, each with its
// permission mark), the profile's attachment line left out.
std::string rule_tree(const std::string& dump)
{
    std::istringstream in(dump);
    std::string line;
    std::string tree;
    while (std::getline(in, line)) {
        if (line.find("< 0x") != std::string::npos && line.rfind("/usr/bin/test_vd<", 0) != 0) {
            REQUIRE(tree.empty());
            tree = line;
        }
    }
    return tree;
}

// The path as the kernel reports it: never two slashes in a row (a hostile log may hold them;
// the parser folds them in a rule the same way).
std::string kernel_path(std::string path)
{
    for (std::size_t i = path.find("//"); i != std::string::npos; i = path.find("//", i)) {
        path.erase(i, 1);
    }
    return path;
}

std::string parent_of(const std::string& path)
{
    const std::string trimmed = path.size() > 1 && path.back() == '/' ? path.substr(0, path.size() - 1) : path;
    const std::size_t slash = trimmed.rfind('/');
    return slash == std::string::npos ? std::string("/") : trimmed.substr(0, slash + 1);
}

} // namespace

TEST_CASE("apparmor rules of every fixture: the parser's pattern matches the denied path, as the fix check says",
          "[golden][apparmor][fixes]")
{
    if (!test::require_tool("apparmor_parser", "apparmor")) {
        return;
    }
    std::size_t checked = 0;
    for (const auto& e : fs::directory_iterator(test::fixtures_dir())) {
        const fs::path expected = e.path() / "expected.json";
        if (!fs::exists(expected)) {
            continue;
        }
        for (const json& f : test::json_lines(test::read_file(expected.string()))) {
            if (!f.contains("fixes") || !f["object"].is_object() || !f["object"].contains("path")
                || !f["object"]["path"].is_string()) {
                continue;
            }
            const std::string path = kernel_path(f["object"]["path"].get<std::string>());
            for (const auto& fix : f["fixes"]) {
                const std::string rule = fix["text"].get<std::string>();
                const std::string glob = file_rule_glob(rule);
                if (fix["kind"] != "apparmor-rule" || glob.empty()) {
                    continue;
                }
                INFO("fixture " << e.path().filename().string() << ": " << rule << " for " << path);
                const std::string file = test::temp_dir() + "/profile";
                test::write_file(file, test::apparmor_test_profile(rule));
                const auto r = test::run("apparmor_parser -QK -D expr-tree " + test::shell_quote(file));
                REQUIRE(r.status == 0);
                const std::string tree = rule_tree(r.out + "\n" + r.err);
                REQUIRE_FALSE(tree.empty());
                const std::regex parsed(test::expr_tree_ecma(tree), std::regex::ECMAScript);
                CHECK(std::regex_match(path, parsed));
                const std::string dir = path.back() == '/' ? path : parent_of(path);
                for (const std::string& probe :
                     {path, dir + "sub/file.qcow2", parent_of(dir) + "other", parent_of(path), path + ".bak"}) {
                    INFO("probe " << probe);
                    CHECK(kb::apparmor_glob_matches(glob, probe) == std::regex_match(probe, parsed));
                }
                ++checked;
            }
        }
    }
    CHECK(checked >= 30);
}
