// replay --baseline / --write-baseline / --junit / --format markdown, and the stable keys.
#include "../support.hpp"

#include <analyzer/cli/baseline.hpp>

#include <catch2/catch.hpp>
#include <pugixml.hpp>

#include <filesystem>
#include <regex>
#include <sstream>
#include <sys/stat.h>
#include <string>

using namespace virtdeny;

namespace {

const char* const k_selinux_line =
    "type=AVC msg=audit(1710382510.170:815): avc:  denied  { map } for  pid=48211 comm=\"qemu-system-aar\" "
    "path=\"/home/u/VMs/lab01/nvdimm-0.dev\" dev=\"dm-2\" ino=1 "
    "scontext=system_u:system_r:svirt_tcg_t:s0:c418,c911 tcontext=unconfined_u:object_r:user_home_t:s0 "
    "tclass=file permissive=0\n";

std::string memfd_log()
{
    return test::read_file(test::fixtures_dir() + "/seed-001-memfd-tmp/input.log");
}

// The same log as another run would write it: other pids, serials and memfd suffixes.
std::string other_run(std::string log)
{
    log = std::regex_replace(log, std::regex("memfd-[A-Za-z0-9]{6}"), "memfd-Zz9Yx8");
    log = std::regex_replace(log, std::regex("pid=1([0-9]+)"), "pid=7$1");
    log = std::regex_replace(log, std::regex(":([0-9]+)\\)"), ":5$1)");
    return log;
}

std::string xml_arg()
{
    return " --libvirt-xml " + test::shell_quote(test::fixtures_dir() + "/seed-001-memfd-tmp/libvirt");
}

} // namespace

TEST_CASE("stable paths drop what changes between runs", "[replay][baseline]")
{
    CHECK(cli::stable_path("/tmp/memfd-Qw83Zk") == "/tmp/memfd-*");
    CHECK(cli::stable_path("/tmp/memfd-8hTr2p") == "/tmp/memfd-*");
    CHECK(cli::stable_path("/tmp/memfd-tNpKSj") == "/tmp/memfd-*");
    CHECK(cli::stable_path("/proc/12345/status") == "/proc/*/status");
    CHECK(cli::stable_path("/var/lib/libvirt/qemu/domain-12-lab01/master-key.aes") ==
          "/var/lib/libvirt/qemu/domain-*-lab01/master-key.aes");
    CHECK(cli::stable_path("/var/lib/nova/instances/2afa1131-bc8c-43d2-9c4a-962c1bf7723e/disk") ==
          "/var/lib/nova/instances/*/disk");
    CHECK(cli::stable_path("/tmp/tmpa8x9Qz_k") == "/tmp/tmp*");
    // words and ordinary names stay
    CHECK(cli::stable_path("/home/u/VMs/lab01/nvdimm-0.dev") == "/home/u/VMs/lab01/nvdimm-0.dev");
    CHECK(cli::stable_path("/var/lib/libvirt/images/disk.qcow2") == "/var/lib/libvirt/images/disk.qcow2");
    CHECK(cli::stable_path("/srv/share/backup") == "/srv/share/backup");
    CHECK(cli::stable_context("system_u:object_r:svirt_image_t:s0:c1,c2") == "svirt_image_t");
}

