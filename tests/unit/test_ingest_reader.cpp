// The reader over every input form docs/inputs.md lists, and bad input that must never stop a run.
#include "../support.hpp"

#include <analyzer/ingest/denial_parser.hpp>
#include <analyzer/ingest/fields.hpp>
#include <analyzer/ingest/line_reader.hpp>
#include <analyzer/ingest/record_parser.hpp>
#include <analyzer/util/text.hpp>

#include <catch2/catch.hpp>

#include <zlib.h>

using namespace virtdeny;
using ingest::LineKind;
using ingest::RecordType;

namespace {

model::Denial parse_one(const std::string& line)
{
    ingest::RecordParser parser;
    parser.set_default_year(2024);
    REQUIRE(parser.parse(line) == LineKind::records);
    model::Denial d;
    std::string reason;
    REQUIRE(ingest::parse_denial(parser.record(0), d, reason) == ingest::DenialParse::denial);
    return d;
}

const char* const k_aa_body =
    R"(apparmor="DENIED" operation="open" profile="libvirt-2afa1131-bc8c-43d2-9c4a-962c1bf7723e" name="/tmp/memfd-tNpKSj" pid=12625 comm="qemu-system-x86" requested_mask="r" denied_mask="r" fsuid=107 ouid=107)";

} // namespace

TEST_CASE("every wrapper form yields the same AppArmor denial", "[ingest]")
{
    const std::string body = k_aa_body;
    const std::vector<std::string> lines = {
        "type=AVC msg=audit(1471289780.407:76): " + body,
        "node=hv01 type=AVC msg=audit(1471289780.407:76): " + body,
        "type=AVC msg=audit(1471289780.407:76): " + body + "\x1d" + "FSUID=\"libvirt-qemu\" OUID=\"libvirt-qemu\"",
        "Aug 15 16:36:20 tkcompute01 kernel: [ 1194.973064] type=1400 audit(1471289780.407:76): " + body,
        "Aug 15 16:36:20 tkcompute01 kernel: [ 1194.973064] audit: type=1400 audit(1471289780.407:76): " + body,
        "2016-08-15T16:36:20.407123+00:00 tkcompute01 kernel: audit: type=1400 audit(1471289780.407:76): " + body,
        "[ 1194.973064] audit: type=1400 audit(1471289780.407:76): " + body,
        "Aug 15 16:36:20 tkcompute01 audit[12625]: AVC " + body,
    };
    for (const auto& line : lines) {
        INFO(line);
        const model::Denial d = parse_one(line);
        CHECK(d.mac == model::Mac::apparmor);
        CHECK(d.operation == "open");
        CHECK(d.profile == "libvirt-2afa1131-bc8c-43d2-9c4a-962c1bf7723e");
        CHECK(d.name == "/tmp/memfd-tNpKSj");
        CHECK(d.pid == 12625);
        CHECK(d.fsuid == 107);
        CHECK(d.enforced);
    }
    CHECK(parse_one(lines[1]).node == "hv01");
    CHECK(parse_one(lines[0]).serial == 76);
    CHECK(parse_one(lines[0]).time_ms == 1471289780407);
    // journald's rendering has no stamp: the syslog date is the time
    CHECK_FALSE(parse_one(lines.back()).has_stamp);
}

TEST_CASE("hex-encoded values are decoded, numbers are not", "[ingest]")
{
    // "/srv/VM Shares/x" hex-encoded as the kernel does for names with spaces
    const model::Denial d = parse_one(
        "type=AVC msg=audit(1.000:1): apparmor=\"DENIED\" operation=\"mkdir\" profile=\"libvirt-x\" "
        "name=2F7372762F564D205368617265732F78 pid=1000 comm=71656D75 requested_mask=\"c\" denied_mask=\"c\" "
        "fsuid=1000 ouid=1000");
    CHECK(d.name == "/srv/VM Shares/x");
    CHECK(d.comm == "qemu");
    CHECK(d.pid == 1000);
    CHECK(d.fsuid == 1000);
}

