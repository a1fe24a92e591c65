// explain --journal-file/--journal-dir over real journal files (written by
// systemd-journal-remote from the fixtures' lines, tests/journal_support.hpp), the rendering
// of journal entries, bad journals, and the host's own logs when no LOG is given on a terminal.
#include "../journal_support.hpp"
#include "../json_support.hpp"

#include <analyzer/ingest/journal_source.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <tuple>
#include <unistd.h>

using namespace virtdeny;
namespace fs = std::filesystem;

namespace {

struct Explained
{
    int status = -1;
    std::uint64_t denials = 0;
    std::uint64_t malformed = 0;
    // per finding: VM name, uuid, device, subject, object path, permissions, count
    std::multiset<std::string> findings;
    std::string err;
};

Explained explain(const std::string& args)
{
    Explained e;
    const auto r = test::virtdeny("explain --format json --connect none " + args);
    e.status = r.status;
    e.err = r.err;
    for (const auto& j : test::json_lines(r.out)) {
        if (j.contains("summary")) {
            e.denials = j["summary"]["denials"].get<std::uint64_t>();
            e.malformed = j["summary"]["malformed_lines"].get<std::uint64_t>();
            continue;
        }
        std::string key = j["domain"].is_null() ? std::string("-")
                                                 : j["domain"]["name"].dump() + " " + j["domain"]["uuid"].dump();
        key += " " + j["device"].dump() + " " + j["subject"].dump() + " " + j["object"]["path"].dump() + " " +
               j["permissions"].dump() + " x" + std::to_string(j["count"].get<int>());
        e.findings.insert(key);
    }
    return e;
}

std::string fixture(const std::string& name)
{
    return test::fixtures_dir() + "/" + name;
}

// A journal file made of the fixture's lines; "" when it could not be written (the test fails).
std::string journal_of(const std::string& fixture_name, test::Transports transports = test::Transports::as_logged)
{
    const std::string log = test::read_file(fixture(fixture_name) + "/input.log");
    REQUIRE(!log.empty());
    const std::string path = test::temp_dir() + "/system.journal";
    const auto w = test::write_journal(test::log_to_export(log, transports), path);
    INFO(w.err);
    REQUIRE(w.status == 0);
    return path;
}

} // namespace

TEST_CASE("journal: kernel entries read as kernel lines, audit entries as auditd records", "[cli][journal]")
{
    ingest::JournalEntry k;
    k.transport = "kernel";
    k.message = R"(audit: type=1400 audit(1717402521.317:1204): apparmor="DENIED" operation="open")";
    k.realtime_us = 1717402521317040;
    k.hostname = "hv1";
    CHECK(ingest::render_journal_line(k) ==
          R"(2024-06-03T08:15:21.317040+00:00 hv1 kernel: audit: type=1400 audit(1717402521.317:1204): apparmor="DENIED" operation="open")");

    ingest::JournalEntry a;
    a.transport = "audit";
    a.message = R"(AVC apparmor="DENIED" operation="open")";
    a.realtime_us = 1717402521317090;
    a.source_realtime_us = 1717402521317000;
    a.audit_id = 1204;
    a.audit_type = 1400;
    CHECK(ingest::render_journal_line(a) == R"(type=AVC msg=audit(1717402521.317:1204): apparmor="DENIED" operation="open")");
    // the same record through both transports has one identity; another serial another
    CHECK(!ingest::journal_record_key(k).empty());
    CHECK(ingest::journal_record_key(k) == ingest::journal_record_key(a));
    // several machines: node= from the host name, in auditd's raw form for both transports,
    // and one host's record is not another's
    ingest::JournalEntry kn = k;
    kn.node = true;
    CHECK(ingest::render_journal_line(kn) ==
          R"(node=hv1 type=AVC msg=audit(1717402521.317:1204): apparmor="DENIED" operation="open")");
    ingest::JournalEntry an = a;
    an.node = true;
    an.hostname = "hv1";
    CHECK(ingest::render_journal_line(an) ==
          R"(node=hv1 type=AVC msg=audit(1717402521.317:1204): apparmor="DENIED" operation="open")");
    CHECK(ingest::journal_record_key(kn) == ingest::journal_record_key(an));
    an.hostname = "hv2";
    CHECK(ingest::journal_record_key(kn) != ingest::journal_record_key(an));
    a.audit_id = 1205;
    CHECK(ingest::journal_record_key(k) != ingest::journal_record_key(a));

    // a type journald does not know ("AUDIT2502") is named as auditd names it
    ingest::JournalEntry v;
    v.transport = "audit";
    v.message = "AUDIT2502 pid=1 msg='virt=kvm'";
    v.source_realtime_us = 1717402521000000;
    v.audit_id = 7;
    v.audit_type = 2502;
    CHECK(ingest::render_journal_line(v) == "type=VIRT_MACHINE_ID msg=audit(1717402521.000:7): pid=1 msg='virt=kvm'");
    // no stamp: journald's rendering, and a host name that is not one word is not copied
    v.audit_id = 0;
    v.realtime_us = 1717402521000000;
    v.hostname = "a b";
    CHECK(ingest::render_journal_line(v) ==
          "2024-06-03T08:15:21.000000+00:00 localhost audit[0]: VIRT_MACHINE_ID pid=1 msg='virt=kvm'");
    v.message.clear();
    CHECK(ingest::render_journal_line(v).empty());
}

