// follow --audisp (auditd's plugin stream on stdin, SIGHUP, SIGTERM), follow - (a pipe),
// and --netlink (only its error path can be tested without privileges).
#include "live_support.hpp"

#include <analyzer/live/netlink_source.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>

using namespace virtdeny;

namespace {

std::size_t denial_count(const std::string& log)
{
    // what explain finds: the denials it counted
    const std::string dir = test::temp_dir();
    test::write_file(dir + "/in.log", log);
    auto r = test::virtdeny("explain --format json " + test::shell_quote(dir + "/in.log"));
    const std::size_t at = r.out.find("\"denials\":");
    return at == std::string::npos ? 0 : std::stoul(r.out.substr(at + 10));
}

std::size_t json_objects(const std::vector<test::OutputLine>& lines)
{
    std::size_t n = 0;
    for (const auto& l : lines) {
        if (l.text.rfind("{\"node\"", 0) == 0) {
            ++n;
        }
    }
    return n;
}

} // namespace

TEST_CASE("follow --audisp: a recorded plugin stream, SIGHUP reloads, SIGTERM flushes and exits 0",
          "[live][audisp]")
{
    const std::string log = test::read_file(test::fixtures_dir() + "/seed-000-nvdimm-home/input.log");
    REQUIRE(!log.empty());
    const std::size_t expected = denial_count(log);
    REQUIRE(expected > 0);
    test::FollowProcess follow({"follow", "--audisp", "--format", "json"}, true);
    // auditd writes records as they come: in pieces
    for (std::size_t at = 0; at < log.size(); at += 4096) {
        follow.write_stdin(log.substr(at, 4096));
    }
    follow.wait_lines(expected, 3000);
    follow.signal(SIGHUP);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    follow.signal(SIGTERM);  // stdin still open, as under auditd
    const int status = follow.wait(5000);
    INFO(follow.err());
    CHECK(status == 0);
    CHECK(json_objects(follow.lines()) == expected);
    CHECK(follow.err().find("reloaded") != std::string::npos);
}

TEST_CASE("follow -: a pipe such as journalctl -k -f, to its end", "[live][pipe]")
{
    const std::string log = test::read_file(test::fixtures_dir() + "/seed-001-memfd-tmp/input.log");
    const std::size_t expected = denial_count(log);
    REQUIRE(expected > 0);
    test::FollowProcess follow({"follow", "-", "--format", "json"}, true);
    follow.write_stdin(log);
    CHECK(follow.wait_lines(expected, 3000) == expected);
    follow.close_stdin();
    CHECK(follow.wait(5000) == 0);
    CHECK(json_objects(follow.lines()) == expected);
}

TEST_CASE("follow --netlink: one clear line where it is not allowed", "[live][netlink]")
{
    test::FollowProcess follow({"follow", "--netlink", "--format", "json"});
    // time to install its SIGTERM handler (longer where the code runs slower: ASan)
    std::this_thread::sleep_for(test::scaled_ms(500));
    follow.signal(SIGTERM);
    const int status = follow.wait(5000);
    if (status == 0) {
        WARN("SKIPPED: this process may read the audit multicast group; only the error path is tested");
        return;
    }
    CHECK(status == 3);
    const std::string err = follow.err();
    INFO(err);
    CHECK(err.rfind("virtdeny: netlink: ", 0) == 0);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
}

TEST_CASE("netlink messages become audit.log lines", "[live][netlink]")
{
    CHECK(live::netlink_to_line(1400, "audit(1710382510.170:815): apparmor=\"DENIED\"\n") ==
          "type=AVC msg=audit(1710382510.170:815): apparmor=\"DENIED\"");
    CHECK(live::netlink_to_line(1320, "audit(1.0:2): ") == "type=EOE msg=audit(1.0:2): ");
}

