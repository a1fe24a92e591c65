// Pasted denials (fixtures/pastes): ausearch -i records, wrapped, "\"-continued, quoted,
// fenced, CRLF and run-together lines are read as the records they were, fields intact, through
// the same Scanner::scan an input takes in `virtdeny explain`. The texts are real commit
// messages of fedora-selinux/selinux-policy (fixtures/pastes/selinux-policy) or forms derived
// from real records (fixtures/pastes/forms, see its README).
#include "../json_support.hpp"
#include "../support.hpp"

#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/ingest/event_assembler.hpp>
#include <analyzer/ingest/line_reader.hpp>
#include <analyzer/ingest/paste_normaliser.hpp>
#include <analyzer/ingest/record_parser.hpp>
#include <analyzer/ingest/scanner.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <ctime>
#include <regex>
#include <sstream>

using namespace virtdeny;

namespace {

struct Scan
{
    std::vector<model::Event> events;
    ingest::ScanStats stats;
    std::uint64_t bad_lines = 0;
    std::vector<model::Denial> denials() const
    {
        std::vector<model::Denial> out;
        for (const auto& e : events) {
            out.insert(out.end(), e.denials.begin(), e.denials.end());
        }
        return out;
    }
};

// ausearch -i dates are the local time of the host that ran it: read in TZ, UTC here
struct UtcZone
{
    UtcZone()
    {
        ::setenv("TZ", "UTC", 1);
        ::tzset();
    }
};

Scan scan_path(const std::string& path)
{
    static UtcZone utc;
    Scan out;
    correlate::VmRegistry registry;
    ingest::EventAssembler assembler([&](model::Event& ev) { out.events.push_back(ev); });
    util::Diagnostics diagnostics(nullptr);
    ingest::Scanner scanner(assembler, diagnostics);
    scanner.on_virt([&](const ingest::Record& r) { registry.add(r); });
    scanner.set_default_year(2024, true);
    std::string error;
    auto reader = ingest::LineReader::open(path, error);
    REQUIRE(reader);
    scanner.scan(*reader, 0);
    assembler.flush_all();
    out.stats = scanner.stats();
    out.bad_lines = diagnostics.bad_lines();
    return out;
}

Scan scan_text(const std::string& text)
{
    const std::string path = test::temp_dir() + "/paste.txt";
    test::write_file(path, text);
    return scan_path(path);
}

std::string pastes(const std::string& rel)
{
    return test::fixtures_dir() + "/pastes/" + rel;
}

} // namespace

TEST_CASE("ausearch -i records are read as raw ones: stamp, grouping by serial, fields unquoted by ausearch")
{
    // selinux-policy 51776c857cb6: PROCTITLE, EXECVE, SYSCALL and three AVCs of serial 1406
    const Scan s = scan_path(pastes("selinux-policy/virt/51776c857cb6.txt"));
    CHECK(s.stats.malformed == 0);
    REQUIRE(s.events.size() == 1);
    const model::Event& e = s.events[0];
    CHECK(e.serial == 1406);
    CHECK(e.time_ms == 1725958939765);  // 09/10/2024 09:02:19.765 read as UTC
    CHECK(e.proctitle == "/usr/bin/mount -o nodev,nosuid,noexec -t auto /dev/vdb1 /var/lib/libvirt/images/vm-mountpoint-1");
    CHECK(e.exe == "/usr/bin/mount");
    CHECK(e.comm == "mount");
    CHECK(e.pid == 7232);
    CHECK(e.subj == "system_u:system_r:virtstoraged_t:s0");
    REQUIRE(e.denials.size() == 3);
    CHECK(e.denials[0].permissions == std::vector<std::string>{"map"});
    CHECK(e.denials[0].path == "/usr/bin/mount");
    CHECK(e.denials[0].comm == "mount");
    CHECK(e.denials[0].tclass == "file");
    CHECK_FALSE(e.denials[0].enforced);
    CHECK(e.denials[2].name == "mount");
    CHECK(e.denials[2].comm == "rpc-virtstorage");
    CHECK(e.denials[2].tcontext == "system_u:object_r:mount_exec_t:s0");
}

TEST_CASE("ausearch -i: a bare name that looks like hex stays text (name=5600 is a /proc directory)")
{
    // selinux-policy 25beab373ecb: { search } on /proc/5600 (name=5600), raw it would be hex-decoded
    const Scan s = scan_path(pastes("selinux-policy/virt/25beab373ecb.txt"));
    CHECK(s.stats.malformed == 0);
    const auto d = s.denials();
    REQUIRE(d.size() == 3);
    CHECK(d[2].name == "5600");
    CHECK(d[2].comm == "prio-rpc-virtqe");
    CHECK(d[0].path == "/proc/5600/stat");
}