TEST_CASE("explain --journal-file: a real journal gives the findings of the plain lines", "[cli][journal]")
{
    if (!test::require_journal_remote()) {
        return;
    }
    // kernel transport: seed 001 (kern.log, no "audit:" prefix) and seed 004 (journalctl ISO,
    // "audit:" prefix); audit transport: seed 000 (SELinux AVC with SYSCALL, PATH, PROCTITLE and
    // libvirt's VIRT_* records) and seed 002 (AppArmor raw records with VIRT_*)
    for (const char* name : {"seed-001-memfd-tmp", "seed-004-9p-fmode-dmode", "seed-000-nvdimm-home", "seed-002-9p-share"}) {
        INFO(name);
        const std::string xml = " --libvirt-xml " + test::shell_quote(fixture(name) + "/libvirt");
        const Explained plain = explain(test::shell_quote(fixture(name) + "/input.log") + xml);
        REQUIRE(plain.status == 0);
        REQUIRE(plain.denials > 0);
        const std::string journal = journal_of(name);
        const Explained j = explain("--journal-file " + test::shell_quote(journal) + xml);
        INFO(j.err);
        CHECK(j.status == 0);
        CHECK(j.denials == plain.denials);
        CHECK(j.malformed == 0);
        CHECK(j.findings == plain.findings);
        // the same through --journal-dir
        const Explained d = explain("--journal-dir " + test::shell_quote(fs::path(journal).parent_path().string()) + xml);
        CHECK(d.findings == plain.findings);
    }
}

TEST_CASE("explain --journal-file: a record in both the kernel and the audit transport counts once", "[cli][journal]")
{
    if (!test::require_journal_remote() || !test::require_tool("journalctl", "systemd")) {
        return;
    }
    for (const char* name : {"seed-001-memfd-tmp", "seed-004-9p-fmode-dmode"}) {
        INFO(name);
        const std::string xml = " --libvirt-xml " + test::shell_quote(fixture(name) + "/libvirt");
        const Explained plain = explain(test::shell_quote(fixture(name) + "/input.log") + xml);
        const std::string journal = journal_of(name, test::Transports::kernel_and_audit);
        // both renderings are really in the file
        const auto kernel = test::run("journalctl --file " + test::shell_quote(journal) + " _TRANSPORT=kernel -o cat | grep -c 'apparmor=\"DENIED\"'");
        const auto audit = test::run("journalctl --file " + test::shell_quote(journal) + " _TRANSPORT=audit -o cat | grep -c 'apparmor=\"DENIED\"'");
        CHECK(std::stoul(kernel.out) == plain.denials);
        CHECK(std::stoul(audit.out) == plain.denials);
        const Explained j = explain("--journal-file " + test::shell_quote(journal) + xml);
        CHECK(j.denials == plain.denials);
        CHECK(j.findings == plain.findings);
    }
}

