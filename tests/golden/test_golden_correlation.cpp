// Golden tests for each correlation signal of docs/correlation.md (`domain.via`): each has a fixture whose
// input only that signal can tie to its VM, and the right VM must come out, named by it.
// pid-reuse and mcs-no-pid are checked finding by finding.
#include "../support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using namespace virtdeny;
using nlohmann::json;

namespace {

// The findings (without the summary) of explain --format json over a fixture.
std::vector<json> explain_fixture(const std::string& name, bool with_xml = true)
{
    const fs::path dir = fs::path(test::fixtures_dir()) / name;
    REQUIRE(fs::exists(dir / "input.log"));
    std::string args = "explain --format json";
    if (with_xml && fs::is_directory(dir / "libvirt")) {
        args += " --libvirt-xml libvirt";
    }
    const auto r = test::run("cd " + test::shell_quote(dir.string()) + " && NO_COLOR=1 " + test::shell_quote(test::binary())
                             + " " + args + " input.log");
    INFO(r.err);
    REQUIRE(r.status == 0);
    std::vector<json> findings;
    std::istringstream in(r.out);
    std::string line;
    bool summary = false;
    while (std::getline(in, line)) {
        json j = json::parse(line);
        if (j.contains("summary")) {
            summary = true;
            continue;
        }
        findings.push_back(std::move(j));
    }
    CHECK(summary);
    return findings;
}

std::string name_of(const json& finding)
{
    return finding["domain"].is_object() && finding["domain"]["name"].is_string()
        ? finding["domain"]["name"].get<std::string>()
        : std::string();
}

struct SignalCase
{
    const char* via;
    const char* fixture;
    const char* vm;
    const char* uuid;  // empty: the signal gives no uuid
};

// The `domain.via` values of docs/correlation.md, in their order of trust, each with the fixture made for it.
const SignalCase k_signals[] = {
    {"virt-pid", "pid-reuse", "ci-runner-1", "8a1e5c3f-2b7d-4e90-a6c4-f3d2b1e09a87"},
    {"vm-ctx", "mcs-no-pid", "qemu9-test", "d5a2e8b4-7c31-4f09-b6d7-2a8e1f9c3b05"},
    {"apparmor-profile", "seed-001-memfd-tmp", "instance-0000002a", "2afa1131-bc8c-43d2-9c4a-962c1bf7723e"},
    {"seclabel", "formats", "fmt-sel", "6a0d3e57-b18c-4c2f-95e7-d4f21b8a0c63"},
    {"execve", "execve-qemu", "ci-7f3a9c1e-mr-4821-integration-postgres-16-replica-failover-pgbouncer-tls-x86-64-runner-3-retry2-shard-b",
     "3c9e7a51-0d2b-4f68-a1c4-8e5b2d7f9061"},
    {"proctitle", "proctitle-truncated", "build-runner-07", ""},
    {"proxmox-id", "proxmox", "104", ""},
    {"kubevirt", "kubevirt", "default/vmi-fedora", "0e9d8f21-6a3b-5c47-8d19-2f4e7a0b6c35"},
    {"libvirt-xml", "libvirt-xml-device", "winbuild-2022", "5d8c2e19-7b4a-4f06-a3d1-c9e07b6f2a48"},
};

} // namespace

TEST_CASE("golden correlation: every domain.via of docs/correlation.md names the right VM in its fixture", "[golden][correlate]")
{
    std::set<std::string> vias;
    for (const SignalCase& c : k_signals) {
        vias.insert(c.via);
    }
    CHECK(vias == std::set<std::string>{"virt-pid", "vm-ctx", "apparmor-profile", "seclabel", "execve", "proctitle",
                                        "proxmox-id", "kubevirt", "libvirt-xml"});

    for (const SignalCase& c : k_signals) {
        INFO("fixture " << c.fixture << ", via " << c.via);
        const auto findings = explain_fixture(c.fixture);
        bool found = false;
        for (const json& f : findings) {
            if (!f["domain"].is_object() || f["domain"]["via"] != c.via) {
                continue;
            }
            CHECK_FALSE(name_of(f).empty());  // every VM found by a signal is named
            if (name_of(f) != c.vm) {
                continue;
            }
            found = true;
            if (*c.uuid) {
                CHECK(f["domain"]["uuid"] == c.uuid);
            } else {
                CHECK(f["domain"]["uuid"].is_null());
            }
        }
        CHECK(found);
    }
}

TEST_CASE("golden correlation: pid-reuse gives each denial the VM that had pid 4242 at that time", "[golden][correlate]")
{
    const auto findings = explain_fixture("pid-reuse");
    REQUIRE(findings.size() == 2);
    CHECK(findings[0]["class"] == "capability");
    CHECK(findings[0]["permissions"] == json::array({"sys_rawio"}));
    CHECK(findings[0]["process"]["pids"] == json::array({4242}));
    CHECK(name_of(findings[0]) == "ci-runner-1");
    CHECK(findings[0]["domain"]["via"] == "virt-pid");

    CHECK(findings[1]["object"]["path"] == "/run/udev/data/c189:2");
    CHECK(findings[1]["process"]["pids"] == json::array({4242}));
    CHECK(name_of(findings[1]) == "ci-runner-2");
    CHECK(findings[1]["domain"]["uuid"] == "f4c7b2a9-6e1d-4035-8b7e-1a9c5d3e2f60");
    CHECK(findings[1]["domain"]["via"] == "virt-pid");
}