TEST_CASE("SELinux AVC, USER_AVC inner msg, permissive, granted and SELINUX_ERR", "[ingest]")
{
    const model::Denial avc = parse_one(
        "type=AVC msg=audit(1710328208.112:388): avc:  denied  { map } for  pid=3395 comm=\"qemu-system-aar\" "
        "path=\"/home/jiyin/VMs/nvdimm-0.dev\" dev=\"sdb4\" ino=789153 "
        "scontext=system_u:system_r:svirt_tcg_t:s0:c23,c892 tcontext=system_u:object_r:svirt_image_t:s0:c23,c892 "
        "tclass=file permissive=0");
    CHECK(avc.permissions == std::vector<std::string>{"map"});
    CHECK(avc.path == "/home/jiyin/VMs/nvdimm-0.dev");
    CHECK(avc.tclass == "file");
    CHECK(avc.enforced);

    const model::Denial permissive = parse_one(
        "type=AVC msg=audit(1.000:2): avc:  denied  { read write } for  pid=1 comm=\"x\" name=\"f\" "
        "scontext=system_u:system_r:svirt_t:s0:c1,c2 tcontext=system_u:object_r:nfs_t:s0 tclass=file permissive=1");
    CHECK_FALSE(permissive.enforced);
    CHECK(permissive.permissions == std::vector<std::string>{"read", "write"});

    const model::Denial user = parse_one(
        "type=USER_AVC msg=audit(1.000:3): pid=812 uid=81 auid=4294967295 ses=4294967295 "
        "subj=system_u:system_r:system_dbusd_t:s0-s0:c0.c1023 msg='avc:  denied  { send_msg } for msgtype=method_call "
        "interface=org.libvirt.Connect member=Open dest=org.libvirt spid=4242 tpid=900 "
        "scontext=system_u:system_r:svirt_t:s0:c1,c2 tcontext=system_u:system_r:virtqemud_t:s0 tclass=dbus "
        "permissive=0  exe=\"/usr/bin/dbus-daemon\" sauid=81 hostname=? addr=? terminal=?'");
    CHECK(user.record_type == "USER_AVC");
    CHECK(user.tclass == "dbus");
    CHECK(user.permissions == std::vector<std::string>{"send_msg"});
    CHECK(user.pid == 812);

    ingest::RecordParser parser;
    REQUIRE(parser.parse("type=AVC msg=audit(1.000:4): avc:  granted  { setenforce } for  pid=1 comm=\"x\" "
                         "scontext=a:b:c:s0 tcontext=a:b:d:s0 tclass=security") == LineKind::records);
    model::Denial granted;
    std::string reason;
    CHECK(ingest::parse_denial(parser.record(0), granted, reason) == ingest::DenialParse::not_denial);

    REQUIRE(parser.parse("type=AVC msg=audit(1.000:5): apparmor=\"STATUS\" operation=\"profile_load\" "
                         "profile=\"unconfined\" name=\"libvirt-x\" pid=1 comm=\"apparmor_parser\"") == LineKind::records);
    model::Denial status;
    CHECK(ingest::parse_denial(parser.record(0), status, reason) == ingest::DenialParse::not_denial);

    const model::Denial err = parse_one(
        "type=SELINUX_ERR msg=audit(1.000:6): security_compute_sid:  invalid context "
        "unconfined_u:system_r:svirt_t:s0 for scontext=unconfined_u:unconfined_r:unconfined_t:s0 "
        "tcontext=system_u:object_r:qemu_exec_t:s0 tclass=process");
    CHECK(err.tclass == "process");
    CHECK(err.permissions == std::vector<std::string>{"invalid_context"});
}

TEST_CASE("several records on one line (host= prefixes) are all read", "[ingest]")
{
    ingest::RecordParser parser;
    const std::string line =
        "host=dhcppc2 type=AVC msg=audit(1216729188.853:241): avc:  denied  { read } for pid=14066 comm=\"qemu-kvm\" "
        "name=\"disk\" dev=tmpfs ino=333 scontext=system_u:system_r:qemu_t:s0 "
        "tcontext=system_u:object_r:fixed_disk_device_t:s0 tclass=blk_file host=dhcppc2 type=SYSCALL "
        "msg=audit(1216729188.853:241): arch=c000003e syscall=2 success=no exit=-13 pid=14066 comm=\"qemu-kvm\" "
        "exe=\"/usr/bin/qemu-kvm\"";
    REQUIRE(parser.parse(line) == LineKind::records);
    REQUIRE(parser.record_count() == 2);
    CHECK(parser.record(0).type == RecordType::avc);
    CHECK(parser.record(1).type == RecordType::syscall);
    CHECK(parser.record(1).node == "dhcppc2");
    CHECK(ingest::find_field(parser.record(1).body, "exe") == "/usr/bin/qemu-kvm");
}

