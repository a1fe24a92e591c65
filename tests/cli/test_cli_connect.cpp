// Issue 16, --connect: the VMs libvirt knows, over the libvirt C API (read-only), with libvirt's
// own test driver (test:///ABS/node.xml, no daemon) standing for the host's libvirt. A refused,
// missing or silent libvirt costs one stderr line, never the analysis, never a hang.
#include "../json_support.hpp"
#include "../silent_socket.hpp"
#include "../support.hpp"

#include <analyzer/correlate/domain_xml.hpp>
#include <analyzer/correlate/libvirt_source.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace virtdeny;
using nlohmann::json;

namespace {

std::string node_dir()
{
    return test::fixtures_dir() + "/libvirt-test-node";
}

std::string node_uri()
{
    return "test://" + node_dir() + "/node.xml";
}

std::vector<json> findings_of(const std::string& out)
{
    std::vector<json> findings;
    for (auto& j : test::json_lines(out)) {
        if (!j.contains("summary")) {
            findings.push_back(j);
        }
    }
    return findings;
}

std::string vm_of(const json& f)
{
    return f["domain"].is_null() ? std::string("-")
                                 : f["domain"]["name"].get<std::string>() + " via " + f["domain"]["via"].get<std::string>();
}

std::size_t count_lines(const std::string& s)
{
    std::size_t n = 0;
    for (char c : s) {
        n += c == '\n';
    }
    return n;
}

} // namespace

TEST_CASE("connect: explain names VMs from libvirt's domain list, running and never started", "[cli][connect]")
{
    const std::string log = test::shell_quote(node_dir() + "/input.log");
    const auto r = test::virtdeny("explain --format json --connect " + test::shell_quote(node_uri()) + " " + log);
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.empty());
    const auto findings = findings_of(r.out);
    REQUIRE(findings.size() == 3);
    // win-gold is shut off: only the <seclabel> of its persistent definition has c33,c500
    CHECK(vm_of(findings[0]) == "win-gold via libvirt-api");
    CHECK(findings[0]["domain"]["uuid"] == "0f4e8a21-93b7-4d6c-8e15-a2c7b9d04e38");
    // c17,c990 is no domain libvirt lists: no VM, rather than a wrong one
    CHECK(vm_of(findings[1]) == "-");
    CHECK(vm_of(findings[2]) == "build-07 via libvirt-api");
    CHECK(findings[2]["device"] == "disk-image");

    // the same log without libvirt (the tests' default is VIRTDENY_CONNECT=none) names nobody
    const auto off = test::virtdeny("explain --format json " + log);
    for (const auto& f : findings_of(off.out)) {
        CHECK(f["domain"].is_null());
    }
    const auto none = test::virtdeny("explain --format json --connect none " + log);
    CHECK(none.out == off.out);
    CHECK(none.err.empty());
}

TEST_CASE("connect: text output says the VM and via libvirt-api", "[cli][connect]")
{
    const auto r = test::virtdeny("explain --connect " + test::shell_quote(node_uri()) + " " +
                                  test::shell_quote(node_dir() + "/input.log"));
    REQUIRE(r.status == 0);
    CHECK(r.out.find("VM win-gold 0f4e8a21-93b7-4d6c-8e15-a2c7b9d04e38 [via libvirt-api]") != std::string::npos);
    CHECK(r.out.find("VM build-07 6c1d2f8e-4b3a-4e57-9a0c-7d9e2b1f4a63 [via libvirt-api]") != std::string::npos);
    // the README shows this run
    CHECK(test::read_file(test::source_dir() + "/README.md")
              .find("\nVM win-gold 0f4e8a21-93b7-4d6c-8e15-a2c7b9d04e38 [via libvirt-api]  (1 denials)\n") !=
          std::string::npos);
}

TEST_CASE("connect: a refused or missing libvirt is one stderr line and the analysis goes on", "[cli][connect]")
{
    const std::string dir = test::temp_dir();
    const std::string log = test::shell_quote(node_dir() + "/input.log");
    const auto reference = test::virtdeny("explain --format json --connect none " + log);
    for (const std::string& uri : std::vector<std::string>{"qemu+unix:///system?socket=" + dir + "/no-such-sock",  // nothing there
                                  std::string("nosuchdriver:///system")}) {                // no such driver
        INFO(uri);
        const auto r = test::virtdeny("explain --format json --connect " + test::shell_quote(uri) + " " + log);
        CHECK(r.status == 0);
        CHECK(count_lines(r.err) == 1);
        CHECK(r.err.rfind("virtdeny: connect " + uri + ": cannot connect", 0) == 0);
        CHECK(r.err.find("going on from the log alone") != std::string::npos);
        CHECK(r.out == reference.out);
    }
    ::rmdir(dir.c_str());
}

