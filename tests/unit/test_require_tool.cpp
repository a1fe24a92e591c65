// test::require_tool (tests/support.hpp): a missing tool fails the test with
// VIRTDENY_REQUIRE_TOOLS=1 (scripts/test, CI) and is a visible skip without it. The probe
// below is hidden (tag [.]); the test runs this test executable on it in both modes.
#include "../support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

using namespace virtdeny;

TEST_CASE("require_tool probe: a tool no machine has", "[.][require_tool_probe]")
{
    if (!test::require_tool("virtdeny-no-such-tool", "no-such-package")) {
        return;
    }
    FAIL("virtdeny-no-such-tool was found");
}

TEST_CASE("require_tool: a missing tool fails with VIRTDENY_REQUIRE_TOOLS=1, is skipped visibly without it", "[support]")
{
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    const std::string probe = test::shell_quote(self) + " -r compact '[require_tool_probe]'";
    const auto required = test::run("VIRTDENY_REQUIRE_TOOLS=1 " + probe);
    INFO(required.out << required.err);
    CHECK(required.status != 0);
    CHECK(required.out.find("missing: virtdeny-no-such-tool is not installed (Debian package no-such-package)") != std::string::npos);
    const auto by_hand = test::run("env -u VIRTDENY_REQUIRE_TOOLS " + probe);
    INFO(by_hand.out << by_hand.err);
    CHECK(by_hand.status == 0);
    CHECK(by_hand.out.find("SKIPPED: virtdeny-no-such-tool is not installed") != std::string::npos);
    // a tool that is there: no skip, no failure
    CHECK(test::run("VIRTDENY_REQUIRE_TOOLS=1 true").status == 0);
}