TEST_CASE("ausearch -i date renderings of other locales and a path with spaces")
{
    const std::string body = " : avc:  denied  { read } for  pid=7 comm=qemu-kvm name=my disk.img dev=\"dm-0\" ino=5 "
                             "scontext=system_u:system_r:svirt_t:s0:c1,c2 tcontext=unconfined_u:object_r:user_home_t:s0 "
                             "tclass=file permissive=0\n";
    for (const char* stamp : {"02/06/2025 12:31:15.483:1776)", "06.02.2025 12:31:15.483:1776)",
                              "6.2.2025 12:31:15.483:1776)", "2025-02-06 12:31:15.483:1776)", "02/06/25 12:31:15.483:1776)"}) {
        INFO(stamp);
        const Scan s = scan_text(std::string("type=AVC msg=audit(") + stamp + body);
        CHECK(s.stats.malformed == 0);
        const auto d = s.denials();
        REQUIRE(d.size() == 1);
        CHECK(d[0].time_ms == 1738845075483);
        CHECK(d[0].serial == 1776);
        CHECK(d[0].name == "my disk.img");
        CHECK(d[0].comm == "qemu-kvm");
    }
}

TEST_CASE("ausearch -i: a value holding a quote is hex-encoded as the kernel does, not cut")
{
    std::string raw;
    REQUIRE(ingest::uninterpret_record(
        "node=hv1 type=AVC msg=audit(02/06/2025 12:31:15.483:1776) : avc:  denied  { read } for  pid=7 comm=a\"b "
        "path=/x scontext=a:b:c:s0 tcontext=a:b:d:s0 tclass=file permissive=0",
        raw));
    CHECK(raw.rfind("node=hv1 type=AVC msg=audit(", 0) == 0);
    CHECK(raw.find("comm=612262 path=\"/x\"") != std::string::npos);
    CHECK_FALSE(ingest::uninterpret_record("type=AVC msg=audit(1738845075.483:1776): avc:  denied", raw));
    CHECK_FALSE(ingest::uninterpret_record("type=AVC msg=audit(13/45/2025 12:31:15.483:1776) : x=1", raw));
}

TEST_CASE("hard-wrapped records of a mail or commit message are joined")
{
    // selinux-policy 046fd1a1cc5d: fwupd AVCs wrapped at 72 columns
    const Scan s = scan_path(pastes("selinux-policy/046fd1a1cc5d.txt"));
    CHECK(s.stats.malformed == 0);
    const auto d = s.denials();
    REQUIRE(d.size() >= 4);
    CHECK(d[0].path == "/etc/pki/fwupd-metadata/GPG-KEY-Linux-Vendor-Firmware-Service");
    CHECK(d[0].tcontext == "system_u:object_r:cert_t:s0");
    CHECK(d[0].tclass == "file");
    CHECK(d[0].pid == 13535);
}

TEST_CASE("a backslash-continued AppArmor record is one denial with its profile and name")
{
    const Scan s = scan_path(pastes("forms/backslash-apparmor.txt"));
    CHECK(s.stats.malformed == 0);
    const auto d = s.denials();
    REQUIRE(d.size() == 1);
    CHECK(d[0].profile == "libvirt-d8a61f0e-4b27-4c93-8e05-a7c2f9b3d146");
    CHECK(d[0].name == "/dev/vfio/42");
    CHECK(d[0].comm == "qemu-system-x86");
    CHECK(d[0].denied_mask == "wr");
    CHECK(d[0].fsuid == 64055);
}

TEST_CASE("quoted (> ), fenced and CRLF ausearch -i text reads as the clean records")
{
    const Scan quoted = scan_path(pastes("forms/quoted-fenced-crlf.txt"));
    const Scan clean = scan_path(pastes("selinux-policy/virt/51776c857cb6.txt"));
    CHECK(quoted.stats.malformed == 0);
    REQUIRE(quoted.events.size() == 1);
    REQUIRE(clean.events.size() == 1);
    CHECK(quoted.events[0].proctitle == clean.events[0].proctitle);
    REQUIRE(quoted.events[0].denials.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(quoted.events[0].denials[i].path == clean.events[0].denials[i].path);
        CHECK(quoted.events[0].denials[i].name == clean.events[0].denials[i].name);
        CHECK(quoted.events[0].denials[i].permissions == clean.events[0].denials[i].permissions);
    }
}

TEST_CASE("records run together on one line are split")
{
    const Scan s = scan_path(pastes("forms/run-together.txt"));
    CHECK(s.stats.malformed == 0);
    REQUIRE(s.events.size() == 1);
    const model::Event& e = s.events[0];
    CHECK(e.proctitle == "/usr/sbin/virtqemud --timeout 120");
    CHECK(e.exe == "/usr/sbin/virtqemud");
    REQUIRE(e.paths.size() == 1);
    CHECK(e.paths[0].name == "/proc/5600/stat");
    REQUIRE(e.denials.size() == 3);
    CHECK(e.denials[0].path == "/proc/5600/stat");
    CHECK(e.denials[2].tclass == "dir");
}

