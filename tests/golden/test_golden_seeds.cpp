// The five seed stories (the README's, as example logs in fixtures/seed-*): the JSON
// names the VM (name and uuid where the log or XML holds them), the device kind, and the
// cause, and the fixes are narrow.
#include "../support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

using namespace virtdeny;
using nlohmann::json;

namespace {

std::vector<json> explain_fixture(const std::string& name)
{
    const std::string dir = test::fixtures_dir() + "/" + name;
    std::string args = "explain --format json";
    if (std::filesystem::is_directory(dir + "/libvirt")) {
        args += " --libvirt-xml " + test::shell_quote(dir + "/libvirt");
    }
    const auto r = test::virtdeny(args + " " + test::shell_quote(dir + "/input.log"));
    REQUIRE(r.status == 0);
    std::vector<json> findings;
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
        json j = json::parse(line);
        if (!j.contains("summary")) {
            findings.push_back(j);
        }
    }
    return findings;
}

bool any_fix_text_contains(const json& finding, const std::string& needle)
{
    for (const auto& fix : finding["fixes"]) {
        if (fix["text"].get<std::string>().find(needle) != std::string::npos) {
            return true;
        }
    }
    return false;
}

} // namespace

TEST_CASE("seed 000: nvdimm backing file in a home directory (SELinux)", "[golden][seed]")
{
    const auto findings = explain_fixture("seed-000-nvdimm-home");
    REQUIRE(findings.size() == 1);
    const json& f = findings[0];
    CHECK(f["domain"]["name"] == "jiyin-centos-9-stream_aarch64");
    CHECK(f["domain"]["uuid"] == "6f0c2a4e-8d1b-4b7e-9a53-2c41d7e8b905");
    CHECK(f["domain"]["via"] == "vm-ctx");
    CHECK(f["device"] == "nvdimm");
    CHECK(f["permissions"] == json::array({"map"}));
    CHECK(f["class"] == "file");
    REQUIRE(!f["fixes"].empty());
    // the host-wide boolean comes last, never first
    CHECK(f["fixes"][0]["kind"] != "selinux-boolean");
}

TEST_CASE("seed 001: QEMU memfd fallback in /tmp under AppArmor", "[golden][seed]")
{
    const auto findings = explain_fixture("seed-001-memfd-tmp");
    REQUIRE(findings.size() >= 2);
    int memfd = 0;
    for (const auto& f : findings) {
        CHECK(f["domain"]["uuid"] == "2afa1131-bc8c-43d2-9c4a-962c1bf7723e");
        CHECK(f["domain"]["via"] == "apparmor-profile");
        CHECK(f["mac"] == "apparmor");
        // never /tmp/** or a bare /tmp/* for every file
        CHECK_FALSE(any_fix_text_contains(f, "/tmp/**"));
        CHECK_FALSE(any_fix_text_contains(f, "\"/tmp/*\""));
        if (f["device"] == "memfd") {
            ++memfd;
        }
    }
    CHECK(memfd >= 2);
}

TEST_CASE("seed 002 and 004: 9p shares virt-aa-helper does not know", "[golden][seed]")
{
    for (const char* name : {"seed-002-9p-share", "seed-004-9p-fmode-dmode"}) {
        INFO(name);
        const auto findings = explain_fixture(name);
        REQUIRE(!findings.empty());
        for (const auto& f : findings) {
            CHECK(f["device"] == "share-9p");
            CHECK(f["domain"].is_object());
            CHECK(f["domain"]["name"].is_string());
            CHECK_FALSE(any_fix_text_contains(f, "/**\""));
        }
    }
    const auto seed4 = explain_fixture("seed-004-9p-fmode-dmode");
    bool decoded = false;
    for (const auto& f : seed4) {
        // hex-encoded name with a space and non-ASCII bytes, decoded
        decoded = decoded || f["object"]["path"].get<std::string>().find("/srv/VM Shares/\xC3\x84rzte") == 0;
    }
    CHECK(decoded);
}

TEST_CASE("seed 003: libvirtd's own profile needs are host-level", "[golden][seed]")
{
    const auto findings = explain_fixture("seed-003-libvirtd-profile");
    REQUIRE(findings.size() >= 5);
    bool packet = false;
    bool ipc_lock = false;
    bool sys_pacct = false;
    bool vfio = false;
    for (const auto& f : findings) {
        CHECK(f["domain"].is_null());
        for (const auto& fix : f["fixes"]) {
            CHECK(fix["scope"] == "daemon");
        }
        packet = packet || any_fix_text_contains(f, "network packet raw,");
        ipc_lock = ipc_lock || any_fix_text_contains(f, "capability ipc_lock,");
        sys_pacct = sys_pacct || any_fix_text_contains(f, "capability sys_pacct,");
        vfio = vfio || f["device"] == "vfio";
    }
    CHECK(packet);
    CHECK(ipc_lock);
    CHECK(sys_pacct);
    CHECK(vfio);
}
