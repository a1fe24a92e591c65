// Issue 8, fleet use: the audit.log of an auditd collector that received three hypervisors'
// records from audisp-remote (fixtures/fleet-audisp-remote, recorded by its record.sh), read
// by one `virtdeny follow` (a file, a pipe, the collector's plugin stream) and by `explain`:
// findings per node, never mixed although the nodes share serials, pids and paths.
#include "../live/live_support.hpp"
#include "../json_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace virtdeny;
using nlohmann::json;

namespace {

std::string fleet_dir()
{
    return test::fixtures_dir() + "/fleet-audisp-remote";
}

std::vector<json> findings_of(const std::vector<json>& lines)
{
    std::vector<json> out;
    for (const auto& j : lines) {
        if (!j.contains("summary")) {
            out.push_back(j);
        }
    }
    return out;
}

// "node / vm / device / permissions / path": what an admin reads per node.
std::string key_of(const json& f)
{
    std::string perms;
    for (const auto& p : f["permissions"]) {
        perms += (perms.empty() ? "" : ",") + p.get<std::string>();
    }
    return f["node"].get<std::string>() + " / " + f["domain"]["name"].get<std::string>() + " / " +
           f["device"].get<std::string>() + " / " + perms + " / " + f["object"]["path"].get<std::string>();
}

const std::string k_base = "/var/lib/libvirt/images/shared/base/rhel9-base.qcow2";
const std::string k_data = "/var/lib/libvirt/images/shared/db02-data.qcow2";

// The five denial events in the order they reach the collector.
const std::vector<std::string> k_events = {
    "hv03.lab.example.net / ci-runner-7 / vfio / write,read / /dev/vfio/42",
    "hv01.lab.example.net / web01 / disk-image / read / " + k_base,
    "hv02.lab.example.net / web02 / disk-image / read / " + k_base,
    "hv02.lab.example.net / db02 / disk-image / read,write / " + k_data,
    "hv02.lab.example.net / db02 / disk-image / read,write / " + k_data,
};

void check_follow_events(const std::vector<json>& events)
{
    std::vector<std::string> keys;
    std::map<std::string, int> per_node;
    for (const auto& e : events) {
        REQUIRE(!e.contains("summary"));
        keys.push_back(key_of(e));
        ++per_node[e["node"].get<std::string>()];
        CHECK(e["enforced"] == true);
        CHECK(!e["fixes"].empty());
    }
    CHECK(keys == k_events);
    CHECK(per_node == std::map<std::string, int>{
                          {"hv01.lab.example.net", 1}, {"hv02.lab.example.net", 3}, {"hv03.lab.example.net", 1}});
    if (events.size() == k_events.size()) {
        CHECK(events[3]["count"] == 1);  // db02's hot-plug, twice: counted per node and VM
        CHECK(events[4]["count"] == 2);
        CHECK(events[1]["domain"]["uuid"] == "3f7c2b9e-5d14-4a8b-9e6f-1c2d3e4f5a61");
        CHECK(events[2]["domain"]["uuid"] == "8a1d4e6f-2b3c-4d5e-8f90-a1b2c3d4e5f6");
        CHECK(events[1]["subject"] == "system_u:system_r:svirt_t:s0:c101,c602");
        CHECK(events[2]["subject"] == "system_u:system_r:svirt_t:s0:c233,c911");
        CHECK(events[0]["mac"] == "apparmor");
        CHECK(events[0]["process"]["exe"] == "/usr/bin/qemu-system-x86_64");  // hv03's SYSCALL, not hv01's
        CHECK(events[1]["process"]["exe"] == "/usr/libexec/qemu-kvm");
    }
}

} // namespace

TEST_CASE("fleet: the recorded collector log holds every hypervisor record verbatim, interleaved", "[cli][fleet]")
{
    const std::string log = test::read_file(fleet_dir() + "/input.log");
    std::istringstream in(log);
    std::string line;
    std::set<std::string> collector_lines;
    std::vector<std::string> order;  // node of each forwarded line
    while (std::getline(in, line)) {
        collector_lines.insert(line);
        const auto sp = line.find(' ');
        REQUIRE(line.rfind("node=", 0) == 0);  // every line names its node, the collector's own too
        order.push_back(line.substr(5, sp - 5));
    }
    for (const char* hv : {"hv01", "hv02", "hv03"}) {
        INFO(hv);
        std::istringstream hin(test::read_file(fleet_dir() + "/hypervisors/" + hv + ".log"));
        int n = 0;
        while (std::getline(hin, line)) {
            CHECK(collector_lines.count(line) == 1);
            ++n;
        }
        CHECK(n > 5);
    }
    // interleaved: the node changes between two records of hv01's event 4107
    int switches = 0;
    for (std::size_t i = 1; i < order.size(); ++i) {
        switches += order[i] != order[i - 1] ? 1 : 0;
    }
    CHECK(switches >= 10);
    CHECK(log.find("node=collector01 type=DAEMON_ACCEPT") != std::string::npos);
    // the dispatcher stream of the collector (distribute_network = yes): the same lines
    CHECK(test::read_file(fleet_dir() + "/plugin-stream.log").size() == log.size());
}