TEST_CASE("a record after prose, a head alone on its line, no-break spaces from a web page")
{
    const Scan prose = scan_text(
        "Example of denial: type=AVC msg=audit(1718360046.297:1211): avc:  denied  { write } for  pid=1 comm=\"ip\" "
        "path=\"/var/log/pluto.log\" dev=\"vda2\" ino=1 scontext=system_u:system_r:ifconfig_t:s0 "
        "tcontext=system_u:object_r:ipsec_log_t:s0 tclass=file permissive=0\n");
    CHECK(prose.denials().size() == 1);
    // selinux-policy 8fa996c8f9d8: "type=AVC msg=audit(...) :" then the avc: text on the next line
    const Scan head = scan_path(pastes("selinux-policy/8fa996c8f9d8.txt"));
    CHECK(head.stats.malformed == 0);
    REQUIRE(head.denials().size() == 1);
    CHECK(head.denials()[0].permissions == std::vector<std::string>{"watch_mount", "watch_with_perm"});
    const Scan nbsp = scan_text("type=AVC msg=audit(06/29/2024 07:07:58.615:3442) : avc:\xc2\xa0 denied\xc2\xa0 { execute } "
                                "for\xc2\xa0 pid=2 comm=bitlbee name=gst-plugin-scanner dev=\"xvda4\" ino=8 "
                                "scontext=system_u:system_r:bitlbee_t:s0 tcontext=system_u:object_r:bin_t:s0 "
                                "tclass=file permissive=0\xc2\xa0\n");
    const auto d = nbsp.denials();
    REQUIRE(d.size() == 1);
    CHECK(d[0].name == "gst-plugin-scanner");
    CHECK(d[0].permissions == std::vector<std::string>{"execute"});
}

TEST_CASE("a clean audit.log does not look pasted, each paste form does")
{
    CHECK_FALSE(ingest::looks_like_paste(test::read_file(test::fixtures_dir() + "/interleaved/input.log")));
    CHECK_FALSE(ingest::looks_like_paste(test::read_file(test::fixtures_dir() + "/nfs-image/input.log")));
    CHECK_FALSE(ingest::looks_like_paste(test::read_file(test::fixtures_dir() + "/vfio-group/input.log")));
    // journald's audit[PID]: AVC next to kernel type=1400 lines: read line by line to drop a record
    // rendered twice (their goldens are the same either way)
    CHECK(ingest::looks_like_paste(test::read_file(test::fixtures_dir() + "/formats/input.log")));
    CHECK(ingest::looks_like_paste(test::read_file(test::fixtures_dir() + "/seed-003-libvirtd-profile/input.log")));
    CHECK_FALSE(ingest::looks_like_paste(test::read_file(test::fixtures_dir() + "/bad-input/input.log")));
    CHECK_FALSE(ingest::looks_like_paste(test::read_file(test::fixtures_dir() + "/fleet-audisp-remote/input.log")));
    for (const char* f : {"forms/backslash-apparmor.txt", "forms/quoted-fenced-crlf.txt", "forms/run-together.txt",
                          "selinux-policy/046fd1a1cc5d.txt", "selinux-policy/virt/51776c857cb6.txt"}) {
        INFO(f);
        CHECK(ingest::looks_like_paste(test::read_file(pastes(f))));
    }
}

TEST_CASE("every denial quoted in selinux-policy's commit messages is read (682 messages)")
{
    // all.txt.gz: scripts/extract-policy-avcs over fedora-selinux/selinux-policy at fd1d99621ded,
    // each message after a "==> selinux-policy commit HASH <==" line. Independent count: the
    // "avc: denied" and apparmor="DENIED" texts. Three AVCs are cut short in the messages
    // themselves (795a04994799, a02aa17af1bd, ed24affc29f3): malformed, and nothing else is.
    const std::string path = pastes("selinux-policy/all.txt.gz");
    std::string error;
    auto reader = ingest::LineReader::open(path, error);
    REQUIRE(reader);
    std::uint64_t messages = 0;
    std::uint64_t lines = 0;
    std::string text;
    std::string_view line;
    while (reader->next(line)) {
        ++lines;
        messages += line.rfind("==> selinux-policy commit ", 0) == 0;
        text.append(line.data(), line.size());
        text += '\n';
    }
    // over the whole text (quotes wrap between "avc:" and "denied"); two were copied from a web
    // page with no-break spaces (U+00A0) there
    static const std::regex k_denied("avc:(\\s|\xc2\xa0)+denied|apparmor=\"DENIED\"");
    const auto expected = static_cast<std::uint64_t>(
        std::distance(std::sregex_iterator(text.begin(), text.end(), k_denied), std::sregex_iterator()));
    CHECK(messages == 682);
    CHECK(expected == 908);
    const Scan s = scan_path(path);
    std::uint64_t avc = 0;
    for (const auto& d : s.denials()) {
        avc += d.record_type != "SELINUX_ERR";
    }
    CHECK(s.stats.lines == lines);
    CHECK(s.stats.malformed == 3);
    CHECK(avc == expected - 3);
}

