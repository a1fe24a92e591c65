// Issue 16, signals in the log itself: libvirt's own "Domain id=N name='X' uuid=U" lines and the
// paths libvirt names after a VM (a guess, via path-guess; a 20-character cut name only as a
// prefix of a name libvirt told). fixtures/libvirt-log-names is the whole case.
#include "../json_support.hpp"
#include "../support.hpp"

#include <analyzer/correlate/libvirt_log.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

using namespace virtdeny;
using nlohmann::json;

TEST_CASE("libvirt log: Domain id/name/uuid lines in syslog and libvirtd.log form", "[correlate][libvirt-log]")
{
    auto d = correlate::parse_domain_line(
        "Mar  4 09:12:41 hv07 libvirtd[1211]: Domain id=2 name='win10-gpu' uuid=7b1e9d40-2c5a-4f83-9e6d-0a4c8b2f1d97 "
        "is tainted: host-cpu");
    REQUIRE(d);
    CHECK(d->id == 2);
    CHECK(d->name == "win10-gpu");
    CHECK(d->uuid == "7b1e9d40-2c5a-4f83-9e6d-0a4c8b2f1d97");
    d = correlate::parse_domain_line("2024-03-04 09:20:02.311+0000: 1211: warning : qemuDomainObjTaint:7220 : Domain id=5 "
                                     "name='it''s a VM' uuid=fa8bcf1a-8982-47ab-9766-ebbb695008e3 is tainted: custom-argv");
    REQUIRE(d);
    CHECK(d->name == "it''s a VM");  // the name runs to "' uuid=", quotes and all
    // QEMU's own log says no name; a cut or forged uuid is no evidence
    CHECK_FALSE(correlate::parse_domain_line("2022-07-29 07:49:46.591+0000: Domain id=30 is tainted: host-cpu"));
    CHECK_FALSE(correlate::parse_domain_line("Domain id=2 name='x' uuid=7b1e9d40-2c5a-4f83-9e6d-0a4c8b2f1d9"));
    CHECK_FALSE(correlate::parse_domain_line("Domain id=2 name='' uuid=7b1e9d40-2c5a-4f83-9e6d-0a4c8b2f1d97"));
    CHECK_FALSE(correlate::parse_domain_line("Domain id=2 name='a\x1b[31mb' uuid=7b1e9d40-2c5a-4f83-9e6d-0a4c8b2f1d97"));
}