TEST_CASE("malformed lines are reported with a reason, irrelevant lines are not", "[ingest]")
{
    ingest::RecordParser parser;
    CHECK(parser.parse("type=AVC msg=audit(12799===8288.415:39): apparmor=\"DENIED\"") == LineKind::malformed);
    CHECK(parser.parse(std::string("\x01\x02\x00garbage\xff", 12)) == LineKind::malformed);
    CHECK(parser.reason() == "binary data, skipped");
    CHECK(parser.parse("type=USER_ACCT msg=audit(1.0:1): pid=1 uid=0") == LineKind::irrelevant);
    CHECK(parser.parse("Mar 14 02:15:10 host sshd[12]: Accepted publickey for u") == LineKind::irrelevant);

    model::Denial d;
    std::string reason;
    REQUIRE(parser.parse("type=AVC msg=audit(1.000:7): avc:  denied  { read } for  pid=1 comm=\"qemu\" "
                         "scontext=system_u:system_r:svirt_t:s0:c1,c2 tcon") == LineKind::records);
    CHECK(ingest::parse_denial(parser.record(0), d, reason) == ingest::DenialParse::malformed);
    CHECK(reason.find("truncated") != std::string::npos);
}

TEST_CASE("a log with bad lines keeps every good record around them", "[ingest][bad-input]")
{
    const std::string good =
        "type=AVC msg=audit(1710382511.489:100): avc:  denied  { read } for  pid=4242 comm=\"qemu-system-x86\" "
        "name=\"a.qcow2\" scontext=system_u:system_r:svirt_t:s0:c1,c2 tcontext=system_u:object_r:nfs_t:s0 "
        "tclass=file permissive=0\n";
    std::string log;
    log += good;
    log += "type=AVC msg=audit(1710382511.5";  // truncated mid-stamp
    log += "\n";
    log += std::string("\x7f" "ELF\x02\x01\x01\x00\x00\x00\x00", 11) + "\n";  // binary
    log += std::string(2 * 1024 * 1024, 'A') + "\n";                             // over-long (2 MB)
    log += "type=AVC msg=audit(1710382512.000:101): apparmor=\"DENIED\" operation=\"open\" profile=\"libvirt-x\" name=\"/unterminated\n";
    log += "type=AVC msg=audit(1710382513.489:102): avc:  denied  { write } for  pid=4242 comm=\"qemu-system-x86\" "
           "name=\"b.qcow2\" scontext=system_u:system_r:svirt_t:s0:c1,c2 tcontext=system_u:object_r:nfs_t:s0 "
           "tclass=file permissive=0\n";
    log += "type=AVC msg=audit(1710382514.489:103): avc:  denied  { read } for  pid=4242 comm=\"qemu-system-x86\" "
           "name=\"c.qcow2\" scontext=system_u:system_r:svirt_t:s0:c1,c2 tcontext=system_u:object_r:nfs_t:s0 tclass=fi";
    const std::string dir = test::temp_dir();
    test::write_file(dir + "/bad.log", log);
    const auto r = test::virtdeny("explain --format json " + test::shell_quote(dir + "/bad.log"));
    CHECK(r.status == 0);
    // two good denials counted; each bad line named on stderr with its number
    CHECK(r.out.find("\"denials\":2") != std::string::npos);
    CHECK(r.out.find("\"malformed_lines\":5") != std::string::npos);
    CHECK(r.err.find("line 2: malformed") != std::string::npos);
    CHECK(r.err.find("line 3: binary data") != std::string::npos);
    CHECK(r.err.find("line 4: line longer than") != std::string::npos);
    CHECK(r.err.find("line 5: unterminated") != std::string::npos);
    CHECK(r.err.find("line 7: half-written last line") != std::string::npos);
    CHECK(r.out.find("a.qcow2") != std::string::npos);
    CHECK(r.out.find("b.qcow2") != std::string::npos);
}

TEST_CASE("fixture bad-input: the five bad lines its README names are reported, its four denials kept", "[ingest][bad-input]")
{
    const std::string log = test::fixtures_dir() + "/bad-input/input.log";
    const auto r = test::virtdeny("explain --format json " + test::shell_quote(log));
    CHECK(r.status == 0);
    INFO(r.err);
    CHECK(r.out.find("\"denials\":4") != std::string::npos);
    CHECK(r.out.find("\"malformed_lines\":5") != std::string::npos);
    CHECK(r.err.find("input.log: line 8: truncated record") != std::string::npos);  // SYSCALL cut in comm="qemu-k
    CHECK(r.err.find("input.log: line 12: binary data") != std::string::npos);
    CHECK(r.err.find("input.log: line 13: unterminated") != std::string::npos);
    CHECK(r.err.find("input.log: line 14: malformed msg=audit") != std::string::npos);
    CHECK(r.err.find("input.log: line 22: half-written last line") != std::string::npos);
    for (const char* name : {"set-0417.img", "set-0419.img", "result-0417.img", "scratch.img"}) {
        CHECK(r.out.find(name) != std::string::npos);
    }
}

