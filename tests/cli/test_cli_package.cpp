// Issue 8: the .deb. Builds it with CPack from this build tree, unpacks it into a temporary
// root (dpkg-deb -x), and runs the installed binary with the installed rules on a fixture.
// Slow (cpack): tagged [package]; run alone with `virtdeny_tests '[package]'` or
// `ctest -R '^package'`, leave out with `virtdeny_tests '~[package]'` / `ctest -E '^package'`.
#include "../support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <string>

using namespace virtdeny;

namespace fs = std::filesystem;

namespace {

bool have(const std::string& tool)
{
    return test::run("command -v " + tool + " >/dev/null 2>&1").status == 0;
}

} // namespace

TEST_CASE("package: the .deb installs into a scratch root and explains a fixture from there", "[package]")
{
    for (const char* tool : {"cpack", "dpkg-deb"}) {
        if (!have(tool)) {
            WARN("SKIPPED: " << tool << " is not installed (packages cmake, dpkg)");
            return;
        }
    }
    // The binary is BUILD/analyzer/virtdeny; CPack's config is at the top of BUILD.
    const fs::path build = fs::path(test::binary()).parent_path().parent_path();
    const fs::path config = build / "CPackConfig.cmake";
    if (!fs::exists(config)) {
        WARN("SKIPPED: no " << config.string() << " (configure with the top-level CMakeLists.txt)");
        return;
    }
    const std::string work = test::temp_dir();
    REQUIRE(!work.empty());
    const std::string out = work + "/out";
    const std::string root = work + "/root";

    const auto packed = test::run("cd " + test::shell_quote(build.string()) + " && cpack -G DEB --config " +
                                  test::shell_quote(config.string()) + " -B " + test::shell_quote(out));
    INFO(packed.out << packed.err);
    REQUIRE(packed.status == 0);
    const auto found = test::run("ls " + test::shell_quote(out) + "/virtdeny_*.deb");
    REQUIRE(found.status == 0);
    const std::string deb = found.out.substr(0, found.out.find('\n'));
    std::string arch = test::run("dpkg --print-architecture").out;
    arch = arch.substr(0, arch.find('\n'));
    CHECK(fs::path(deb).filename().string() == std::string("virtdeny_") + VIRTDENY_VERSION + "_" + arch + ".deb");

    {  // control fields
        const auto fields = test::run("dpkg-deb -f " + test::shell_quote(deb) + " Package Version Section Depends");
        CHECK(fields.out.find("Package: virtdeny\n") != std::string::npos);
        CHECK(fields.out.find(std::string("Version: ") + VIRTDENY_VERSION + "\n") != std::string::npos);
        CHECK(fields.out.find("Section: admin") != std::string::npos);
        if (have("dpkg-shlibdeps")) {
            CHECK(fields.out.find("libc6") != std::string::npos);  // Depends from dpkg-shlibdeps
        }
    }

    {  // the layout of issue 8, installed and working from the scratch root
        const auto listing = test::run("dpkg-deb -c " + test::shell_quote(deb));
        REQUIRE(listing.status == 0);
        for (const char* path : {"./usr/bin/virtdeny", "./usr/share/virtdeny/rules/devices/devices.yaml",
                                 "./usr/share/man/man1/virtdeny.1", "./usr/share/bash-completion/completions/virtdeny",
                                 "./usr/share/zsh/vendor-completions/_virtdeny"}) {
            INFO(path);
            CHECK(listing.out.find(path) != std::string::npos);
        }
        CHECK(listing.out.find("./usr/local/") == std::string::npos);
        if (fs::is_directory(test::source_dir() + "/dist/audit/plugins.d") ||
            fs::is_directory(test::source_dir() + "/dist/audisp")) {
            CHECK(listing.out.find("./etc/audit/plugins.d/") != std::string::npos);
            const auto control = test::run("dpkg-deb -I " + test::shell_quote(deb) + " conffiles");
            CHECK(control.out.find("/etc/audit/plugins.d/") != std::string::npos);
        }
        if (fs::is_directory(test::source_dir() + "/dist/libexec")) {
            CHECK(std::regex_search(listing.out, std::regex(R"(-rwxr-xr-x .* \./usr/libexec/)")));
        }
        if (fs::is_directory(test::source_dir() + "/dist/systemd")) {
            CHECK(listing.out.find("./usr/lib/systemd/system/") != std::string::npos);
        }

        REQUIRE(test::run("dpkg-deb -x " + test::shell_quote(deb) + " " + test::shell_quote(root)).status == 0);
        const std::string bin = root + "/usr/bin/virtdeny";
        const std::string rules = root + "/usr/share/virtdeny/rules";
        REQUIRE(fs::exists(bin));
        // No VIRTDENY_RULES: the installed binary finds ../share/virtdeny/rules beside itself.
        const std::string run_installed = "env -u VIRTDENY_RULES NO_COLOR=1 " + test::shell_quote(bin);

        const auto version = test::run(run_installed + " --version");
        CHECK(version.status == 0);
        CHECK(version.out == std::string("virtdeny ") + VIRTDENY_VERSION + "\n");

        const auto shown = test::run(run_installed + " rules show vd-dev-memfd");
        CHECK(shown.status == 0);
        CHECK(shown.out.find("# " + rules + "/devices/devices.yaml:") != std::string::npos);

        const std::string fixture = test::fixtures_dir() + "/seed-001-memfd-tmp";
        const auto explained = test::run(run_installed + " explain --format json --libvirt-xml " +
                                         test::shell_quote(fixture + "/libvirt") + " " +
                                         test::shell_quote(fixture + "/input.log"));
        INFO(explained.err);
        CHECK(explained.status == 0);
        CHECK(explained.out.find("\"device\":\"memfd\"") != std::string::npos);
        CHECK(explained.out.find("\"summary\"") != std::string::npos);
        CHECK(explained.err.find("rules directory not found") == std::string::npos);

        // The same with the documented override pointing at the installed share dir.
        const auto overridden = test::run("NO_COLOR=1 VIRTDENY_RULES=" + test::shell_quote(rules) + " " +
                                          test::shell_quote(bin) + " explain " + test::shell_quote(fixture + "/input.log"));
        CHECK(overridden.status == 0);
        CHECK(overridden.out.find("memfd") != std::string::npos);

        const auto validated = test::run(run_installed + " rules validate --rules-replace " + test::shell_quote(rules));
        CHECK(validated.out.find(rules + ": ") != std::string::npos);

        const auto help = test::run(run_installed + " help rules");
        CHECK(help.status == 0);

        if (have("man")) {
            const auto man = test::run("MANWIDTH=120 LC_ALL=C man -l " +
                                       test::shell_quote(root + "/usr/share/man/man1/virtdeny.1.gz") + " | col -b");
            CHECK(man.status == 0);
            CHECK(man.out.find("VIRTDENY(1)") != std::string::npos);
        }
        const std::string completion = root + "/usr/share/bash-completion/completions/virtdeny";
        const auto bash = test::run("bash -c " + test::shell_quote("source " + test::shell_quote(completion) +
                                                                    " && complete -p virtdeny"));
        CHECK(bash.status == 0);
        CHECK(bash.out.find("_virtdeny") != std::string::npos);
    }
    std::error_code ec;
    fs::remove_all(work, ec);
}