TEST_CASE("libvirt log: paths libvirt names after a VM, with its 20-character cut", "[correlate][libvirt-log]")
{
    auto g = correlate::guess_from_path("/var/lib/libvirt/qemu/domain-3-kvmguest-oracular-up/master-key.aes");
    CHECK(g.name == "kvmguest-oracular-up");
    CHECK(g.truncated);  // 20 characters: maybe cut
    CHECK(g.id == 3);
    g = correlate::guess_from_path("/var/lib/libvirt/qemu/domain-7-win/fs0-fs.sock");
    CHECK(g.name == "win");
    CHECK_FALSE(g.truncated);
    g = correlate::guess_from_path("/var/lib/libvirt/qemu/channel/target/domain-14-web01/org.qemu.guest_agent.0");
    CHECK(g.name == "web01");
    CHECK(g.id == 14);
    g = correlate::guess_from_path("/run/libvirt/qemu/swtpm/2-win11-swtpm.sock");
    CHECK(g.name == "win11");
    CHECK(g.id == 2);
    CHECK(correlate::guess_from_path("/var/log/libvirt/qemu/lab-router.log").name == "lab-router");
    CHECK(correlate::guess_from_path("/var/lib/libvirt/qemu/nvram/lab-router_VARS.fd").name == "lab-router");
    g = correlate::guess_from_path("/var/lib/libvirt/swtpm/fa8bcf1a-8982-47ab-9766-ebbb695008e3/tpm2/tpm2-00.permall");
    CHECK(g.uuid == "fa8bcf1a-8982-47ab-9766-ebbb695008e3");
    CHECK(g.name.empty());
    // libvirt cuts by characters: 20 UTF-8 characters (here 40 bytes) are a prefix too
    const std::string greek = "\xce\xb1\xce\xb2\xce\xb3\xce\xb4\xce\xb5\xce\xb6\xce\xb7\xce\xb8\xce\xb9\xce\xba"
                              "\xce\xbb\xce\xbc\xce\xbd\xce\xbe\xce\xbf\xcf\x80\xcf\x81\xcf\x83\xcf\x84\xcf\x85";
    g = correlate::guess_from_path("/var/lib/libvirt/qemu/domain-4-" + greek + "/monitor.sock");
    CHECK(g.truncated);
    // ... or at 20 bytes when libvirtd's locale cannot read it (C locale): 10 characters here
    g = correlate::guess_from_path("/var/lib/libvirt/qemu/domain-4-" + greek.substr(0, 20) + "/monitor.sock");
    CHECK(g.truncated);
    g = correlate::guess_from_path("/var/lib/libvirt/qemu/domain-4-" + greek.substr(0, 18) + "/monitor.sock");
    CHECK_FALSE(g.truncated);
    // not libvirt's: other directories, a name longer than libvirt keeps, no id, a sub-directory log
    CHECK(correlate::guess_from_path("/home/u/domain-3-web01/disk.qcow2").empty());
    CHECK(correlate::guess_from_path("/var/lib/libvirt/qemu/domain-3-abcdefghijklmnopqrstuvwxyz/x").empty());
    CHECK(correlate::guess_from_path("/var/lib/libvirt/qemu/domain-web01/x").empty());
    CHECK(correlate::guess_from_path("/var/log/libvirt/qemu/old/web01.log").empty());
    CHECK(correlate::guess_from_path("/var/lib/libvirt/swtpm/not-a-uuid/tpm2").empty());
    CHECK(correlate::guess_from_path("/var/lib/libvirt/images/web01.qcow2").empty());
}

namespace {

std::vector<json> explain_json(const std::string& log)
{
    const std::string dir = test::temp_dir();
    test::write_file(dir + "/input.log", log);
    const auto r = test::virtdeny("explain --format json --year 2026 " + test::shell_quote(dir + "/input.log"));
    test::run("rm -rf " + test::shell_quote(dir));
    std::vector<json> out;
    for (auto& j : test::json_lines(r.out)) {
        if (!j.contains("summary")) {
            out.push_back(j);
        }
    }
    return out;
}

std::string vm(const json& f)
{
    if (f["domain"].is_null()) {
        return "-";
    }
    const auto& d = f["domain"];
    return (d["name"].is_null() ? std::string("?") : d["name"].get<std::string>()) + "/"
           + (d["uuid"].is_null() ? std::string("?") : d["uuid"].get<std::string>().substr(0, 8)) + " via "
           + d["via"].get<std::string>();
}

} // namespace

TEST_CASE("libvirt log: fixture libvirt-log-names names each VM a person could, and no other", "[correlate][libvirt-log]")
{
    const std::string log = test::read_file(test::fixtures_dir() + "/libvirt-log-names/input.log");
    const auto findings = explain_json(log);
    REQUIRE(findings.size() == 9);
    CHECK(vm(findings[0]) == "win10-gpu/7b1e9d40 via apparmor-profile");
    CHECK(vm(findings[1]) == "?/3e0c5b7a via apparmor-profile");
    CHECK(vm(findings[2]) == "kvmguest-oracular-upstream-cpu/fa8bcf1a via path-guess");
    CHECK(vm(findings[3]) == "win/? via path-guess");
    CHECK(vm(findings[4]) == "lab-router/? via path-guess");
    CHECK(vm(findings[5]) == "lab-router/? via path-guess");
    CHECK(vm(findings[6]) == "-");  // a prefix no known name has
    CHECK(vm(findings[7]) == "-");  // another VM's file (other MCS categories)
    CHECK(vm(findings[8]) == "kvmguest-oracular-upstream-cpu/fa8bcf1a via path-guess");

    // without libvirt's own lines, the cut name and the uuids have no name: never the prefix
    std::istringstream in(log);
    std::string line;
    std::string without;
    while (std::getline(in, line)) {
        if (line.find("Domain id=") == std::string::npos) {
            without += line + "\n";
        }
    }
    const auto bare = explain_json(without);
    REQUIRE(bare.size() == 9);
    CHECK(vm(bare[0]) == "?/7b1e9d40 via apparmor-profile");
    CHECK(vm(bare[2]) == "-");
    CHECK(vm(bare[3]) == "win/? via path-guess");
    CHECK(vm(bare[8]) == "?/fa8bcf1a via path-guess");
}

