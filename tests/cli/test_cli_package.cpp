// Issue 8: the .deb. Builds it with CPack from this build tree, unpacks it into a temporary
// root (dpkg-deb -x), and runs the installed binary with the installed rules on a fixture.
// Slow (cpack): tagged [package]; run alone with `virtdeny_tests '[package]'` or
// `ctest -R '^package'`, leave out with `virtdeny_tests '~[package]'` / `ctest -E '^package'`.
#include "../support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <string>
#include <unistd.h>

using namespace virtdeny;

namespace fs = std::filesystem;

namespace {

bool have(const std::string& tool)
{
    return test::run("command -v " + tool + " >/dev/null 2>&1").status == 0;
}

// cpack from the build tree into out; runs of several test processes (ctest -j) take turns,
// as cpack first builds the tree's preinstall target.
std::string cpack_command(const std::string& build, const std::string& config, const std::string& out)
{
    const std::string lock = have("flock") ? "flock " + test::shell_quote(build + "/.virtdeny-cpack.lock") + " " : "";
    return "cd " + test::shell_quote(build) + " && " + lock + "cpack -G DEB --config " + test::shell_quote(config) +
           " -B " + test::shell_quote(out);
}

// Runs cpack for this build's .deb, written under out; its path.
std::string pack_deb(const fs::path& build, const fs::path& config, const std::string& out)
{
    const auto packed = test::run(cpack_command(build.string(), config.string(), out));
    INFO(packed.out << packed.err);
    REQUIRE(packed.status == 0);
    const auto found = test::run("ls " + test::shell_quote(out) + "/virtdeny_*.deb");
    REQUIRE(found.status == 0);
    return found.out.substr(0, found.out.find('\n'));
}

} // namespace