TEST_CASE("an input with no record recognised says so once, with the format it looks like and the raw command")
{
    // setroubleshoot's multi-line journal message (its long form, no "sealert -l"): no denial
    const auto sealert = test::virtdeny(
        "explain -", "Dec 06 10:00:01 host setroubleshoot[1234]: SELinux is preventing /usr/libexec/qemu-kvm from read "
                     "access on the file disk.img.\n");
    CHECK(sealert.err.find("<stdin>: no audit record recognised: it looks like setroubleshoot's summary") !=
          std::string::npos);
    CHECK(sealert.err.find("sealert -l UUID") != std::string::npos);
    const auto prose = test::virtdeny("explain -", "the VM does not start\nplease help\n");
    CHECK(prose.err == "virtdeny: <stdin>: no audit record recognised; raw records come from `ausearch -m "
                       "AVC,USER_AVC,SELINUX_ERR --raw` (auditd) or `journalctl -k -o cat` (kernel log)\n");
    // an audit log without denials, or an empty input: nothing to say
    CHECK(test::virtdeny("explain -", "type=USER_LOGIN msg=audit(1710382510.143:7): pid=1 uid=0 res=success'\n").err.empty());
    CHECK(test::virtdeny("explain -", "").err.empty());
    const std::string file = test::temp_dir() + "/notes.txt";
    test::write_file(file, "the VM does not start\n");
    const auto mapped = test::virtdeny("explain --threads 2 " + test::shell_quote(file));
    CHECK(mapped.err.find("notes.txt: no audit record recognised; raw records come from") != std::string::npos);
}

TEST_CASE("journalctl's two renderings of one kernel record count once")
{
    // journalctl (short) shows an AppArmor denial from the audit transport (audit[PID]: AVC) and the
    // kernel transport (kernel: audit: type=1400 ...) with the same body and second
    const std::string r = "apparmor=\"DENIED\" operation=\"open\" profile=\"libvirt-d8a61f0e-4b27-4c93-8e05-a7c2f9b3d146\" "
                          "name=\"/dev/vfio/42\" pid=7760 comm=\"qemu-system-x86\" requested_mask=\"wr\" denied_mask=\"wr\" "
                          "fsuid=64055 ouid=0";
    const Scan twice = scan_text("Mar 05 21:14:08 gpu-host audit[7760]: AVC " + r + "\n" +
                                 "Mar 05 21:14:08 gpu-host kernel: audit: type=1400 audit(1709673248.871:391): " + r + "\n");
    REQUIRE(twice.denials().size() == 1);
    CHECK(twice.denials()[0].name == "/dev/vfio/42");  // the first rendering read is kept
    // a different denial in the same second, and the same denial a minute later, are not duplicates
    const Scan two = scan_text("Mar 05 21:14:08 gpu-host audit[7760]: AVC " + r + "\n" +
                               "Mar 05 21:15:08 gpu-host kernel: audit: type=1400 audit(1709673308.871:392): " + r + "\n");
    CHECK(two.denials().size() == 2);
}

namespace {

// Runs `explain --format json` on text; the finding lines parsed.
std::vector<nlohmann::json> explain_json(const std::string& text, test::RunResult* run = nullptr)
{
    const auto r = test::virtdeny("explain --format json --policy none --connect none --virt-aa-helper none -", text);
    if (run) {
        *run = r;
    }
    std::vector<nlohmann::json> out;
    for (auto& j : test::json_lines(r.out)) {
        if (!j.contains("summary")) {
            out.push_back(std::move(j));
        }
    }
    return out;
}

model::Denial only_denial(const Scan& s)
{
    const auto all = s.denials();
    REQUIRE(all.size() == 1);
    return all[0];
}

} // namespace