TEST_CASE("explain --journal --since/--until: only the entries in the window", "[cli][journal]")
{
    if (!test::require_journal_remote()) {
        return;
    }
    // seed 001: a first migration at 1471289779-80 (serials 72-78) and a second at 1471290322+ (91-98)
    const std::string name = "seed-001-memfd-tmp";
    const std::string xml = " --libvirt-xml " + test::shell_quote(fixture(name) + "/libvirt");
    const std::string log = test::shell_quote(fixture(name) + "/input.log");
    const std::string journal = " --journal-file " + test::shell_quote(journal_of(name));
    const Explained all = explain(log + xml);
    REQUIRE(all.denials == 6);
    for (const char* window : {"--since 1471290000", "--until 1471290000", "--since '2016-08-15 19:41:03'",
                               "--since 1471289780 --until 1471290063", "--since 2030-01-01"}) {
        INFO(window);
        const Explained plain = explain(log + xml + " " + window);
        const Explained j = explain(std::string(window) + journal + xml);
        CHECK(j.status == 0);
        CHECK(j.denials == plain.denials);
        CHECK(j.findings == plain.findings);
    }
    CHECK(explain("--since 1471290000" + journal + xml).denials == 3);
    CHECK(explain("--until 1471290000" + journal + xml).denials == 3);
    CHECK(explain("--since 1471289780 --until 1471290063" + journal + xml).denials == 3);
    CHECK(explain("--since 2030-01-01" + journal + xml).denials == 0);
}

TEST_CASE("explain --journal: a missing, unreadable or foreign journal says so in one line, exit 3", "[cli][journal]")
{
    const std::string dir = test::temp_dir();
    test::write_file(dir + "/not.journal", "this is not a journal file\n");
    fs::create_directories(dir + "/empty");
    const struct
    {
        std::string args;
        std::string says;
    } cases[] = {
        {"--journal-file " + test::shell_quote(dir + "/missing.journal"), "No such file or directory"},
        {"--journal-file " + test::shell_quote(dir + "/not.journal"), "not a journal file we can read"},
        {"--journal-file " + test::shell_quote(dir + "/empty"), "is a directory"},
        {"--journal-dir " + test::shell_quote(dir + "/missing"), "No such file or directory"},
        {"--journal-dir " + test::shell_quote(dir + "/empty"), "no journal files"},
        {"--journal-dir " + test::shell_quote(dir + "/not.journal"), "not a directory"},
    };
    for (const auto& c : cases) {
        INFO(c.args);
        const auto r = test::run("timeout 20 " + test::shell_quote(test::binary()) + " explain --connect none " + c.args);
        INFO(r.err);
        CHECK(r.status == 3);
        CHECK(r.err.find(c.says) != std::string::npos);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    }
    // both at once is a usage error
    CHECK(test::virtdeny("explain --journal-file a --journal-dir b").status == 2);
    CHECK(test::virtdeny("explain --state x --journal").status == 2);
}