TEST_CASE("replay: write a baseline, a second run with other pids/serials/suffixes is clean", "[replay][cli]")
{
    const std::string dir = test::temp_dir();
    const std::string baseline = dir + "/baseline.jsonl";
    test::write_file(dir + "/run1.log", memfd_log());
    test::write_file(dir + "/run2.log", other_run(memfd_log()));

    auto w = test::virtdeny("replay --write-baseline " + test::shell_quote(baseline) + xml_arg() + " " +
                            test::shell_quote(dir + "/run1.log"));
    INFO(w.err);
    REQUIRE(w.status == 0);
    const std::string content = test::read_file(baseline);
    CHECK(content.find("memfd-*") != std::string::npos);
    CHECK(content.find("12625") == std::string::npos);   // no pids
    CHECK(content.find("tNpKSj") == std::string::npos);  // no random suffixes
    CHECK(content.find("instance-0000002a") != std::string::npos);  // VM by name

    auto same = test::virtdeny("replay --baseline " + test::shell_quote(baseline) + xml_arg() + " " +
                               test::shell_quote(dir + "/run1.log"));
    CHECK(same.status == 0);
    auto again = test::virtdeny("replay --baseline " + test::shell_quote(baseline) + xml_arg() + " " +
                                test::shell_quote(dir + "/run2.log"));
    INFO(again.out);
    CHECK(again.status == 0);
    CHECK(again.out.find("0 new") != std::string::npos);

    // a new denial: exit 1, listed
    test::write_file(dir + "/run3.log", other_run(memfd_log()) + k_selinux_line);
    auto fresh = test::virtdeny("replay --baseline " + test::shell_quote(baseline) + xml_arg() + " " +
                                test::shell_quote(dir + "/run3.log"));
    CHECK(fresh.status == 1);
    CHECK(fresh.out.find("NEW selinux") != std::string::npos);
    CHECK(fresh.out.find("nvdimm-0.dev") != std::string::npos);

    // --write-baseline updates it; then the same log passes
    auto upd = test::virtdeny("replay --write-baseline " + test::shell_quote(baseline) + xml_arg() + " " +
                              test::shell_quote(dir + "/run3.log"));
    CHECK(upd.status == 0);
    auto after = test::virtdeny("replay --baseline " + test::shell_quote(baseline) + xml_arg() + " " +
                                test::shell_quote(dir + "/run3.log") + " " + test::shell_quote(dir + "/run1.log"));
    CHECK(after.status == 0);
}

TEST_CASE("replay: JUnit report parses, one test case per finding, failures for new ones", "[replay][cli]")
{
    const std::string dir = test::temp_dir();
    const std::string baseline = dir + "/baseline.jsonl";
    test::write_file(dir + "/run1.log", memfd_log());
    test::write_file(dir + "/run3.log", other_run(memfd_log()) + k_selinux_line);
    REQUIRE(test::virtdeny("replay --write-baseline " + test::shell_quote(baseline) + xml_arg() + " " +
                           test::shell_quote(dir + "/run1.log"))
                .status == 0);
    const std::string junit = dir + "/report.xml";
    auto r = test::virtdeny("replay --baseline " + test::shell_quote(baseline) + " --junit " +
                            test::shell_quote(junit) + xml_arg() + " " + test::shell_quote(dir + "/run3.log"));
    CHECK(r.status == 1);
    pugi::xml_document doc;
    const auto parsed = doc.load_file(junit.c_str());
    INFO(parsed.description());
    REQUIRE(parsed);
    auto suite = doc.child("testsuites").child("testsuite");
    REQUIRE(suite);
    std::size_t cases = 0;
    std::size_t failures = 0;
    for (auto tc : suite.children("testcase")) {
        ++cases;
        CHECK(!std::string(tc.attribute("name").value()).empty());
        if (tc.child("failure")) {
            ++failures;
            CHECK(std::string(tc.attribute("name").value()).find("nvdimm-0.dev") != std::string::npos);
        }
    }
    CHECK(cases == 4);  // /tmp/memfd-*, /tmp/, /var/tmp/, the nvdimm map
    CHECK(failures == 1);
    CHECK(suite.attribute("tests").as_uint() == cases);
    CHECK(suite.attribute("failures").as_uint() == 1);
}

TEST_CASE("replay: markdown and json output", "[replay][cli]")
{
    const std::string dir = test::temp_dir();
    const std::string baseline = dir + "/baseline.jsonl";
    test::write_file(dir + "/run1.log", memfd_log());
    test::write_file(dir + "/run3.log", memfd_log() + k_selinux_line);
    REQUIRE(test::virtdeny("replay --write-baseline " + test::shell_quote(baseline) + xml_arg() + " " +
                           test::shell_quote(dir + "/run1.log"))
                .status == 0);
    auto md = test::virtdeny("replay --format markdown --baseline " + test::shell_quote(baseline) + xml_arg() + " " +
                             test::shell_quote(dir + "/run3.log"));
    CHECK(md.status == 1);
    CHECK(md.out.rfind("## virtdeny: 1 new denial finding", 0) == 0);
    CHECK(md.out.find("| instance-0000002a |") == std::string::npos);  // known ones only in the details
    CHECK(md.out.find("<details>") != std::string::npos);

    auto js = test::virtdeny("replay --format json --baseline " + test::shell_quote(baseline) + xml_arg() + " " +
                             test::shell_quote(dir + "/run3.log"));
    CHECK(js.status == 1);
    CHECK(js.out.find("\"baseline\":\"new\"") != std::string::npos);
    CHECK(js.out.find("\"summary\"") != std::string::npos);
}

