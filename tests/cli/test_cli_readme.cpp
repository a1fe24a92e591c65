// Issue 8: the README stays true to the tree. It starts with the two quick-start commands,
// shows every command with an example, links only files that exist, and its source layout
// names every folder there is (one line per folder) and no folder that is gone.
#include "../support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <set>
#include <string>

using namespace virtdeny;
namespace fs = std::filesystem;

namespace {

std::string readme()
{
    return test::read_file(test::source_dir() + "/README.md");
}

std::string section(const std::string& text, const std::string& heading)
{
    const auto from = text.find("\n" + heading + "\n");
    REQUIRE(from != std::string::npos);
    const auto to = text.find("\n## ", from + heading.size() + 2);
    return text.substr(from, to == std::string::npos ? std::string::npos : to - from);
}

} // namespace

TEST_CASE("README: the two quick-start commands first, every command with an example", "[cli][readme]")
{
    const std::string text = readme();
    CHECK(text.rfind("# virtdeny\n\n```sh\nscripts/demo    # ", 0) == 0);
    CHECK(text.find("\nscripts/test    # ") < text.find("\n## "));
    for (const char* example : {"virtdeny explain ", "virtdeny suggest ", "virtdeny follow", "virtdeny replay ",
                                "virtdeny rules list", "virtdeny rules show ", "virtdeny rules validate ",
                                "virtdeny rules schema", "virtdeny help ", "virtdeny --version"}) {
        INFO(example);
        CHECK(text.find("$ " + std::string(example)) != std::string::npos);
    }
    for (const char* heading : {"## What it solves", "## Install", "## Commands", "## JSON output",
                                "## Knowledge base (`rules/`)", "## Performance", "## Source layout"}) {
        INFO(heading);
        CHECK(text.find("\n" + std::string(heading) + "\n") != std::string::npos);
    }
    // the seed stories, each with its fixture
    for (const char* seed : {"seed-000-nvdimm-home", "seed-001-memfd-tmp", "seed-003-libvirtd-profile",
                             "seed-004-9p-fmode-dmode"}) {
        CHECK(text.find(std::string("fixtures/") + seed + "/input.log") != std::string::npos);
    }
}

TEST_CASE("README: every relative link names a file of the tree", "[cli][readme]")
{
    const std::string text = readme();
    const std::regex link(R"(\]\(([^)#:]+)\))");
    int links = 0;
    for (std::sregex_iterator it(text.begin(), text.end(), link), end; it != end; ++it) {
        const std::string target = (*it)[1];
        INFO(target);
        CHECK(fs::exists(test::source_dir() + "/" + target));
        ++links;
    }
    CHECK(links >= 3);
}

TEST_CASE("README: the source layout has one line per folder, for every folder", "[cli][readme]")
{
    const std::string layout = section(readme(), "## Source layout");
    std::set<std::string> listed;
    const std::regex entry(R"(\n- `([^`]+)/` — )");
    for (std::sregex_iterator it(layout.begin(), layout.end(), entry), end; it != end; ++it) {
        listed.insert((*it)[1]);
    }
    for (const auto& dir : listed) {
        INFO("listed but absent: " << dir);
        CHECK(fs::is_directory(test::source_dir() + "/" + dir));
    }
    // every top-level folder (not build trees or hidden ones, .ci excepted), every analyzer/
    // stage, every dist/ part
    std::set<std::string> expected{".ci"};
    for (const auto& e : fs::directory_iterator(test::source_dir())) {
        const std::string name = e.path().filename().string();
        if (e.is_directory() && name[0] != '.' && name.rfind("build", 0) != 0 && name != "analyzer" && name != "dist") {
            expected.insert(name);
        }
    }
    for (const char* parent : {"analyzer", "dist"}) {
        for (const auto& e : fs::directory_iterator(test::source_dir() + "/" + parent)) {
            if (e.is_directory()) {
                expected.insert(std::string(parent) + "/" + e.path().filename().string());
            }
        }
    }
    for (const auto& dir : expected) {
        INFO("folder not in the README's source layout: " << dir);
        CHECK(listed.count(dir) == 1);
    }
}