TEST_CASE("fleet: explain on the collector's log gives findings per node", "[cli][fleet]")
{
    const auto r = test::virtdeny("explain --format json " + test::shell_quote(fleet_dir() + "/input.log"));
    REQUIRE(r.status == 0);
    CHECK(r.err.empty());
    const auto lines = test::json_lines(r.out);
    REQUIRE(!lines.empty());
    const auto& summary = lines.back()["summary"];
    CHECK(summary["findings"] == 4);
    CHECK(summary["denials"] == 5);
    CHECK(summary["domains"] == 4);
    CHECK(summary["malformed_lines"] == 0);
    std::vector<std::string> keys;
    for (const auto& f : findings_of(lines)) {
        keys.push_back(key_of(f));
        CHECK(f["node"] != "collector01");
    }
    CHECK(keys == std::vector<std::string>{k_events[0], k_events[1], k_events[2], k_events[3]});
    const auto findings = findings_of(lines);
    REQUIRE(findings.size() == 4);
    CHECK(findings[3]["count"] == 2);
    CHECK(findings[1]["domain"]["via"] == "vm-ctx");
    CHECK(findings[3]["domain"]["via"] == "virt-pid");
    CHECK(findings[0]["domain"]["via"] == "apparmor-profile");

    // text: one block per node and VM
    const auto text = test::virtdeny("explain " + test::shell_quote(fleet_dir() + "/input.log"));
    for (const char* head : {"node hv01.lab.example.net: VM web01 ", "node hv02.lab.example.net: VM web02 ",
                             "node hv02.lab.example.net: VM db02 ", "node hv03.lab.example.net: VM ci-runner-7 "}) {
        CHECK(text.out.find(head) != std::string::npos);
    }

    // one VM of the fleet
    const auto one = test::virtdeny("explain --format json --domain web02 " + test::shell_quote(fleet_dir() + "/input.log"));
    const auto only = findings_of(test::json_lines(one.out));
    REQUIRE(only.size() == 1);
    CHECK(key_of(only[0]) == k_events[2]);
}

TEST_CASE("fleet: a node's findings on the collector equal those of its own log", "[cli][fleet]")
{
    const auto all = findings_of(test::json_lines(
        test::virtdeny("explain --format json " + test::shell_quote(fleet_dir() + "/input.log")).out));
    for (const char* hv : {"hv01", "hv02", "hv03"}) {
        INFO(hv);
        const auto own = findings_of(test::json_lines(
            test::virtdeny("explain --format json " + test::shell_quote(fleet_dir() + "/hypervisors/" + hv + ".log")).out));
        std::vector<json> from_collector;
        for (const auto& f : all) {
            if (f["node"] == std::string(hv) + ".lab.example.net") {
                from_collector.push_back(f);
            }
        }
        CHECK(!own.empty());
        CHECK(own == from_collector);
    }
}

TEST_CASE("fleet: one follow on the collector, from a pipe, the audisp stream and the followed file", "[cli][fleet][live]")
{
    const std::string input = test::read_file(fleet_dir() + "/input.log");

    // a pipe to its end
    const auto piped = test::virtdeny("follow --format json -", input);
    CHECK(piped.status == 0);
    check_follow_events(test::json_lines(piped.out));

    // in text, each new finding says which hypervisor it came from
    const auto text = test::virtdeny("follow -", input);
    CHECK(text.status == 0);
    for (const char* who : {"node hv01.lab.example.net VM web01", "node hv02.lab.example.net VM web02",
                            "node hv02.lab.example.net VM db02", "node hv03.lab.example.net VM ci-runner-7"}) {
        INFO(text.out);
        CHECK(text.out.find(who) != std::string::npos);
    }

    // the collector's dispatcher stream (auditd distribute_network = yes, plugin virtdeny)
    const auto audisp = test::virtdeny("follow --audisp --format json", test::read_file(fleet_dir() + "/plugin-stream.log"));
    CHECK(audisp.status == 0);
    check_follow_events(test::json_lines(audisp.out));

    // the collector's audit.log, followed as the systemd unit does, read from its start
    const std::string dir = test::temp_dir();
    const std::string log = dir + "/audit.log";
    test::write_file(log, input);
    test::FollowProcess follow({"follow", "--file", log, "--from-start", "--format", "json"});
    follow.wait_lines(k_events.size(), 10000);
    follow.signal(SIGTERM);
    CHECK(follow.wait(5000) == 0);
    std::string out;
    for (const auto& l : follow.lines()) {
        out += l.text + "\n";
    }
    INFO(follow.err());
    check_follow_events(test::json_lines(out));
    std::filesystem::remove_all(dir);
}
