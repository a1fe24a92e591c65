// Side by side with audit2allow on the SELinux corpus logs (scripts/compare-audit2allow): per
// denial, virtdeny's allow rule never grants a permission, type or class that audit2allow's
// rule for the same log does not.
#include "../support.hpp"

#include <catch2/catch.hpp>

#include <regex>
#include <string>

using namespace virtdeny;

TEST_CASE("SELinux corpus: virtdeny's allow rules are never broader than audit2allow's", "[corpus][selinux][audit2allow]")
{
    if (!test::require_tool("audit2allow", "policycoreutils-python-utils")) {
        return;
    }
    const auto r = test::run(test::shell_quote(test::source_dir() + "/scripts/compare-audit2allow") + " --virtdeny " +
                             test::shell_quote(test::binary()));
    INFO(r.err);
    std::smatch m;
    const std::regex summary(R"(compared ([0-9]+) rules: ([0-9]+) broader than audit2allow's)");
    REQUIRE(std::regex_search(r.out, m, summary));
    const int compared = std::stoi(m[1]);
    const int broader = std::stoi(m[2]);
    // one rule per SELinux AVC finding of the corpus logs (SELINUX_ERR records get none)
    CHECK(compared > 1000);
    CHECK(broader == 0);
    CHECK(r.status == 0);
    // audit2allow really answered: most of virtdeny's rules were matched to one of its rules
    std::size_t ok = 0;
    for (std::size_t at = r.out.find("  ok\n"); at != std::string::npos; at = r.out.find("  ok\n", at + 1)) {
        ++ok;
    }
    CHECK(ok == static_cast<std::size_t>(compared));
}
