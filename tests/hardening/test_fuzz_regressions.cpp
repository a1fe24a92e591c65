// The libFuzzer targets (tests/fuzz/) built into the test suite: every regression input in
// fixtures/fuzz/<target>/ (crashes and check failures the fuzzers found, and hand-written
// adversarial seeds) and every fixture log goes through the same target code and its
// checks, which throw here instead of aborting. Under scripts/test-sanitize the same runs
// are checked by ASan and UBSan.
#define VIRTDENY_FUZZ_IN_TESTS 1

#include "../fuzz/fuzz_assembler.cpp"
#include "../fuzz/fuzz_domain_xml.cpp"
#include "../fuzz/fuzz_fields.cpp"
#include "../fuzz/fuzz_line_reader.cpp"
#include "../fuzz/fuzz_pipeline.cpp"
#include "../fuzz/fuzz_reader.cpp"
#include "../fuzz/fuzz_rules.cpp"
#include "../fuzz/fuzz_selinux_writer.cpp"
#include "../fuzz/fuzz_writers.cpp"

#include "../support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>

using namespace virtdeny;
namespace fs = std::filesystem;

namespace {

using Target = std::function<int(const std::uint8_t*, std::size_t)>;

const std::map<std::string, Target>& targets()
{
    static const std::map<std::string, Target> k_targets = {
        {"line_reader", fuzz::line_reader::one_input}, {"fields", fuzz::fields::one_input},
        {"reader", fuzz::reader::one_input},           {"assembler", fuzz::assembler::one_input},
        {"pipeline", fuzz::pipeline::one_input},       {"domain_xml", fuzz::domain_xml::one_input},
        {"rules", fuzz::rules::one_input},             {"writers", fuzz::writers::one_input},
        {"selinux_writer", fuzz::selinux_writer::one_input},
    };
    return k_targets;
}

std::vector<std::string> files_in(const std::string& dir)
{
    std::vector<std::string> out;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        return out;
    }
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.is_regular_file() && e.path().filename() != "README.md") {
            out.push_back(e.path().string());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

void run_input(const std::string& target, const std::string& file)
{
    const std::string data = test::read_file(file);
    INFO("fuzz_" << target << " on " << file);
    const auto& fn = targets().at(target);
    CHECK_NOTHROW(fn(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
}

} // namespace

TEST_CASE("every fuzz target has a regression folder and every input there passes", "[hardening][fuzz]")
{
    const std::string root = test::fixtures_dir() + "/fuzz";
    std::size_t total = 0;
    for (const auto& [target, fn] : targets()) {
        const auto files = files_in(root + "/" + target);
        INFO("fixtures/fuzz/" << target);
        CHECK(!files.empty());
        for (const auto& f : files) {
            run_input(target, f);
            ++total;
        }
    }
    // no folder for a target that does not exist
    for (const auto& e : fs::directory_iterator(root)) {
        if (e.is_directory()) {
            INFO(e.path());
            CHECK(targets().count(e.path().filename().string()) == 1);
        }
    }
    CHECK(total >= targets().size());
}

TEST_CASE("the fuzz targets' checks hold on every fixture log and domain XML", "[hardening][fuzz]")
{
    std::size_t logs = 0;
    std::size_t xmls = 0;
    for (const auto& e : fs::directory_iterator(test::fixtures_dir())) {
        const std::string log = e.path().string() + "/input.log";
        if (fs::is_regular_file(log)) {
            for (const char* t : {"line_reader", "fields", "reader", "pipeline"}) {
                run_input(t, log);
            }
            ++logs;
        }
        for (const auto& xml : files_in(e.path().string() + "/libvirt")) {
            if (xml.size() > 4 && xml.compare(xml.size() - 4, 4, ".xml") == 0) {
                run_input("domain_xml", xml);
                ++xmls;
            }
        }
    }
    CHECK(logs >= 20);
    CHECK(xmls >= 5);
}

TEST_CASE("the fuzz targets' checks catch what they are meant to catch", "[hardening][fuzz]")
{
    // the oracles themselves: a raw ESC is not terminal-safe, an escaped one is
    CHECK_FALSE(fuzz::terminal_safe("a\x1b[31mb"));
    CHECK(fuzz::terminal_safe(util::printable("a\x1b[31mb")));
    CHECK_FALSE(fuzz::terminal_safe("\xc2\x9b" "31m"));  // C1 CSI
    CHECK_FALSE(fuzz::valid_utf8("\xc3("));
    // the reference line split
    const auto lines = fuzz::line_reader::reference_lines("a\r\nbbbbbbbbbb\nc", 5);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].text == "a");
    CHECK(lines[1].error);
    CHECK(lines[2].error);  // half-written last line
    // the shell reader refuses what a shell would expand
    std::vector<std::vector<std::string>> commands;
    CHECK_FALSE(fuzz::selinux_writer::shell_words("restorecon -v $(id)", commands));
    CHECK(fuzz::selinux_writer::shell_words("restorecon -v '$(id)'", commands));
    REQUIRE(commands.size() == 1);
    CHECK(commands[0] == std::vector<std::string>{"restorecon", "-v", "$(id)"});
}

TEST_CASE("fuzzed file names compile with apparmor_parser to a rule for that name only", "[hardening][fuzz][parser]")
{
    if (!test::require_tool("apparmor_parser", "apparmor")) {
        return;
    }
    const auto files = files_in(test::fixtures_dir() + "/fuzz/writers");
    REQUIRE(!files.empty());
    for (const auto& file : files) {
        const std::string name = test::read_file(file);
        if (name.find('\0') != std::string::npos || name.size() > 3000) {
            continue;
        }
        const std::string path = (!name.empty() && name.front() == '/') ? name : "/var/lib/libvirt/images/" + name;
        model::Finding f;
        f.mac = model::Mac::apparmor;
        f.subject = "libvirt-2afa1131-bc8c-43d2-9c4a-962c1bf7723e";
        f.tclass = "file";
        f.path = path;
        f.permissions = {"read"};
        f.sample.fsuid = 107;
        f.sample.ouid = 0;
        INFO(file);
        CHECK_NOTHROW(fuzz::writers::check_with_parser(path, emit::apparmor_rule(f)));
    }
}