TEST_CASE("gzip files, several files and stdin in one run", "[ingest]")
{
    const std::string one =
        "type=AVC msg=audit(1710382511.489:100): avc:  denied  { read } for  pid=1 comm=\"qemu\" name=\"a\" "
        "scontext=system_u:system_r:svirt_t:s0:c1,c2 tcontext=system_u:object_r:nfs_t:s0 tclass=file permissive=0\n";
    const std::string two =
        "type=AVC msg=audit(1710382512.489:101): avc:  denied  { write } for  pid=1 comm=\"qemu\" name=\"b\" "
        "scontext=system_u:system_r:svirt_t:s0:c1,c2 tcontext=system_u:object_r:nfs_t:s0 tclass=file permissive=0\n";
    const std::string dir = test::temp_dir();
    gzFile gz = gzopen((dir + "/one.log.gz").c_str(), "wb");
    REQUIRE(gz);
    gzwrite(gz, one.data(), static_cast<unsigned>(one.size()));
    gzclose(gz);
    test::write_file(dir + "/two.log", two);
    const auto r = test::virtdeny("explain --format json " + test::shell_quote(dir + "/one.log.gz") + " - " +
                                      test::shell_quote(dir + "/two.log"),
                                  two);
    CHECK(r.status == 0);
    CHECK(r.out.find("\"denials\":3") != std::string::npos);
    CHECK(r.out.find("\"inputs\":3") != std::string::npos);

    const auto missing = test::virtdeny("explain " + test::shell_quote(dir + "/nope.log"));
    CHECK(missing.status == 3);
    CHECK(missing.err.find("nope.log") != std::string::npos);
}

TEST_CASE("syslog dates: classic and ISO 8601 with fraction and zone", "[ingest]")
{
    CHECK(ingest::parse_syslog_time("2024-03-14T02:15:10.170123+01:00 host kernel:", 2000) == 1710378910170);
    CHECK(ingest::parse_syslog_time("2024-03-14T02:15:10Z host", 2000) == 1710382510000);
    CHECK(ingest::parse_syslog_time("Mar 14 02:15:10 host kernel:", 2024) == 1710382510000);
    CHECK(ingest::parse_syslog_time("Mar  4 02:15:10 host kernel:", 2024) == 1709518510000);
    CHECK(ingest::parse_syslog_time("no date here", 2024) == 0);
}

TEST_CASE("syslog dates without a year: this year, last year when ahead of now, or --year", "[ingest]")
{
    const std::string line =
        "Dec 30 10:00:00 kvm01 audit[4242]: AVC apparmor=\"DENIED\" operation=\"open\" profile=\"libvirt-x\" "
        "name=\"/srv/a.img\" pid=4242 comm=\"qemu-system-x86\" requested_mask=\"r\" denied_mask=\"r\"";
    const std::int64_t jan_5_2027 = 1799107200000;  // 2027-01-05T00:00:00Z
    ingest::RecordParser parser;
    // read on 5 January 2027: 30 December 2027 would be in the future, so it is 2026's
    parser.set_default_year(2027, false, jan_5_2027);
    REQUIRE(parser.parse(line) == ingest::LineKind::records);
    CHECK(util::iso8601_utc(parser.record(0).time_ms) == "2026-12-30T10:00:00.000Z");
    // an admin's --year is taken as it is
    parser.set_default_year(2027, true, jan_5_2027);
    REQUIRE(parser.parse(line) == ingest::LineKind::records);
    CHECK(util::iso8601_utc(parser.record(0).time_ms) == "2027-12-30T10:00:00.000Z");
    // a date of the past stays in the current year
    const std::string june = "Jun 10 06:25:22" + line.substr(15);
    parser.set_default_year(2027, false, jan_5_2027 + 200LL * 86400000);
    REQUIRE(parser.parse(june) == ingest::LineKind::records);
    CHECK(util::iso8601_utc(parser.record(0).time_ms) == "2027-06-10T06:25:22.000Z");
    // the option, end to end
    const auto r = test::virtdeny("explain --format json --year 2019 -", line + "\n");
    CHECK(r.out.find("\"first_seen\":\"2019-12-30T10:00:00.000Z\"") != std::string::npos);
    CHECK(test::virtdeny("explain --year 19999 -", line + "\n").status == 2);
}