TEST_CASE("connect: a libvirt socket that accepts and never answers does not hang the analysis", "[cli][connect]")
{
    const test::SilentSocket silent;
    const std::string uri = "qemu+unix:///system?socket=" + silent.path;
    const std::string log = test::shell_quote(node_dir() + "/input.log");
    const auto reference = test::virtdeny("explain --format json --connect none " + log);
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = test::run("VIRTDENY_CONNECT_TIMEOUT_MS=1500 " + test::shell_quote(test::binary()) +
                             " explain --format json --connect " + test::shell_quote(uri) + " " + log);
    const auto took = std::chrono::steady_clock::now() - t0;
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(took >= std::chrono::milliseconds(1400));  // it did wait for an answer, then stopped
    CHECK(took < std::chrono::seconds(8));
    CHECK(count_lines(r.err) == 1);
    CHECK(r.err.find("no answer within 1500 ms") != std::string::npos);
    CHECK(r.out == reference.out);
}

TEST_CASE("connect: the default is off where no libvirt socket exists, none and a URI are taken as said",
          "[cli][connect]")
{
    const char* saved = std::getenv("VIRTDENY_CONNECT");
    const std::string keep = saved ? saved : "";
    ::unsetenv("VIRTDENY_CONNECT");
    struct stat st{};
    const bool libvirt_here = ::stat("/run/libvirt/virtqemud-sock-ro", &st) == 0
                              || ::stat("/run/libvirt/libvirt-sock-ro", &st) == 0;
    const auto dflt = correlate::resolve_connect("");
    CHECK(dflt.uri == (libvirt_here ? "qemu:///system" : ""));
    CHECK_FALSE(dflt.explicit_uri);
    CHECK(correlate::resolve_connect("none").uri.empty());
    const auto given = correlate::resolve_connect("qemu+ssh://root@hv02/system");
    CHECK(given.uri == "qemu+ssh://root@hv02/system");
    CHECK(given.explicit_uri);
    ::setenv("VIRTDENY_CONNECT", "none", 1);
    CHECK(correlate::resolve_connect("").uri.empty());
    CHECK(correlate::resolve_connect("test:///default").uri == "test:///default");  // the option wins
    if (saved) {
        ::setenv("VIRTDENY_CONNECT", keep.c_str(), 1);
    } else {
        ::unsetenv("VIRTDENY_CONNECT");
    }
}

TEST_CASE("connect: a domain both in --libvirt-xml and from libvirt is one domain, libvirt's", "[cli][connect]")
{
    const auto listing = correlate::list_libvirt_domains(node_uri(), std::chrono::seconds(10));
    INFO(listing.error);
    REQUIRE(listing.ok);
    REQUIRE(listing.domains.size() == 2);
    // the test driver starts build-07 (id 1) and keeps win-gold shut off (test:runstate 5)
    for (const auto& d : listing.domains) {
        CHECK(d.id == (d.name == "build-07" ? 1 : -1));
        CHECK(d.xml.find("<seclabel") != std::string::npos);
    }
    correlate::DomainXmlIndex xml;
    std::string error;
    // an exported copy of build-07's XML, as --libvirt-xml reads it first
    REQUIRE(xml.add_document("<domain><name>build-07</name><uuid>6c1d2f8e-4b3a-4e57-9a0c-7d9e2b1f4a63</uuid>"
                             "<devices><disk><source file='/srv/ci/images/build-07.qcow2'/></disk></devices></domain>",
                             "build-07.xml", error));
    std::vector<std::string> errors;
    CHECK(correlate::add_libvirt_domains(listing, node_uri(), xml, errors) == 2);
    CHECK(errors.empty());
    REQUIRE(xml.domains().size() == 2);
    const auto* dom = xml.by_path("/srv/ci/images/build-07.qcow2");
    REQUIRE(dom != nullptr);  // not "shared by two domains"
    CHECK(dom->via == "libvirt-api");
    CHECK(dom->id == 1);
    CHECK(xml.by_level("s0:c33,c500") == xml.by_name("win-gold"));
    // the virtiofs share and the nvram of the shut-off domain are devices of their domain
    const auto* share = correlate::DomainXmlIndex::device_at(*dom, "/srv/ci/cache/ccache/x.o");
    REQUIRE(share != nullptr);
    CHECK(share->kind == "virtiofs");
    const auto* gold = xml.by_name("win-gold");
    REQUIRE(gold != nullptr);
    const auto* nvram = correlate::DomainXmlIndex::device_at(*gold, "/var/lib/libvirt/qemu/nvram/win-gold_VARS.fd");
    REQUIRE(nvram != nullptr);
    CHECK(nvram->kind == "nvram");
}
