// Output safety: control characters, C1 controls, bidi overrides and bytes that are not
// UTF-8 from the log never reach a terminal raw (text, markdown, follow, stderr) and are
// escaped in JSON; shell commands in fixes and in suggest's apply.sh quote every argument
// taken from the log (checked by running them under a real shell with stub commands).
#include <analyzer/emit/json_sink.hpp>
#include <analyzer/emit/selinux_writer.hpp>
#include <analyzer/util/text.hpp>
#include <analyzer/util/escape.hpp>

#include "../fuzz/fuzz_support.hpp"
#include "hardening_support.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

using namespace virtdeny;
namespace fs = std::filesystem;

namespace {

std::string fixture_log()
{
    return test::fixtures_dir() + "/hostile-text/input.log";
}

std::size_t count_byte(const std::string& s, unsigned char c)
{
    return static_cast<std::size_t>(std::count(s.begin(), s.end(), static_cast<char>(c)));
}

// No byte a terminal would act on: ESC, BEL, other C0 controls but newline, DEL, C1.
void check_terminal_safe(const std::string& out)
{
    CHECK(count_byte(out, 0x1b) == 0);
    CHECK(count_byte(out, 0x07) == 0);
    CHECK(count_byte(out, 0x7f) == 0);
    CHECK(out.find("\xc2\x9b") == std::string::npos);
    CHECK(out.find("\xe2\x80\xae") == std::string::npos);
    CHECK(fuzz::terminal_safe(out, "\n"));
}

} // namespace