TEST_CASE("setroubleshoot's one-liner is a denial with what it carries: program, permissions, class, target")
{
    const std::string tail = ". For complete SELinux messages run: sealert -l 5c1e5d4a-1b7e-4b3c-9a55-5d7c0a3f3e21\n";
    const std::string head = "Dec 06 10:00:01 hv1 setroubleshoot[1234]: SELinux is preventing ";
    {
        const model::Denial d = only_denial(scan_text(head + "/usr/libexec/qemu-kvm from map access on the file /home/x/foo.img" + tail));
        CHECK(d.mac == model::Mac::selinux);
        CHECK(d.summary == "setroubleshoot");
        CHECK(d.exe == "/usr/libexec/qemu-kvm");
        CHECK(d.comm.empty());
        CHECK(d.permissions == std::vector<std::string>{"map"});
        CHECK(d.tclass == "file");
        CHECK(d.path == "/home/x/foo.img");
        CHECK(d.scontext.empty());
        CHECK(d.tcontext.empty());
        CHECK(d.pid == -1);
        CHECK(d.raw_command == "sealert -l 5c1e5d4a-1b7e-4b3c-9a55-5d7c0a3f3e21");
        CHECK(d.time_ms == 1733479201000);  // Dec 06 10:00:01 in the scan's year (2024), UTC
    }
    {
        // the plural form (setroubleshoot prints it for one access too), a name only, "directory"
        const model::Denial d = only_denial(scan_text(head + "rpc-virtqemud from 'read, write' accesses on the directory images" + tail));
        CHECK(d.comm == "rpc-virtqemud");
        CHECK(d.exe.empty());
        CHECK(d.permissions == std::vector<std::string>{"read", "write"});
        CHECK(d.tclass == "dir");
        CHECK(d.name == "images");
        CHECK(d.path.empty());
    }
    {
        const model::Denial d = only_denial(scan_text(head + "/usr/libexec/qemu-kvm from using the execmem access on a process" + tail));
        CHECK(d.tclass == "process");
        CHECK(d.permissions == std::vector<std::string>{"execmem"});
        CHECK(d.name.empty());
    }
    {
        const model::Denial d = only_denial(scan_text(head + "/usr/sbin/libvirtd from using the 'sys_admin, net_admin' capabilities" + tail));
        CHECK(d.tclass == "capability");
        CHECK(d.permissions == std::vector<std::string>{"sys_admin", "net_admin"});
    }
    {
        // no path known: "on the CLASS labeled TYPE"; the type is not a context, so it is not kept
        const model::Denial d = only_denial(scan_text(head + "/usr/bin/qemu-system-x86_64 from read access on the chr_file labeled vfio_device_t" + tail));
        CHECK(d.tclass == "chr_file");
        CHECK(d.name.empty());
        CHECK(d.path.empty());
        CHECK(d.tcontext.empty());
    }
    {
        // the older "messages. run sealert -l" (major.io, fixtures/paste-setroubleshoot line 1)
        const Scan s = scan_path(test::fixtures_dir() + "/paste-setroubleshoot/input.log");
        CHECK(s.stats.malformed == 0);
        CHECK(s.stats.lines == 86);
        const auto all = s.denials();
        REQUIRE(all.size() == 3);
        CHECK(all[0].path == "/mnt/iso/livecd.iso");
        CHECK(all[0].raw_command == "sealert -l c1c80b2c-b5df-4114-86c7-ffee98274552");
        // wrapped over four lines after "kvmhost setroubleshoot:" (the date is that line's)
        CHECK(all[1].name == "releases");
        CHECK(all[1].tclass == "lnk_file");
        CHECK(all[1].time_ms == 1719583033000);  // Jun 28 13:57:13 in the scan's year (2024), UTC
        // the report's wrapped raw AVC, whole
        CHECK(all[2].summary.empty());
        CHECK(all[2].scontext == "system_u:system_r:svirt_t:s0:c282,c505");
        CHECK(all[2].name == "some-folder");
    }
    // not the one-liner: prose that quotes it without "sealert -l", or an unknown shape
    CHECK(scan_text(head + "/usr/libexec/qemu-kvm from map access on the file /x.\n").denials().empty());
    CHECK(scan_text(head + "/usr/libexec/qemu-kvm from doing things" + tail).denials().empty());
    CHECK(scan_text(head + "/usr/libexec/qemu-kvm from map access on the file" + tail).denials().empty());
}

TEST_CASE("a setroubleshoot summary of a raw AVC in the same input counts once, before or after it")
{
    const std::string avc = "type=AVC msg=audit(1710328208.112:388): avc:  denied  { map } for  pid=3395 comm=\"qemu-system-aar\" "
                            "path=\"/home/u/VMs/lab01/nvdimm-0.dev\" dev=\"sdb4\" ino=789153 "
                            "scontext=system_u:system_r:svirt_tcg_t:s0:c23,c892 tcontext=system_u:object_r:svirt_image_t:s0:c23,c892 "
                            "tclass=file permissive=0\n";
    const std::string summary = "Mar 13 11:10:11 lab01 setroubleshoot[2210]: SELinux is preventing /usr/bin/qemu-system-aarch64 from map "
                                "access on the file /home/u/VMs/lab01/nvdimm-0.dev. For complete SELinux messages run: sealert -l "
                                "2c4e8f1a-6b3d-4e5f-9a7c-1d2e3f4a5b6c\n";
    for (const std::string& text : {avc + summary, summary + avc}) {
        const Scan s = scan_text(text);
        const auto all = s.denials();
        REQUIRE(all.size() == 1);
        CHECK(all[0].summary.empty());
        CHECK(s.stats.denial_records == 1);
        CHECK(s.stats.malformed == 0);
    }
    // another target: two denials
    const Scan other = scan_text(avc + "Mar 13 11:10:11 lab01 setroubleshoot[2210]: SELinux is preventing /usr/bin/qemu-system-aarch64 "
                                       "from map access on the file /home/u/VMs/lab01/nvdimm-1.dev. For complete SELinux messages "
                                       "run: sealert -l 2c4e8f1a-6b3d-4e5f-9a7c-1d2e3f4a5b6c\n");
    CHECK(other.denials().size() == 2);
}