TEST_CASE("explain --journal-file: a journal we may not read says permission denied, exit 3", "[cli][journal]")
{
    if (!test::require_journal_remote()) {
        return;
    }
    const std::string journal = journal_of("seed-001-memfd-tmp");
    fs::permissions(journal, fs::perms::owner_write);  // no read for anyone but root
    std::string cmd = test::shell_quote(test::binary()) + " explain --connect none --journal-file " + test::shell_quote(journal);
    if (::geteuid() == 0) {
        // root reads anything: as nobody (who can reach the binary and the journal's directory)
        if (!test::require_tool("setpriv", "util-linux")) {
            return;
        }
        fs::permissions(fs::path(journal).parent_path(), fs::perms::all);
        cmd = "setpriv --reuid=65534 --regid=65534 --clear-groups " + cmd;
    }
    const auto r = test::run("timeout 20 " + cmd);
    INFO(r.err);
    if (r.status == 126 || r.status == 127) {
        WARN("SKIPPED: the binary cannot be run as nobody here: " << r.err);
        return;
    }
    CHECK(r.status == 3);
    CHECK(r.err.find("Permission denied") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    // a directory whose journal files we may not read: sd-journal opens it empty without a
    // word; virtdeny says why there is nothing
    const std::string in_dir = std::regex_replace(cmd, std::regex(R"(--journal-file \S+)"),
                                                  "--journal-dir " + test::shell_quote(fs::path(journal).parent_path().string()));
    REQUIRE(in_dir != cmd);
    const auto d = test::run("timeout 20 " + in_dir);
    INFO(d.err);
    CHECK(d.status == 3);
    CHECK(d.err.find("permission denied (cannot read 1 of 1 journal files") != std::string::npos);
    CHECK(std::count(d.err.begin(), d.err.end(), '\n') == 1);
}

namespace {

// Runs virtdeny with its standard input on a terminal (util-linux script(1) gives it a pty):
// status, and stderr (written to a file, so not mixed with stdout on the terminal).
test::RunResult on_terminal(const std::string& args, const std::string& root)
{
    const std::string dir = test::temp_dir();
    const std::string err = dir + "/stderr";
    const std::string inner = "VIRTDENY_HOST_ROOT=" + test::shell_quote(root) + " NO_COLOR=1 " +
                              test::shell_quote(test::binary()) + " " + args + " 2>" + test::shell_quote(err);
    test::RunResult r = test::run("timeout 30 script -qec " + test::shell_quote(inner) + " /dev/null");
    r.err = test::read_file(err);
    return r;
}

} // namespace

TEST_CASE("explain without LOG on a terminal reads the host's logs and says which", "[cli][journal][host]")
{
    if (!test::require_tool("script", "bsdutils") || !test::require_journal_remote()) {
        return;
    }
    const std::string args = "explain --format json --no-progress --connect none";
    const std::string audit_log = test::read_file(fixture("seed-000-nvdimm-home") + "/input.log");
    const std::string kern_log = test::read_file(fixture("seed-001-memfd-tmp") + "/input.log");
    const std::string root = test::temp_dir();
    fs::create_directories(root + "/var/log/audit");
    fs::create_directories(root + "/var/log/journal/fedcba9876543210fedcba9876543210");

    // nothing readable: one line naming every place looked at, exit 3, no wait on the terminal
    auto r = on_terminal(args, root);
    INFO(r.out << r.err);
    CHECK(r.status == 3);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    for (const char* where : {"/var/log/audit/audit.log", "/var/log/journal", "/var/log/kern.log", "/var/log/syslog"}) {
        CHECK(r.err.find(where) != std::string::npos);
    }

    // syslog only, then kern.log before syslog
    test::write_file(root + "/var/log/syslog", kern_log);
    r = on_terminal(args, root);
    CHECK(r.status == 0);
    CHECK(r.err == "virtdeny: no LOG given: reading " + root + "/var/log/syslog\n");
    CHECK(r.out.find("\"denials\":6") != std::string::npos);
    test::write_file(root + "/var/log/kern.log", kern_log);
    r = on_terminal(args, root);
    CHECK(r.err == "virtdeny: no LOG given: reading " + root + "/var/log/kern.log\n");
    CHECK(r.out.find("\"denials\":6") != std::string::npos);

    // the journal before kern.log (its kernel and audit messages: seed 000's records here)
    const auto w = test::write_journal(test::log_to_export(audit_log),
                                       root + "/var/log/journal/fedcba9876543210fedcba9876543210/system.journal");
    REQUIRE(w.status == 0);
    r = on_terminal(args, root);
    CHECK(r.status == 0);
    CHECK(r.err == "virtdeny: no LOG given: reading the systemd journal under " + root + " (kernel and audit messages)\n");
    CHECK(r.out.find("\"device\":\"nvdimm\"") != std::string::npos);
    CHECK(r.out.find("\"denials\":1") != std::string::npos);

    // audit.log first of all
    test::write_file(root + "/var/log/audit/audit.log", kern_log);  // any log will do: its denials tell which was read
    r = on_terminal(args, root);
    CHECK(r.err == "virtdeny: no LOG given: reading " + root + "/var/log/audit/audit.log\n");
    CHECK(r.out.find("\"denials\":6") != std::string::npos);

    // a pipe or a file on stdin stays the input, even with host logs there
    const auto piped = test::run("VIRTDENY_HOST_ROOT=" + test::shell_quote(root) + " " +
                                 test::shell_quote(test::binary()) + " " + args, audit_log);
    CHECK(piped.err.find("no LOG given") == std::string::npos);
    CHECK(piped.out.find("\"device\":\"nvdimm\"") != std::string::npos);
    const auto from_null = test::run("VIRTDENY_HOST_ROOT=" + test::shell_quote(root) + " " +
                                     test::shell_quote(test::binary()) + " " + args + " </dev/null");
    CHECK(from_null.err.find("no LOG given") == std::string::npos);
    CHECK(from_null.out.find("\"denials\":0") != std::string::npos);
}

TEST_CASE("the journal unit: follow --journal with its cursor in its StateDirectory, output where the shippers read",
          "[cli][journal][shipping]")
{
    const std::string dist = test::source_dir() + "/dist/systemd/";
    const std::string unit = test::read_file(dist + "virtdeny-follow-journal.service");
    const std::string audit_unit = test::read_file(dist + "virtdeny-follow.service");
    REQUIRE(!unit.empty());
    std::smatch m;
    REQUIRE(std::regex_search(unit, m, std::regex(R"(\nExecStart=/usr/bin/virtdeny follow ([^\n]*))")));
    const std::string args = m[1];
    CHECK(args.find("--journal ") != std::string::npos);
    CHECK(args.find("--format json") != std::string::npos);
    REQUIRE(std::regex_search(args, m, std::regex(R"(--state /var/lib/([^/ ]+)/\S+)")));
    CHECK(unit.find("\nStateDirectory=" + m[1].str() + "\n") != std::string::npos);
    // the same output file as the audit.log unit (the shippers tail it), and never both at once
    REQUIRE(std::regex_search(audit_unit, m, std::regex(R"(\nStandardOutput=(\S+))")));
    CHECK(unit.find("\nStandardOutput=" + m[1].str() + "\n") != std::string::npos);
    CHECK(unit.find("\nConflicts=virtdeny-follow.service\n") != std::string::npos);
    // the options parse: the same command line with a journal directory that is not there
    // stops at the journal (exit 3), not at the options (exit 2)
    std::string local = std::regex_replace(args, std::regex("--journal "), "--journal-dir /nonexistent/journal ");
    local = std::regex_replace(local, std::regex(R"(--state \S+)"), "--state " + test::temp_dir() + "/cursor");
    const auto r = test::virtdeny("follow " + local);
    INFO(r.err);
    CHECK(r.status == 3);
    CHECK(r.err.find("/nonexistent/journal") != std::string::npos);
}

TEST_CASE("explain --journal-dir: a collector's journal of several machines names each record's host as node",
          "[cli][journal]")
{
    if (!test::require_journal_remote()) {
        return;
    }
    // the same log from two hosts (systemd-journal-remote keeps one file per sender): the same
    // stamps and serials, and yet two events each, one per host
    for (const char* name : {"seed-002-9p-share", "seed-004-9p-fmode-dmode"}) {
        INFO(name);
        const std::string log = test::read_file(fixture(name) + "/input.log");
        const std::string xml = " --libvirt-xml " + test::shell_quote(fixture(name) + "/libvirt");
        const Explained plain = explain(test::shell_quote(fixture(name) + "/input.log") + xml);
        REQUIRE(plain.denials > 0);
        const std::string dir = test::temp_dir();
        for (const char* host : {"hv01", "hv02"}) {
            std::string text = test::log_to_export(log, test::Transports::kernel_and_audit);
            text = std::regex_replace(text, std::regex("_HOSTNAME=virthost"), std::string("_HOSTNAME=") + host);
            text = std::regex_replace(text, std::regex("_MACHINE_ID=fedcba9876543210fedcba9876543210"),
                                      std::string("_MACHINE_ID=") + (host[3] == '1' ? "11" : "22") + "cba9876543210fedcba9876543210");
            const auto w = test::write_journal(text, dir + "/remote-" + host + ".journal");
            REQUIRE(w.status == 0);
        }
        const auto r = test::virtdeny("explain --format json --connect none --journal-dir " + test::shell_quote(dir) + xml);
        std::map<std::string, std::uint64_t> per_node;
        std::uint64_t denials = 0;
        for (const auto& j : test::json_lines(r.out)) {
            if (j.contains("summary")) {
                denials = j["summary"]["denials"].get<std::uint64_t>();
            } else {
                per_node[j["node"].is_null() ? "-" : j["node"].get<std::string>()] += j["count"].get<std::uint64_t>();
            }
        }
        CHECK(denials == 2 * plain.denials);
        CHECK(per_node == std::map<std::string, std::uint64_t>{{"hv01", plain.denials}, {"hv02", plain.denials}});
    }
}