TEST_CASE("terminal escape sequences in comm, exe, names and VM names are shown escaped", "[hardening][output]")
{
    const std::string log = test::shell_quote(fixture_log());
    SECTION("text")
    {
        // --color always: our own colour codes are the only ESC bytes there may be
        for (const char* colour : {"", " --color never"}) {
            const auto r = test::virtdeny(std::string("explain") + colour + " " + log);
            REQUIRE(r.status == 0);
            check_terminal_safe(r.out);
            check_terminal_safe(r.err);
            CHECK(r.out.find("process: qemu\\x1B]0;pwned\\x07 /usr/bin/qemu-system-x86_64\\x1B[8m") != std::string::npos);
            CHECK(r.out.find("/home/u/VMs/\\x1B[2J\\x1B[31mdisk.img") != std::string::npos);
            CHECK(r.out.find("VM lab\\x1B]0;owned\\x07-01") != std::string::npos);
            CHECK(r.out.find("invoice\\xE2\\x80\\xAEgpj.iso\\xC2\\x9B31m") != std::string::npos);
            CHECK(r.out.find("rpc-\\x1B[1Avirt\\x7Fqemud") != std::string::npos);
        }
        const auto coloured = test::virtdeny("explain --color always " + log);
        REQUIRE(coloured.status == 0);
        // every ESC starts one of the sink's own SGR codes
        std::size_t at = 0;
        std::size_t escapes = 0;
        while ((at = coloured.out.find('\x1b', at)) != std::string::npos) {
            const std::size_t m = coloured.out.find('m', at);
            REQUIRE(m != std::string::npos);
            const std::string code = coloured.out.substr(at, m - at + 1);
            INFO(code);
            CHECK((code == "\x1b[0m" || code == "\x1b[1m" || code == "\x1b[31m" || code == "\x1b[32m" || code == "\x1b[33m"));
            ++escapes;
            at = m;
        }
        CHECK(escapes > 0);
    }
    SECTION("markdown")
    {
        const auto r = test::virtdeny("explain --format markdown " + log);
        REQUIRE(r.status == 0);
        check_terminal_safe(r.out);
    }
    SECTION("json: escaped, valid UTF-8, the same text once parsed")
    {
        const auto r = test::virtdeny("explain --format json " + log);
        REQUIRE(r.status == 0);
        check_terminal_safe(r.out);
        CHECK(r.out.find("qemu\\u001b]0;pwned\\u0007") != std::string::npos);
        CHECK(r.out.find("\\u007f") != std::string::npos);
        CHECK(r.out.find("\\u009b") != std::string::npos);
        CHECK(r.out.find("invoice\\u202egpj.iso\\u009b31m") != std::string::npos);
        std::size_t pos = 0;
        bool saw_comm = false;
        while (pos < r.out.size()) {
            const std::size_t nl = r.out.find('\n', pos);
            const auto j = nlohmann::json::parse(r.out.substr(pos, nl - pos));
            if (j.contains("process") && j["process"]["comm"].is_string()) {
                const std::string comm = j["process"]["comm"];
                if (comm.rfind("qemu\x1b", 0) == 0) {
                    CHECK(comm == "qemu\x1b]0;pwned\x07");  // the log's text, exactly
                    saw_comm = true;
                }
            }
            pos = nl + 1;
        }
        CHECK(saw_comm);
    }
    SECTION("follow (one line per event as it arrives)")
    {
        const auto r = test::virtdeny("follow -", test::read_file(fixture_log()));
        REQUIRE(r.status == 0);
        CHECK(r.out.find("qemu\\x1B]0;pwned\\x07") != std::string::npos);
        check_terminal_safe(r.out);
        check_terminal_safe(r.err);
    }
    SECTION("replay")
    {
        const std::string dir = test::temp_dir();
        test::write_file(dir + "/empty.json", "");
        const auto r = test::virtdeny("replay --baseline " + test::shell_quote(dir + "/empty.json") + " " + log);
        CHECK(r.status == 1);  // new denials
        check_terminal_safe(r.out);
        check_terminal_safe(r.err);
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    SECTION("stderr: a malformed line's report")
    {
        const auto r = test::virtdeny(
            "explain -", "type=AVC msg=audit(1720000000.000:1): avc:  denied  { read } for comm=\"\x1b]0;x\x07\n"
                         "type=AVC msg=audit(17200\x1b[2J00000.000:1): x\n");
        CHECK(r.status == 0);
        CHECK(r.err.find("line 1") != std::string::npos);
        check_terminal_safe(r.err);
        check_terminal_safe(r.out);
    }
}

TEST_CASE("JSON escapes DEL, the C1 and the bidi controls as well as C0 ones", "[hardening][output]")
{
    model::Finding f;
    f.mac = model::Mac::selinux;
    f.path = std::string("/a\x7f" "b\xc2\x85" "c\xc2\x9b" "d\xc2\xa0" "e\x1b" "f\xff");
    f.comm = "\xe2\x80\xae" "rtl\xe2\x81\xa6\xd8\x9c";
    const std::string json = emit::finding_json(f);
    CHECK(fuzz::terminal_safe(json));
    const auto j = nlohmann::json::parse(json);
    // same value once parsed: DEL, NEL, CSI kept as characters; the bad byte as text
    CHECK(j["object"]["path"] == std::string("/a\x7f" "b\xc2\x85" "c\xc2\x9b" "d\xc2\xa0" "e\x1b" "f\\xFF"));
    CHECK(json.find("\\u007f") != std::string::npos);
    CHECK(json.find("\\u0085") != std::string::npos);
    CHECK(json.find("\\u009b") != std::string::npos);
    CHECK(json.find("\xc2\xa0") != std::string::npos);  // NBSP is not a control: left as is
    CHECK(json.find("\\u202ertl\\u2066\\u061c") != std::string::npos);
    CHECK(j["process"]["comm"] == "\xe2\x80\xae" "rtl\xe2\x81\xa6\xd8\x9c");
}

TEST_CASE("printable escapes bidi controls, keeps other text", "[hardening][output]")
{
    CHECK(util::printable("a\xe2\x80\xae" "b") == "a\\xE2\\x80\\xAEb");
    CHECK(util::printable("\xe2\x81\xa6x\xe2\x81\xa9") == "\\xE2\\x81\\xA6x\\xE2\\x81\\xA9");
    CHECK(util::printable("\xe2\x80\x8f") == "\\xE2\\x80\\x8F");
    CHECK(util::printable("caf\xc3\xa9 \xe2\x80\x94 \xe2\x82\xac") == "caf\xc3\xa9 \xe2\x80\x94 \xe2\x82\xac");
}

namespace {

// Runs a fix's shell text under bash with the named commands replaced by a stub that writes
// its arguments, one per NUL-terminated record, to DIR/args; returns the argument lists.
std::vector<std::vector<std::string>> run_with_stubs(const std::string& script, const std::vector<std::string>& commands,
                                                     const std::string& dir)
{
    std::string prelude = "set -u\ncd " + test::shell_quote(dir) + "\n";
    for (const auto& c : commands) {
        prelude += c + "() { printf '%s\\0' " + test::shell_quote(c) + " \"$@\" >> " + test::shell_quote(dir + "/args")
            + "; printf '\\n' >> " + test::shell_quote(dir + "/args") + "; }\n";
    }
    test::write_file(dir + "/fix.sh", prelude + script + "\n");
    const auto r = test::run("bash " + test::shell_quote(dir + "/fix.sh"));
    INFO(r.err);
    CHECK(r.status == 0);
    std::vector<std::vector<std::string>> out;
    const std::string args = test::read_file(dir + "/args");
    std::vector<std::string> current;
    std::string word;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == '\0') {
            current.push_back(word);
            word.clear();
        } else if (args[i] == '\n' && word.empty()) {
            out.push_back(current);
            current.clear();
        } else {
            word.push_back(args[i]);
        }
    }
    return out;
}