TEST_CASE("JSON: a finding from setroubleshoot's summary says so, has no contexts and no fix that needs types")
{
    test::RunResult r;
    const auto findings = explain_json(
        "Dec 06 10:00:01 hv1 setroubleshoot[1234]: SELinux is preventing /usr/libexec/qemu-kvm from map access on the file "
        "/var/lib/libvirt/images/db01.qcow2. For complete SELinux messages run: sealert -l 5c1e5d4a-1b7e-4b3c-9a55-5d7c0a3f3e21\n",
        &r);
    REQUIRE(findings.size() == 1);
    const auto& f = findings[0];
    CHECK(f["from_summary"] == "setroubleshoot");
    CHECK(f["subject"] == "");
    CHECK(f["object"]["tcontext"].is_null());
    CHECK(f["object"]["path"] == "/var/lib/libvirt/images/db01.qcow2");
    CHECK(f["process"]["exe"] == "/usr/libexec/qemu-kvm");
    CHECK(f["process"]["pids"].empty());
    CHECK(f["class"] == "file");
    CHECK(f["device"] == "disk-image");
    for (const auto& fix : f["fixes"]) {
        const std::string kind = fix["kind"];
        CHECK(kind.rfind("selinux-", 0) != 0);
        CHECK(kind != "host-change");
    }
    const std::string why = f["explanation"];
    CHECK(why.find("sealert -l 5c1e5d4a-1b7e-4b3c-9a55-5d7c0a3f3e21") != std::string::npos);
    CHECK(why.find("It names no security context") != std::string::npos);
    // stderr, once: what the summary lacks and the command giving the raw records
    CHECK(r.err.find("<stdin>: 1 denials read from setroubleshoot's one-line summaries, which carry no security contexts") !=
          std::string::npos);
    CHECK(r.err.find("ausearch -m AVC -ts recent") != std::string::npos);
    // a finding from an audit record has no from_summary field at all
    const auto raw = explain_json(test::read_file(test::fixtures_dir() + "/vfio-group/input.log"));
    REQUIRE_FALSE(raw.empty());
    CHECK_FALSE(raw[0].contains("from_summary"));
}