TEST_CASE("replay: usage and unreadable baseline", "[replay][cli]")
{
    CHECK(test::virtdeny("replay /dev/null").status == 2);
    CHECK(test::virtdeny("replay --baseline /nonexistent/baseline.jsonl /dev/null").status == 3);
    const std::string dir = test::temp_dir();
    test::write_file(dir + "/bad", "this is not json\n");
    CHECK(test::virtdeny("replay --baseline " + test::shell_quote(dir + "/bad") + " /dev/null").status == 3);
    test::write_file(dir + "/empty", "");
    CHECK(test::virtdeny("replay --baseline " + test::shell_quote(dir + "/empty") + " /dev/null").status == 0);
}

TEST_CASE("replay: --write-baseline to a pipe or device writes into it, never renames over it", "[replay][cli]")
{
    // as root, renaming a temporary file over /dev/null replaces the device node with a file;
    // a FIFO stands in for any file that is not a regular one
    const std::string dir = test::temp_dir();
    const std::string fifo = dir + "/baseline.fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const std::string log = test::shell_quote(test::fixtures_dir() + "/seed-001-memfd-tmp/input.log");
    const auto r = test::run("cat " + test::shell_quote(fifo) + " > " + test::shell_quote(dir + "/read.txt") + " & " +
                             test::shell_quote(test::binary()) + " replay --write-baseline " + test::shell_quote(fifo) +
                             " " + log + "; s=$?; wait; exit $s");
    INFO(r.err);
    CHECK(r.status == 0);
    struct stat st{};
    REQUIRE(::stat(fifo.c_str(), &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
    CHECK(!std::filesystem::exists(fifo + ".tmp"));
    CHECK(test::read_file(dir + "/read.txt").find("# virtdeny baseline v1") == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("replay: json is explain's record plus the baseline fields, as terminal-safe", "[replay][cli]")
{
    // fixtures/hostile-text: paths and process names with terminal escapes, U+202E (RLO),
    // U+009B (CSI) and DEL. replay once printed its records re-serialised without the
    // escaping of those (raw bytes on the terminal); it now adds its fields to the same
    // record value explain serialises.
    const std::string log = test::shell_quote(test::fixtures_dir() + "/hostile-text/input.log");
    const std::string dir = test::temp_dir();
    test::write_file(dir + "/empty.jsonl", "");
    const auto explain = test::virtdeny("explain --format json " + log);
    const auto replay =
        test::virtdeny("replay --format json --baseline " + test::shell_quote(dir + "/empty.jsonl") + " " + log);
    REQUIRE(explain.status == 0);
    CHECK(replay.status == 1);  // every finding is new
    for (const char* raw : {"\xe2\x80\xae", "\xc2\x9b", "\x7f", "\x1b"}) {
        CHECK(replay.out.find(raw) == std::string::npos);
    }
    CHECK(replay.out.find("\\u202e") != std::string::npos);
    CHECK(replay.out.find("\\u009b") != std::string::npos);
    // line by line: explain's finding, then ,"baseline":"new","baseline_key":...}
    std::istringstream e(explain.out);
    std::istringstream r(replay.out);
    std::string el;
    std::string rl;
    int findings = 0;
    while (std::getline(e, el) && std::getline(r, rl)) {
        if (el.rfind("{\"summary\"", 0) == 0) {
            break;
        }
        ++findings;
        REQUIRE(el.size() > 1);
        CHECK(rl.rfind(el.substr(0, el.size() - 1) + ",\"baseline\":\"new\",\"baseline_key\":", 0) == 0);
    }
    CHECK(findings >= 3);
}