TEST_CASE("follow: domain XML written after follow started is read when the VM starts", "[live][xml]")
{
    // at boot the auditd plugin starts before libvirtd writes /run/libvirt/qemu/*.xml
    const std::string dir = test::temp_dir();
    const std::string uuid = "7d1e5a40-2b3c-4d5e-8f60-718293a4b5c6";
    test::FollowProcess follow({"follow", "-", "--format", "json", "--libvirt-xml", dir}, true);
    std::this_thread::sleep_for(test::scaled_ms(500));  // follow has read the (empty) directory
    test::write_file(dir + "/odd01.xml",
                     "<domain type='kvm'><name>odd01</name><uuid>" + uuid + "</uuid><devices>"
                     "<disk type='file' device='disk'><source file='/srv/odd/place.bin'/><target dev='vda'/></disk>"
                     "</devices></domain>\n");
    follow.write_stdin("type=VIRT_MACHINE_ID msg=audit(1733050000.100:500): pid=1 uid=0 auid=4294967295 "
                       "ses=4294967295 subj=libvirtd msg='virt=kvm vm=\"odd01\" uuid=" + uuid + " vm-ctx=libvirt-" +
                       uuid + " img-ctx=libvirt-" + uuid +
                       " model=apparmor exe=\"/usr/sbin/libvirtd\" hostname=? addr=? terminal=? res=success'\n"
                       "type=AVC msg=audit(1733050001.200:501): apparmor=\"DENIED\" operation=\"open\" profile=\"libvirt-" +
                       uuid + "\" name=\"/srv/odd/place.bin\" pid=4242 comm=\"qemu-system-x86\" requested_mask=\"r\" "
                       "denied_mask=\"r\" fsuid=64055 ouid=64055\n");
    REQUIRE(follow.wait_lines(1, 3000) == 1);
    follow.close_stdin();
    CHECK(follow.wait(5000) == 0);
    const std::string out = follow.lines().front().text;
    INFO(out);
    // the path is only known as this VM's disk from its XML (a path guess would say "other")
    CHECK(out.find("\"device\":\"disk-image\"") != std::string::npos);
    CHECK(out.find("\"name\":\"odd01\"") != std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("follow --connect: libvirt's list is asked again when a VM starts, not per denial", "[live][connect]")
{
    // libvirt's test driver reads node.xml at each connection: a domain added to it stands for
    // a VM defined and started after follow began
    const std::string dir = test::temp_dir();
    const std::string node = dir + "/node.xml";
    const auto domain = [](const std::string& name, const std::string& uuid, const std::string& level) {
        return "<domain type='kvm'><name>" + name + "</name><uuid>" + uuid +
               "</uuid><memory>1048576</memory><os><type arch='x86_64'>hvm</type></os>"
               "<seclabel type='static' model='selinux' relabel='yes'><label>system_u:system_r:svirt_t:" + level +
               "</label></seclabel></domain>";
    };
    const std::string first = domain("old01", "0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3", "s0:c1,c2");
    const std::string second = domain("new01", "1b2c3d4e-5f6a-4b7c-8d9e-9fa0b1c2d3e4", "s0:c7,c8");
    test::write_file(node, "<node>" + first + "</node>\n");
    const auto avc = [](int serial, const std::string& level) {
        return "type=AVC msg=audit(1733050001.200:" + std::to_string(serial) +
               "): avc:  denied  { read } for  pid=4242 comm=\"qemu-kvm\" path=\"/srv/x.img\" dev=\"dm-0\" ino=1 "
               "scontext=system_u:system_r:svirt_t:" + level +
               " tcontext=system_u:object_r:var_t:s0 tclass=file permissive=0\n";
    };
    test::FollowProcess follow({"follow", "-", "--format", "json", "--connect", "test://" + node}, true);
    follow.write_stdin(avc(600, "s0:c1,c2"));
    REQUIRE(follow.wait_lines(1, 3000) == 1);
    // new01 is defined and started: the denial before its libvirtd line is not named (no
    // listing per denial), the one after it is
    test::write_file(node, "<node>" + first + second + "</node>\n");
    follow.write_stdin(avc(601, "s0:c7,c8"));
    REQUIRE(follow.wait_lines(2, 3000) == 2);
    follow.write_stdin("Dec  6 10:00:00 hv01 virtqemud[900]: Domain id=2 name='new01' "
                       "uuid=1b2c3d4e-5f6a-4b7c-8d9e-9fa0b1c2d3e4 is tainted: host-cpu\n" + avc(602, "s0:c7,c8"));
    REQUIRE(follow.wait_lines(3, 3000) == 3);
    follow.close_stdin();
    CHECK(follow.wait(5000) == 0);
    const auto lines = follow.lines();
    INFO(follow.err());
    CHECK(lines[0].text.find("\"name\":\"old01\",\"uuid\":\"0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3\",\"via\":\"libvirt-api\"") !=
          std::string::npos);
    CHECK(lines[1].text.find("\"domain\":null") != std::string::npos);
    CHECK(lines[2].text.find("\"name\":\"new01\",\"uuid\":\"1b2c3d4e-5f6a-4b7c-8d9e-9fa0b1c2d3e4\",\"via\":\"libvirt-api\"") !=
          std::string::npos);
    CHECK(follow.err().empty());
    std::filesystem::remove_all(dir);
}