TEST_CASE("package: the .deb installs into a scratch root and explains a fixture from there", "[package]")
{
    for (const char* tool : {"cpack", "dpkg-deb"}) {
        if (!test::require_tool(tool, std::string(tool) == "cpack" ? "cmake" : "dpkg")) {
            return;
        }
    }
    // The binary is BUILD/analyzer/virtdeny; CPack's config is at the top of BUILD.
    const fs::path build = fs::path(test::binary()).parent_path().parent_path();
    const fs::path config = build / "CPackConfig.cmake";
    if (!test::require_present(fs::exists(config), "no " + config.string() + " (configure with the top-level CMakeLists.txt)")) {
        return;
    }
    const std::string work = test::temp_dir();
    REQUIRE(!work.empty());
    const std::string out = work + "/out";
    const std::string root = work + "/root";

    const std::string deb = pack_deb(build, config, out);
    std::string arch = test::run("dpkg --print-architecture").out;
    arch = arch.substr(0, arch.find('\n'));
    CHECK(fs::path(deb).filename().string() == std::string("virtdeny_") + VIRTDENY_VERSION + "_" + arch + ".deb");

    {  // control fields
        const auto fields = test::run("dpkg-deb -f " + test::shell_quote(deb) + " Package Version Section Depends");
        CHECK(fields.out.find("Package: virtdeny\n") != std::string::npos);
        CHECK(fields.out.find(std::string("Version: ") + VIRTDENY_VERSION + "\n") != std::string::npos);
        CHECK(fields.out.find("Section: admin") != std::string::npos);
        if (test::require_tool("dpkg-shlibdeps", "dpkg-dev")) {
            CHECK(fields.out.find("libc6") != std::string::npos);  // Depends from dpkg-shlibdeps
            CHECK(fields.out.find("libvirt0") != std::string::npos);  // --connect: the libvirt client library
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

        if (test::require_tool("man", "man-db")) {
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

// The .deb installed for real by dpkg into a scratch root (its own dpkg database, no chroot),
// as `apt install ./virtdeny_*.deb` would on a host: registered, conffile kept on remove and
// gone on purge; the installed layout is consistent (unit, plugin and wrapper name installed
// paths) and the installed binary explains the fleet fixture from there. apt accepts the
// package here: its Depends resolve (apt-get --simulate).
TEST_CASE("package: dpkg installs the .deb into a scratch root, it runs there, apt accepts it", "[package]")
{
    for (const char* tool : {"cpack", "dpkg-deb", "dpkg"}) {
        if (!test::require_tool(tool, std::string(tool) == "cpack" ? "cmake" : "dpkg")) {
            return;
        }
    }
    if (::geteuid() != 0) {
        WARN("SKIPPED: dpkg --root needs root");
        return;
    }
    const fs::path build = fs::path(test::binary()).parent_path().parent_path();
    const fs::path config = build / "CPackConfig.cmake";
    if (!test::require_present(fs::exists(config), "no " + config.string() + " (configure with the top-level CMakeLists.txt)")) {
        return;
    }
    const std::string work = test::temp_dir();
    const std::string out = work + "/out";
    const std::string root = work + "/root";
    const std::string deb = pack_deb(build, config, out);

    // an empty dpkg database in the scratch root; the libraries come from the host, so
    // Depends are checked by apt below, not in the empty root
    fs::create_directories(root + "/var/lib/dpkg/info");
    fs::create_directories(root + "/var/lib/dpkg/updates");
    test::write_file(root + "/var/lib/dpkg/status", "");
    const std::string dpkg = "dpkg --root=" + test::shell_quote(root) + " --log=/dev/null ";
    const auto installed = test::run(dpkg + "--force-depends -i " + test::shell_quote(deb));
    INFO(installed.out << installed.err);
    REQUIRE(installed.status == 0);
    const auto status = test::run(dpkg + "-s virtdeny");
    CHECK(status.out.find("Status: install ok installed") != std::string::npos);
    const auto files = test::run(dpkg + "-L virtdeny");
    for (const char* path : {"/usr/bin/virtdeny", "/usr/share/virtdeny/rules/devices/devices.yaml",
                             "/usr/share/man/man1/virtdeny.1.gz", "/usr/share/bash-completion/completions/virtdeny",
                             "/usr/share/zsh/vendor-completions/_virtdeny", "/usr/share/doc/virtdeny/README.md",
                             "/usr/share/doc/virtdeny/json.md", "/usr/share/doc/virtdeny/fleet.md",
                             "/usr/share/doc/virtdeny/examples/vector.toml",
                             "/usr/share/doc/virtdeny/examples/rsyslog-virtdeny.conf"}) {
        INFO(path);
        CHECK(files.out.find(std::string(path) + "\n") != std::string::npos);
        CHECK(fs::exists(root + path));
    }

    // what the installed files point at is installed too
    std::smatch m;
    const std::string unit = test::read_file(root + "/usr/lib/systemd/system/virtdeny-follow.service");
    REQUIRE(std::regex_search(unit, m, std::regex(R"(ExecStart=(\S+))")));
    CHECK(m[1] == "/usr/bin/virtdeny");
    const std::string plugin_conf = root + "/etc/audit/plugins.d/virtdeny.conf";
    if (fs::exists(plugin_conf)) {
        const std::string plugin = test::read_file(plugin_conf);
        REQUIRE(std::regex_search(plugin, m, std::regex(R"(\npath *= *(\S+))")));
        const std::string wrapper = m[1];
        CHECK(fs::exists(root + wrapper));
        CHECK(test::read_file(root + wrapper).find("/usr/bin/virtdeny ") != std::string::npos);
        CHECK(test::run(dpkg + "-s virtdeny").out.find("Conffiles:\n /etc/audit/plugins.d/virtdeny.conf ") !=
              std::string::npos);
    }

    // the installed binary with the installed rules, on the fleet fixture
    const std::string bin = root + "/usr/bin/virtdeny";
    const std::string fleet = test::fixtures_dir() + "/fleet-audisp-remote/input.log";
    const auto explained = test::run("env -u VIRTDENY_RULES NO_COLOR=1 " + test::shell_quote(bin) + " explain " +
                                     test::shell_quote(fleet));
    INFO(explained.err);
    CHECK(explained.status == 0);
    CHECK(explained.err.empty());
    CHECK(explained.out.find("node hv02.lab.example.net: VM db02 ") != std::string::npos);
    CHECK(explained.out.find("4 findings from 5 denials") != std::string::npos);
    const auto listed = test::run("env -u VIRTDENY_RULES " + test::shell_quote(bin) + " rules list --format json");
    CHECK(listed.out.find("\"file\":\"" + root + "/usr/share/virtdeny/rules/") != std::string::npos);

    // remove keeps the admin's conffile, purge removes it
    CHECK(test::run(dpkg + "-r virtdeny").status == 0);
    CHECK(!fs::exists(bin));
    CHECK(!fs::exists(root + "/usr/share/virtdeny/rules/devices/devices.yaml"));
    if (fs::exists(root + "/etc/audit/plugins.d")) {
        CHECK(fs::exists(plugin_conf));
        CHECK(test::run(dpkg + "--purge virtdeny").status == 0);
        CHECK(!fs::exists(plugin_conf));
    }

    // apt takes the file as a package and its Depends resolve on this system
    if (test::require_tool("apt-get", "apt")) {
        const auto simulated = test::run("apt-get install --simulate --no-install-recommends " + test::shell_quote(deb));
        INFO(simulated.out << simulated.err);
        CHECK(simulated.status == 0);
        CHECK(std::regex_search(simulated.out, std::regex(R"((Inst|Reinst) virtdeny|virtdeny is already the newest)")));
    }
    std::error_code ec;
    fs::remove_all(work, ec);
}

// `cmake --install` under another prefix (a source install in /usr/local), staged with
// DESTDIR: the same layout under that prefix, the auditd plugin in /etc/audit/plugins.d
// (the only place auditd reads), and the unit, the plugin and its wrapper naming that
// prefix's virtdeny, which finds that prefix's rules.
TEST_CASE("package: cmake --install --prefix /usr/local lays out a working install", "[package]")
{
    if (!test::require_tool("cmake", "cmake")) {
        return;
    }
    const fs::path build = fs::path(test::binary()).parent_path().parent_path();
    if (!test::require_present(fs::exists(build / "cmake_install.cmake"), "no cmake_install.cmake in " + build.string())) {
        return;
    }
    const std::string stage = test::temp_dir();
    const auto installed = test::run("DESTDIR=" + test::shell_quote(stage) + " cmake --install " +
                                     test::shell_quote(build.string()) + " --prefix /usr/local");
    INFO(installed.out << installed.err);
    REQUIRE(installed.status == 0);
    const std::string prefix = stage + "/usr/local";
    for (const char* path : {"/bin/virtdeny", "/share/virtdeny/rules/devices/devices.yaml", "/share/man/man1/virtdeny.1",
                             "/share/bash-completion/completions/virtdeny", "/share/zsh/vendor-completions/_virtdeny",
                             "/share/doc/virtdeny/README.md", "/share/doc/virtdeny/json.md"}) {
        INFO(path);
        CHECK((fs::exists(prefix + path) || fs::exists(prefix + path + ".gz")));
    }
    if (fs::is_directory(test::source_dir() + "/dist/systemd")) {
        const std::string unit = test::read_file(prefix + "/lib/systemd/system/virtdeny-follow.service");
        CHECK(unit.find("ExecStart=/usr/local/bin/virtdeny follow ") != std::string::npos);
        CHECK(unit.find("/usr/bin/virtdeny") == std::string::npos);
    }
    if (fs::is_directory(test::source_dir() + "/dist/audit/plugins.d")) {
        const std::string plugin = test::read_file(stage + "/etc/audit/plugins.d/virtdeny.conf");
        std::smatch m;
        REQUIRE(std::regex_search(plugin, m, std::regex(R"(\npath *= *(\S+))")));
        const std::string wrapper = m[1];
        CHECK(wrapper.rfind("/usr/local/libexec/", 0) == 0);
        REQUIRE(fs::exists(stage + wrapper));
        CHECK((fs::status(stage + wrapper).permissions() & fs::perms::owner_exec) != fs::perms::none);
        const std::string script = test::read_file(stage + wrapper);
        CHECK(script.find("exec /usr/local/bin/virtdeny ") != std::string::npos);
        CHECK(script.find("/usr/bin/virtdeny") == std::string::npos);
        // 0644 as Debian policy wants a conffile (lintian); auditd refuses a plugin config that
        // group or others may write (the auditd integration test runs it so)
        CHECK(fs::status(stage + "/etc/audit/plugins.d/virtdeny.conf").permissions() ==
              (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read));
    }
    const auto shown = test::run("env -u VIRTDENY_RULES " + test::shell_quote(prefix + "/bin/virtdeny") +
                                 " rules show vd-dev-memfd");
    CHECK(shown.status == 0);
    CHECK(shown.out.find("# " + prefix + "/share/virtdeny/rules/devices/devices.yaml:") != std::string::npos);
    std::error_code ec;
    fs::remove_all(stage, ec);
}

// lintian, Debian's package checker, finds no error and no warning in the .deb (issue 13: a
// real Maintainer, the copyright file and changelog, description lines of at most 80
// columns, a man page for each program, a conffile of mode 0644). Informational tags are
// printed, not failed on.
TEST_CASE("package: lintian reports no error and no warning on the .deb", "[package][lintian]")
{
    for (const char* tool : {"cpack", "lintian"}) {
        if (!test::require_tool(tool, std::string(tool) == "cpack" ? "cmake" : "lintian")) {
            return;
        }
    }
    const fs::path build = fs::path(test::binary()).parent_path().parent_path();
    const fs::path config = build / "CPackConfig.cmake";
    if (!test::require_present(fs::exists(config), "no " + config.string() + " (configure with the top-level CMakeLists.txt)")) {
        return;
    }
    const std::string work = test::temp_dir();
    REQUIRE(!work.empty());
    const std::string deb = pack_deb(build, config, work + "/out");
    // --fail-on error,warning: lintian's own exit status; every tag is printed (-EI: info and
    // experimental too) so that a failure shows what to fix
    const auto r = test::run("lintian --tag-display-limit 0 -EI --fail-on error,warning " + test::shell_quote(deb));
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK(!std::regex_search(r.out, std::regex("^[EW]: ", std::regex::multiline)));
    // the package's own documentation is there, in Debian's formats
    const auto listing = test::run("dpkg-deb -c " + test::shell_quote(deb));
    for (const char* path : {"./usr/share/doc/virtdeny/copyright", "./usr/share/doc/virtdeny/changelog.gz",
                             "./usr/share/man/man1/virtdeny.1.gz", "./usr/share/man/man8/virtdeny-audisp.8.gz"}) {
        INFO(path);
        CHECK(listing.out.find(path) != std::string::npos);
    }
    const auto maintainer = test::run("dpkg-deb -f " + test::shell_quote(deb) + " Maintainer");
    CHECK(maintainer.out.find("@localhost") == std::string::npos);
    std::error_code ec;
    fs::remove_all(work, ec);
}