TEST_CASE("aa-notify blocks are AppArmor denials with profile, operation, name and mask, its count alone says too little")
{
    const Scan s = scan_path(test::fixtures_dir() + "/paste-aa-notify/input.log");
    CHECK(s.stats.malformed == 0);
    const auto all = s.denials();
    REQUIRE(all.size() == 5);
    auto find = [&](const std::string& profile, const std::string& name) -> const model::Denial& {
        for (const auto& d : all) {
            if (d.profile == profile && d.name == name) {
                return d;
            }
        }
        FAIL("no denial of " << profile << " on " << name);
        return all[0];
    };
    CHECK(find("/bin/rcat", "/etc/hosts").summary.empty());  // the raw DENIED record
    CHECK(find("/bin/service_bin", "/etc/hosts").summary == "aa-notify");
    CHECK(find("/bin/service_bin", "/etc/passwd").denied_mask == "r");
    const model::Denial& vfio = find("libvirt-d8a61f0e-4b27-4c93-8e05-a7c2f9b3d146", "/dev/vfio/42");
    CHECK(vfio.summary == "aa-notify");
    CHECK(vfio.mac == model::Mac::apparmor);
    CHECK(vfio.operation == "open");
    CHECK(vfio.denied_mask == "wr");
    CHECK(vfio.apparmor == "DENIED");
    CHECK(vfio.enforced);
    CHECK(vfio.pid == -1);
    CHECK(vfio.time_ms == 0);
    const model::Denial& net = find("/usr/sbin/libvirtd", "");
    CHECK(net.operation == "create");
    CHECK(net.family == "packet");
    CHECK(net.sock_type == "raw");
    const auto findings = explain_json(test::read_file(test::fixtures_dir() + "/paste-aa-notify/input.log"));
    bool vm = false;
    for (const auto& f : findings) {
        if (f["subject"] == "libvirt-d8a61f0e-4b27-4c93-8e05-a7c2f9b3d146") {
            vm = true;
            CHECK(f["from_summary"] == "aa-notify");
            CHECK(f["device"] == "vfio");
            CHECK(f["domain"]["uuid"] == "d8a61f0e-4b27-4c93-8e05-a7c2f9b3d146");
        }
    }
    CHECK(vm);
    // aa-notify -l without -v: a count, no denial; said once, with the commands that give them
    const auto count = test::virtdeny("explain -", "AppArmor denials: 12 (since Sun Dec  6 10:00:00 2026)\n");
    CHECK(count.err == "virtdeny: <stdin>: it holds aa-notify -l's count (\"AppArmor denials: N (since ...)\"), which names no "
                       "denial: `aa-notify -l -v` prints each one, and `journalctl -k -o cat --grep apparmor=` or `ausearch "
                       "--raw -m AVC` the raw records\n");
    // a block whose raw record is in the input too counts once, as the record (before or after it)
    const std::string raw = "type=AVC msg=audit(1709673248.871:391): apparmor=\"DENIED\" operation=\"open\" "
                            "profile=\"libvirt-d8a61f0e-4b27-4c93-8e05-a7c2f9b3d146\" name=\"/dev/vfio/42\" pid=7760 "
                            "comm=\"qemu-system-x86\" requested_mask=\"wr\" denied_mask=\"wr\" fsuid=64055 ouid=0\n";
    const std::string block = "Profile: libvirt-d8a61f0e-4b27-4c93-8e05-a7c2f9b3d146\nOperation: open\nName: /dev/vfio/42\n"
                              "Denied: wr\nLogfile: /var/log/audit/audit.log\n";
    for (const std::string& text : {raw + block, block + raw}) {
        const auto once = scan_text(text).denials();
        REQUIRE(once.size() == 1);
        CHECK(once[0].summary.empty());
        CHECK(once[0].pid == 7760);
    }
    // a block without its profile is not a denial
    CHECK(scan_text("Profile: \nOperation: open\nName: /dev/vfio/42\nDenied: wr\nLogfile: /var/log/kern.log\n").denials().empty());
}

TEST_CASE("aureport --avc rows are denials with contexts but no path, other rows say too little")
{
    static UtcZone utc;
    const Scan s = scan_path(test::fixtures_dir() + "/paste-aureport/input.log");
    CHECK(s.stats.malformed == 0);
    const model::Denial d = only_denial(s);
    CHECK(d.summary == "aureport");
    CHECK(d.comm == "qemu-system-aar");
    CHECK(d.scontext == "system_u:system_r:svirt_tcg_t:s0:c23,c892");
    CHECK(d.tcontext == "system_u:object_r:svirt_image_t:s0:c23,c892");
    CHECK(d.tclass == "file");
    CHECK(d.permissions == std::vector<std::string>{"map"});
    CHECK(d.path.empty());
    CHECK(d.serial == 388);
    CHECK(d.time_ms == 1710328208000);  // 03/13/2024 11:10:08 read in TZ (UTC here)
    CHECK(d.raw_command == "ausearch --raw -m AVC -a 388");
    const auto other = test::virtdeny("explain -", "AVC Report\n1. 02/16/22 04:57:26 ? system_u:system_r:system_dbusd_t:s0-s0:c0.c1023 0 "
                                                   "(null) (null) (null) unset 1175\n");
    CHECK(other.err.find("aureport rows that are not `aureport --avc` denials") != std::string::npos);
    CHECK(other.err.find("ausearch --raw -m AVC,USER_AVC,SELINUX_ERR") != std::string::npos);
}