TEST_CASE("libvirt log: a cut name is only matched by its id, or when one known name has that start",
          "[correlate][libvirt-log]")
{
    const std::string avc =
        "type=AVC msg=audit(1709544003.518:8120): avc:  denied  { read } for  pid=5120 comm=\"qemu-system-x86\" "
        "path=\"/var/lib/libvirt/qemu/domain-8-buildfarm-worker-nod/master-key.aes\" dev=\"dm-0\" ino=2622011 "
        "scontext=system_u:system_r:svirt_t:s0:c100,c200 tcontext=system_u:object_r:virt_var_lib_t:s0 tclass=file "
        "permissive=0\n";
    const std::string a = "libvirtd[1211]: Domain id=6 name='buildfarm-worker-node-a' uuid=11111111-2222-4333-8444-555555555555 "
                          "is tainted: host-cpu\n";
    const std::string b = "libvirtd[1211]: Domain id=8 name='buildfarm-worker-node-b' uuid=66666666-7777-4888-8999-000000000000 "
                          "is tainted: host-cpu\n";
    const std::string b_other_id = "libvirtd[1211]: Domain id=9 name='buildfarm-worker-node-b' "
                                   "uuid=66666666-7777-4888-8999-000000000000 is tainted: host-cpu\n";
    CHECK(vm(explain_json(a + avc)[0]) == "buildfarm-worker-node-a/11111111 via path-guess");  // the only one
    CHECK(vm(explain_json(a + b + avc)[0]) == "buildfarm-worker-node-b/66666666 via path-guess");  // id 8
    CHECK(vm(explain_json(a + b_other_id + avc)[0]) == "-");  // two could be, neither by id
}

TEST_CASE("other managers: LXD's instance profile names QEMU's VM, never a container, nova's instance dir its uuid",
          "[correlate][libvirt-log]")
{
    CHECK(correlate::lxd_instance("lxd-win-build_</var/snap/lxd/common/lxd>") == "win-build");
    CHECK(correlate::lxd_instance("lxd-ci_runner-3_</var/lib/lxd>") == "ci_runner-3");
    CHECK(correlate::lxd_instance("lxd-lxd114513961742").empty());  // no _<dir>: not LXD's instance form
    CHECK(correlate::lxd_instance("lxd_dnsmasq-lxdbr0_</var/snap/lxd/common/lxd>").empty());
    CHECK(correlate::lxd_instance("lxd-a b_</var/lib/lxd>").empty());
    CHECK(correlate::guess_from_path("/var/lib/nova/instances/9f1c6d52-7a3e-4b18-b0c4-2e5d8a7f3c91/disk").uuid ==
          "9f1c6d52-7a3e-4b18-b0c4-2e5d8a7f3c91");
    CHECK(correlate::guess_from_path("/var/lib/nova/instances/_base/3a9c1e").empty());

    const auto findings = explain_json(test::read_file(test::fixtures_dir() + "/other-managers/input.log"));
    REQUIRE(findings.size() == 5);
    CHECK(vm(findings[0]) == "-");  // a container under lxd-back-2004_<...>
    CHECK(vm(findings[1]) == "win-build/? via lxd-profile");
    CHECK(vm(findings[2]) == "ci_runner-3/? via lxd-profile");
    CHECK(vm(findings[3]) == "instance-0000002a/9f1c6d52 via path-guess");
    CHECK(vm(findings[4]) == "?/0b7e2c44 via path-guess");
}