const std::vector<std::string>& hostile_paths()
{
    static const std::vector<std::string> k = {
        "/home/u/VMs/plain.img",
        "/home/u/VMs/with space.img",
        "/home/u/VMs/it's.img",
        "/home/u/VMs/$(touch pwned).img",
        "/home/u/VMs/`touch pwned`.img",
        "/home/u/VMs/a;touch pwned;.img",
        "/home/u/VMs/*",
        "/home/u/VMs/x\ntouch pwned\n.img",
        "/home/u/VMs/-rf",
        "/home/u/VMs/\"q\" \\ $HOME",
    };
    return k;
}

} // namespace

TEST_CASE("relabel fixes quote every argument taken from the log (run under bash)", "[hardening][output][shell]")
{
    if (!test::require_tool("bash", "bash")) {
        return;
    }
    for (const auto& path : hostile_paths()) {
        INFO(path);
        model::Finding f;
        f.mac = model::Mac::selinux;
        f.domain = model::DomainRef{"vm1", "2afa1131-bc8c-43d2-9c4a-962c1bf7723e", "vm-ctx"};
        f.subject = "system_u:system_r:svirt_t:s0:c1,c2";
        f.tcontext = "unconfined_u:object_r:user_home_t:s0";
        f.tclass = "file";
        f.path = path;
        f.permissions = {"read", "write"};
        const auto fix = emit::selinux_relabel_fix(f);
        REQUIRE(fix);
        const std::string dir = test::temp_dir();
        const auto calls = run_with_stubs(fix->text, {"semanage", "restorecon"}, dir);
        CHECK(!fs::exists(dir + "/pwned"));
        REQUIRE(calls.size() == 2);
        CHECK(calls[0] == std::vector<std::string>{"semanage", "fcontext", "-a", "-t", "svirt_image_t",
                                                   util::selinux_fcontext_regex(path)});
        CHECK(calls[1] == std::vector<std::string>{"restorecon", "-v", path});
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
}

TEST_CASE("shell fixes of the knowledge base quote the log's paths (run under bash)", "[hardening][output][shell]")
{
    if (!test::require_tool("bash", "bash")) {
        return;
    }
    // an nvdimm backing file in a home directory and a kernel image in one: the causes'
    // fixes are shell commands built from templates ({path_quoted}, {path_regex_quoted})
    for (const auto& path : hostile_paths()) {
        INFO(path);
        std::string hex;
        static const char k_hex[] = "0123456789ABCDEF";
        for (unsigned char c : path) {
            hex.push_back(k_hex[c >> 4]);
            hex.push_back(k_hex[c & 15]);
        }
        const std::string log =
            "type=VIRT_MACHINE_ID msg=audit(1720000000.000:10): pid=1 uid=0 auid=4294967295 ses=4294967295 "
            "msg='virt=kvm vm=\"vm1\" uuid=2afa1131-bc8c-43d2-9c4a-962c1bf7723e "
            "vm-ctx=system_u:system_r:svirt_t:s0:c1,c2 img-ctx=system_u:object_r:svirt_image_t:s0:c1,c2 "
            "model=selinux exe=\"/usr/sbin/libvirtd\" hostname=? addr=? terminal=? res=success'\n"
            "type=AVC msg=audit(1720000001.000:11): avc:  denied  { map } for  pid=4242 comm=\"qemu-system-aar\" "
            "path=" + hex + " dev=\"dm-1\" ino=5 scontext=system_u:system_r:svirt_tcg_t:s0:c1,c2 "
            "tcontext=unconfined_u:object_r:user_home_t:s0 tclass=file permissive=0\n";
        const auto findings = test::explain_text(log);
        REQUIRE(findings.size() == 1);
        CHECK(findings.front().path == path);
        int shell_fixes = 0;
        for (const auto& fix : findings.front().fixes) {
            if (fix.kind != "selinux-fcontext" && fix.kind != "host-change") {
                continue;
            }
            if (fix.text.find("semanage") == std::string::npos && fix.text.rfind("mv ", 0) != 0) {
                continue;
            }
            INFO(fix.text);
            const std::string dir = test::temp_dir();
            const auto calls = run_with_stubs(fix.text, {"semanage", "restorecon", "mv"}, dir);
            CHECK(!fs::exists(dir + "/pwned"));
            bool path_seen = false;
            for (const auto& call : calls) {
                for (const auto& arg : call) {
                    path_seen = path_seen || arg == path;
                }
            }
            CHECK(path_seen);  // the path reached the command as one argument, exactly
            ++shell_fixes;
            std::error_code ec;
            fs::remove_all(dir, ec);
        }
        CHECK(shell_fixes >= 1);
    }
}

TEST_CASE("suggest's apply.sh runs nothing from a profile name, even with --dry-run", "[hardening][output][shell]")
{
    // regression: a host profile name from the log became part of a rules file name that
    // apply.sh put inside double quotes ("$here/apparmor-usr.bin.foo$(touch ...).rules"),
    // so even `apply.sh --dry-run` ran the command substitution
    const std::string dir = test::temp_dir();
    const std::string log =
        "type=AVC msg=audit(1720000000.000:815): apparmor=\"DENIED\" operation=\"open\" "
        "profile=\"/usr/bin/foo$(touch pwned)`touch pwned2`\" name=\"/etc/x\" pid=1 comm=\"foo\" "
        "requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n";
    test::write_file(dir + "/in.log", log);
    const auto r = test::virtdeny("suggest --out " + test::shell_quote(dir + "/out") + " " + test::shell_quote(dir + "/in.log"));
    REQUIRE(r.status == 0);
    for (const auto& e : fs::recursive_directory_iterator(dir + "/out")) {
        const std::string name = e.path().filename().string();
        INFO(name);
        CHECK(name.find_first_of("$`()") == std::string::npos);
    }
    REQUIRE(fs::exists(dir + "/out/host/apply.sh"));
    const auto dry = test::run("cd " + test::shell_quote(dir + "/out/host") + " && sh ./apply.sh --dry-run");
    CHECK(dry.status == 0);
    CHECK(!fs::exists(dir + "/out/host/pwned"));
    CHECK(!fs::exists(dir + "/out/host/pwned2"));
    // the profile's file names reach the commands as they are, quoted
    CHECK(dry.out.find("'/etc/apparmor.d/local/usr.bin.foo$(touch pwned)`touch pwned2`'") != std::string::npos);
    std::error_code ec;
    fs::remove_all(dir, ec);
}