TEST_CASE("journalctl -o json, json-pretty and verbose: each entry's MESSAGE, the audit transport's stamp, two transports once")
{
    for (const std::string rel : {"/paste-journal-json/input.log", "/paste-journal-verbose/input.log", "/pastes/forms/journal-json-pretty.txt"}) {
        INFO(rel);
        const Scan s = scan_path(test::fixtures_dir() + rel);
        CHECK(s.stats.malformed == 0);
        const auto all = s.denials();
        REQUIRE(all.size() == 2);
        // the AppArmor record: kernel transport read, its audit-transport twin dropped
        CHECK(all[0].mac == model::Mac::apparmor);
        CHECK(all[0].name == "/dev/vfio/42");
        CHECK(all[0].serial == 391);
        CHECK(all[0].time_ms == 1709673248871);
        // the SELinux AVC from the audit transport, stamp made again from _AUDIT_ID and _SOURCE_REALTIME_TIMESTAMP
        CHECK(all[1].mac == model::Mac::selinux);
        CHECK(all[1].has_stamp);
        CHECK(all[1].serial == 388);
        CHECK(all[1].time_ms == 1710328208112);
        CHECK(all[1].record_type == "AVC");
        CHECK(all[1].scontext == "system_u:system_r:svirt_tcg_t:s0:c23,c892");
        // setroubleshoot's one-liner of that AVC: counted once, as the record
        CHECK(s.stats.denial_records == 2);
    }
    // an entry of another transport keeps its journal date and identifier
    const Scan one = scan_text("{\"__REALTIME_TIMESTAMP\":\"1709673248871500\",\"_TRANSPORT\":\"syslog\",\"SYSLOG_IDENTIFIER\":"
                               "\"dbus-daemon\",\"_PID\":\"812\",\"_HOSTNAME\":\"h\",\"MESSAGE\":\"apparmor=\\\"DENIED\\\" "
                               "operation=\\\"dbus_method_call\\\" bus=\\\"system\\\" path=\\\"/org/freedesktop/login1\\\" "
                               "interface=\\\"org.freedesktop.login1.Manager\\\" member=\\\"Inhibit\\\" mask=\\\"send\\\" "
                               "name=\\\"org.freedesktop.login1\\\" pid=7760 label=\\\"libvirt-d8a61f0e-4b27-4c93-8e05-a7c2f9b3d146\\\" "
                               "peer_pid=1 peer_label=\\\"unconfined\\\"\"}\n");
    const auto d = one.denials();
    REQUIRE(d.size() == 1);
    CHECK(d[0].time_ms == 1709673248871);
    // a "{" alone that opens no journal entry swallows nothing after it
    const std::string avc = test::read_file(pastes("selinux-policy/virt/a809f095daff.txt"));
    CHECK(scan_text("{\n" + avc + "\n").denials().size() == 1);
    // a MESSAGE given as bytes (not UTF-8) is read; JSON that is not an entry is not
    CHECK(scan_text("{\"MESSAGE\":[97,98],\"__REALTIME_TIMESTAMP\":\"1\"}\n{\"MESSAGE\":\n").stats.malformed == 0);
}

TEST_CASE("binary data: one stderr line per input with lines, bytes and the first line, the records around it are read")
{
    const std::string avc = test::read_file(pastes("selinux-policy/virt/a809f095daff.txt"));
    std::string text = avc;
    if (text.back() != '\n') {
        text += '\n';
    }
    for (int i = 0; i < 300; ++i) {
        text += std::string("\x7f" "ELF\x02\x01\x01", 7) + std::string(3, '\0') + "\x10junk\n";
    }
    std::string second = avc;
    const std::size_t at = second.find(":388)");
    REQUIRE(at != std::string::npos);
    second.replace(at, 5, ":389)");
    text += second;
    const std::string file = test::temp_dir() + "/binary.log";
    test::write_file(file, text);
    const std::string expected = "virtdeny: " + file + ": line 2: binary data (not text), skipped with the input's other binary "
                                 "lines: 300 lines, 4800 bytes in all\n";
    for (const std::string threads : {"1", "2"}) {
        INFO("threads " << threads);
        // small chunks and sync points: the binary lines fall in several chunks of the parallel scan
        const auto r = test::run("VIRTDENY_CHUNK_BYTES=1024 VIRTDENY_SYNC_LINES=4 " + test::shell_quote(test::binary()) +
                                 " explain --format json --policy none --connect none --threads " + threads + " " +
                                 test::shell_quote(file));
        CHECK(r.err == expected);
        const auto lines = test::json_lines(r.out);
        REQUIRE_FALSE(lines.empty());
        CHECK(lines.back()["summary"]["denials"] == 2);
        CHECK(lines.back()["summary"]["malformed_lines"] == 300);
    }
    const auto piped = test::virtdeny("explain --format json --policy none --connect none -", text);
    CHECK(piped.err == "virtdeny: <stdin>: line 2: binary data (not text), skipped with the input's other binary lines: 300 lines, "
                       "4800 bytes in all\n");
    // follow reads line by line, with no end of input: each binary line is said as it comes
    const auto follow = test::virtdeny("follow --format json -", std::string("garbage \0\x01\n", 11));
    CHECK(follow.err == "virtdeny: <stdin>: line 1: binary data, skipped\n");
    // nothing but binary: the same line says that no record was recognised, and where raw records come from
    const auto only = test::virtdeny("explain -", std::string("\0\x01\x02\n\0\x05\n", 7));
    CHECK(only.err == "virtdeny: <stdin>: line 1: binary data (not text), skipped with the input's other binary lines: 2 lines, "
                      "7 bytes in all; no audit record recognised; raw records come from `ausearch -m AVC,USER_AVC,SELINUX_ERR "
                      "--raw` (auditd) or `journalctl -k -o cat` (kernel log)\n");
}
