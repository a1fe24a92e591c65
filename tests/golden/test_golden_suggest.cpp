// `virtdeny suggest` on each seed fixture: the fix set matches the checked-in golden output
// (tests/golden/suggest/<case>.txt; a missing one fails; scripts/update-golden rewrites them
// for review, with the fixtures' expected.json), and what it
// writes with --out compiles: AppArmor rules inside a profile with apparmor_parser -QK, the
// SELinux modules with checkmodule + semodule_package, apply.sh with sh -n and a no-op run.
#include "../support.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

using namespace virtdeny;
namespace fs = std::filesystem;

namespace {

// The README's "### Denials" sections quote the explanations (owned by the knowledge base);
// the golden holds the fixes only.
std::string without_denials(const std::string& text)
{
    std::string out;
    bool skip = false;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) {
            nl = text.size();
        }
        const std::string line = text.substr(pos, nl - pos);
        if (line == "### Denials") {
            skip = true;
        } else if (line.rfind("## ", 0) == 0 || line.rfind("==> ", 0) == 0) {
            skip = false;
        }
        if (!skip) {
            out += line + "\n";
        }
        pos = nl + 1;
    }
    return out;
}

} // namespace

TEST_CASE("suggest on the seed fixtures matches the golden fix sets and compiles", "[golden][suggest]")
{
    const fs::path fixtures(test::fixtures_dir());
    const fs::path golden_dir = fs::path(test::source_dir()) / "tests" / "golden" / "suggest";
    // the compilers of what --out writes (a missing one fails with VIRTDENY_REQUIRE_TOOLS=1)
    const bool apparmor_parser = test::require_tool("apparmor_parser", "apparmor");
    const bool checkmodule = test::require_tool("checkmodule", "checkpolicy") && test::require_tool("semodule_package", "semodule-utils");
    int cases = 0;
    for (const auto& entry : fs::directory_iterator(fixtures)) {
        const std::string name = entry.path().filename().string();
        if (!entry.is_directory() || name.rfind("seed-", 0) != 0 || !fs::exists(entry.path() / "input.log")) {
            continue;
        }
        SECTION(name)
        {
            std::string args;
            if (fs::exists(entry.path() / "libvirt")) {
                args += "--libvirt-xml " + test::shell_quote((entry.path() / "libvirt").string()) + " ";
            }
            args += test::shell_quote((entry.path() / "input.log").string());
            const auto r = test::virtdeny("suggest " + args);
            INFO(r.err);
            REQUIRE(r.status == 0);
            const std::string got = without_denials(r.out);
            const fs::path golden = golden_dir / (name + ".txt");
            // a missing golden fails, as a fixture's expected.json does (scripts/update-golden)
            INFO("golden " << golden.string());
            REQUIRE(fs::exists(golden));
            CHECK(got == test::read_file(golden.string()));

            // the same artifacts on disk, compiled
            const std::string out = test::temp_dir() + "/out";
            const auto w = test::virtdeny("suggest " + args + " --out " + test::shell_quote(out));
            REQUIRE(w.status == 0);
            REQUIRE(fs::exists(fs::path(out) / "README.md"));
            for (const auto& f : fs::recursive_directory_iterator(out)) {
                const std::string p = f.path().string();
                INFO(p);
                if (f.path().extension() == ".rules" && apparmor_parser) {
                    const std::string prof = p + ".profile";
                    test::write_file(prof, "abi <abi/3.0>,\nprofile test_vd /usr/bin/test_vd {\n" + test::read_file(p) + "}\n");
                    const auto c = test::run("apparmor_parser -QK " + test::shell_quote(prof));
                    INFO(c.err);
                    CHECK(c.status == 0);
                } else if (f.path().extension() == ".te" && checkmodule) {
                    const std::string base = test::shell_quote((f.path().parent_path() / f.path().stem()).string());
                    const auto c = test::run("checkmodule -M -m -o " + base + ".mod " + base + ".te && semodule_package -o "
                                             + base + ".pp -m " + base + ".mod");
                    INFO(c.err);
                    CHECK(c.status == 0);
                } else if (f.path().filename() == "apply.sh") {
                    CHECK(test::run("sh -n " + test::shell_quote(p)).status == 0);
                    // without --apply it changes nothing and says so
                    const auto c = test::run("sh " + test::shell_quote(p));
                    CHECK(c.status == 0);
                    CHECK(c.err.find("nothing was changed") != std::string::npos);
                    const auto d = test::run("sh " + test::shell_quote(p) + " --dry-run");
                    CHECK(d.status == 0);
                    CHECK(d.out.find("+ ") != std::string::npos);
                }
            }
        }
        ++cases;
    }
    CHECK(cases >= 1);
}