TEST_CASE("golden correlation: mcs-no-pid finds the VM by its vm-ctx pair, not the running distractor", "[golden][correlate]")
{
    // with and without domain XML: the MCS pair of VIRT_MACHINE_ID alone names it
    for (const bool with_xml : {true, false}) {
        INFO("with libvirt XML: " << with_xml);
        const auto findings = explain_fixture("mcs-no-pid", with_xml);
        REQUIRE(findings.size() == 1);
        CHECK(findings[0]["permissions"] == json::array({"entrypoint"}));
        CHECK(findings[0]["process"]["pids"] == json::array({61870}));
        CHECK(name_of(findings[0]) == "qemu9-test");
        CHECK(findings[0]["domain"]["via"] == "vm-ctx");
    }
}

TEST_CASE("golden correlation: a QEMU name the 128-byte PROCTITLE cut may have shortened is not trusted", "[golden][correlate]")
{
    const auto findings = explain_fixture("proctitle-truncated");
    REQUIRE(findings.size() == 2);
    CHECK(name_of(findings[0]) == "build-runner-07");
    CHECK(findings[0]["domain"]["via"] == "proctitle");
    CHECK(findings[1]["object"]["path"] == "/var/log/ci/mr-4821-serial.log");
    CHECK(findings[1]["domain"].is_null());  // the cut shows "...-runner-3", not the VM's name
}

TEST_CASE("golden correlation: a disk path of a domain's XML names the VM only when that XML is given", "[golden][correlate]")
{
    const auto with_xml = explain_fixture("libvirt-xml-device");
    REQUIRE(with_xml.size() == 2);
    CHECK(name_of(with_xml[0]) == "winbuild-2022");
    CHECK(with_xml[0]["domain"]["via"] == "libvirt-xml");
    CHECK(with_xml[0]["device"] == "disk-image");
    CHECK(with_xml[0]["count"] == 2);
    CHECK(with_xml[1]["domain"].is_null());  // a file in no domain's XML

    const auto without = explain_fixture("libvirt-xml-device", false);
    REQUIRE(without.size() == 2);
    CHECK(without[0]["domain"].is_null());
}

TEST_CASE("golden correlation: EXECVE names QEMU's pid for its later denials, and nothing else", "[golden][correlate]")
{
    const auto findings = explain_fixture("execve-qemu");
    REQUIRE(findings.size() == 5);
    // the exec's whole argv names the VM whose own PROCTITLE was cut inside the name
    CHECK(findings[0]["object"]["path"] == "/var/log/ci/mr-4821-shard-b-serial.log");
    CHECK(findings[0]["domain"]["via"] == "execve");
    CHECK(findings[0]["domain"]["uuid"] == "3c9e7a51-0d2b-4f68-a1c4-8e5b2d7f9061");
    // the same pid an hour later is python3: not that VM
    CHECK(findings[1]["process"]["comm"] == "python3");
    CHECK(findings[1]["domain"].is_null());
    // find(1) with "-name guest=*.qcow2" is not QEMU
    CHECK(findings[2]["process"]["comm"] == "find");
    CHECK(findings[2]["domain"].is_null());
    // ausearch -i text of an exec, records in reverse order
    CHECK(name_of(findings[3]) == "pg-bench-01");
    CHECK(findings[3]["domain"]["via"] == "execve");
    CHECK(findings[3]["device"] == "sgx");
    // ausearch -i with spaces in the name: never "Windows"
    CHECK(findings[4]["domain"].is_null());
}

TEST_CASE("golden correlation: Proxmox VE names the VMID, a container and a mismatched path name nothing", "[golden][correlate]")
{
    const auto findings = explain_fixture("proxmox");
    REQUIRE(findings.size() == 5);
    std::set<std::string> named;
    for (const json& f : findings) {
        const std::string path = f["object"]["path"].is_string() ? f["object"]["path"].get<std::string>() : "";
        INFO(path);
        if (path == "/run/systemd/mount-rootfs/" || path == "/var/lib/vz/images/105/vm-104-disk-0.qcow2") {
            CHECK(f["domain"].is_null());  // LXC container 101; directory 105 holding vm-104's volume
            continue;
        }
        CHECK(name_of(f) == "104");
        CHECK(f["domain"]["uuid"].is_null());
        named.insert(f["domain"]["via"].get<std::string>() + " " + path);
    }
    CHECK(named == std::set<std::string>{"proxmox-id /dev/vfio/vfio",
                                         "proxmox-path /var/lib/vz/images/104/vm-104-disk-1.qcow2",
                                         "proxmox-path /var/run/qemu-server/104.vnc"});
}

TEST_CASE("golden correlation: KubeVirt names namespace/name for the pod's processes, not another pod's", "[golden][correlate]")
{
    const auto findings = explain_fixture("kubevirt");
    REQUIRE(findings.size() == 4);
    int named = 0;
    for (const json& f : findings) {
        if (f["subject"] == "system_u:system_r:virt_launcher.process:s0:c113,c604") {
            CHECK(f["domain"].is_null());  // no QEMU seen under that pod's pair
            continue;
        }
        CHECK(name_of(f) == "default/vmi-fedora");
        CHECK(f["domain"]["via"] == "kubevirt");
        CHECK(f["domain"]["uuid"] == "0e9d8f21-6a3b-5c47-8d19-2f4e7a0b6c35");
        ++named;
    }
    CHECK(named == 3);
}
