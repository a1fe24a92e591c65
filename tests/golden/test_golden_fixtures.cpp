// Golden tests: every fixtures/<case>/input.log is explained (with its libvirt/ XML when
// present) and the JSON Lines must equal fixtures/<case>/expected.json. A missing
// expectation fails; scripts/update-golden rewrites them for review.
#include "../support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>

namespace fs = std::filesystem;
using namespace virtdeny;

namespace {

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        out.push_back(line);
    }
    return out;
}

} // namespace

TEST_CASE("golden: explain --format json on every fixture equals its expected.json", "[golden]")
{
    std::vector<fs::path> cases;
    for (const auto& e : fs::directory_iterator(test::fixtures_dir())) {
        if (e.is_directory() && fs::exists(e.path() / "input.log")) {
            cases.push_back(e.path());
        }
    }
    std::sort(cases.begin(), cases.end());
    REQUIRE(cases.size() >= 5);
    for (const auto& dir : cases) {
        const std::string name = dir.filename().string();
        INFO("fixture " << name);
        const fs::path expected_path = dir / "expected.json";
        REQUIRE(fs::exists(expected_path));
        // syslog/journal dates without a year (seed 003's journal, dbus-daemon's own lines) are read
        // as 2026, the year the fixtures were written, so that the goldens do not age; the
        // bundled policy data, not an SELinux host's loaded policy
        std::string args = "explain --format json --year 2026 --policy none --virt-aa-helper none";
        if (fs::is_directory(dir / "libvirt")) {
            args += " --libvirt-xml libvirt";
        }
        // node.xml: libvirt's test driver stands for the host's libvirt (--connect)
        if (fs::exists(dir / "node.xml")) {
            args += " --connect " + test::shell_quote("test://" + (dir / "node.xml").string());
        }
        // TZ=UTC: local dates of pasted summaries (aureport rows, ausearch -i) in one zone
        const auto r = test::run("cd " + test::shell_quote(dir.string()) + " && TZ=UTC NO_COLOR=1 " +
                                 test::shell_quote(test::binary()) + " " + args + " input.log");
        CHECK((r.status == 0 || r.status == 3) == true);
        const auto actual = lines_of(r.out);
        const auto expected = lines_of(test::read_file(expected_path.string()));
        CHECK(actual.size() == expected.size());
        for (std::size_t i = 0; i < std::min(actual.size(), expected.size()); ++i) {
            INFO("line " << (i + 1));
            CHECK(actual[i] == expected[i]);
        }
    }
}
