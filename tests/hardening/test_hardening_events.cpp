// Events and findings under hostile or broken input: a serial reused after an auditd
// restart, timestamps that go backwards, events that never see their EOE (completed by
// age, count, size and length, nothing lost), and the findings limits (overflow counted).
#include <analyzer/aggregate/aggregator.hpp>
#include <analyzer/correlate/correlator.hpp>
#include <analyzer/ingest/event_assembler.hpp>
#include <analyzer/ingest/scanner.hpp>

#include "hardening_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

using namespace virtdeny;

namespace {

struct Assembled
{
    std::vector<model::Event> events;
    ingest::EventAssembler::Stats stats;
};

// Scans text line by line, showing the assembler to after_line after each; the completed
// events and the assembler's counts.
Assembled assemble_watched(const std::string& text, ingest::EventAssembler::Limits limits,
                           const std::function<void(const ingest::EventAssembler&)>& after_line)
{
    Assembled out;
    correlate::VmRegistry registry;
    ingest::EventAssembler assembler([&](model::Event& e) { out.events.push_back(e); }, limits);
    util::Diagnostics diagnostics(nullptr);
    ingest::Scanner scanner(assembler, diagnostics);
    scanner.on_virt([&](const ingest::Record& r) { registry.add(r); });
    std::uint64_t n = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) {
            nl = text.size();
        }
        scanner.scan_line(std::string_view(text).substr(pos, nl - pos), "test", ++n, 0);
        pos = nl + 1;
        if (after_line) {
            after_line(assembler);
        }
    }
    assembler.flush_all();
    out.stats = assembler.stats();
    return out;
}

// Scans text line by line; returns the completed events.
std::vector<model::Event> assemble(const std::string& text, ingest::EventAssembler::Limits limits = {})
{
    return assemble_watched(text, limits, {}).events;
}

const model::Finding* by_path(const std::vector<model::Finding>& findings, const std::string& path)
{
    for (const auto& f : findings) {
        if (f.path == path) {
            return &f;
        }
    }
    return nullptr;
}

std::string avc(const std::string& stamp, const std::string& name, const std::string& perm = "read", int pid = 4242)
{
    return "type=AVC msg=audit(" + stamp + "): avc:  denied  { " + perm + " } for  pid=" + std::to_string(pid)
        + " comm=\"qemu-kvm\" name=\""
        + name + "\" dev=\"dm-0\" ino=12 scontext=system_u:system_r:svirt_t:s0:c1,c2 "
        "tcontext=system_u:object_r:default_t:s0 tclass=file permissive=0\n";
}

std::string syscall(const std::string& stamp, int pid, const std::string& comm)
{
    return "type=SYSCALL msg=audit(" + stamp + "): arch=c000003e syscall=257 success=no exit=-13 items=1 ppid=1 pid="
        + std::to_string(pid) + " auid=4294967295 uid=107 gid=107 comm=\"" + comm
        + "\" exe=\"/usr/bin/qemu-system-x86_64\" subj=system_u:system_r:svirt_t:s0:c1,c2 key=(null)\n";
}

std::string path_rec(const std::string& stamp, const std::string& name)
{
    return "type=PATH msg=audit(" + stamp + "): item=0 name=\"" + name + "\" inode=12 dev=fd:00 mode=0100644 ouid=0 "
        "ogid=0 rdev=00:00 obj=system_u:object_r:default_t:s0 nametype=NORMAL\n";
}

std::string cwd(const std::string& stamp, const std::string& dir)
{
    return "type=CWD msg=audit(" + stamp + "): cwd=\"" + dir + "\"\n";
}

std::string eoe(const std::string& stamp)
{
    return "type=EOE msg=audit(" + stamp + "): \n";
}

} // namespace

TEST_CASE("a serial reused after an auditd restart is another event", "[hardening][events]")
{
    // Before the restart: serial 812 denies read on disk.img (pid 3100); its EOE never came
    // (auditd was stopped). After the restart the kernel's serial counter is back to low
    // numbers and reaches 812 again, at another time: a write on nvram.fd by pid 3377, whose
    // SYSCALL and CWD/PATH come first (older kernels) and an EOE at the end.
    const std::string before = "1720000000.100:812";
    const std::string after = "1720003600.250:812";
    std::string log;
    log += avc(before, "disk.img", "read", 3100);
    log += syscall(before, 3100, "qemu-kvm");
    log += cwd(before, "/var/lib/libvirt/images");
    log += path_rec(before, "disk.img");
    log += "type=DAEMON_END msg=audit(1720000001.000:813): op=terminate auid=0 pid=1 subj=system_u:system_r:init_t:s0 res=success\n";
    log += "type=DAEMON_START msg=audit(1720003590.000:5214): op=start ver=3.1.2 format=enriched kernel=6.8.0 auid=4294967295 pid=880 res=success\n";
    log += syscall(after, 3377, "qemu-kvm-2");
    log += cwd(after, "/var/lib/libvirt/qemu/nvram");
    log += path_rec(after, "nvram.fd");
    log += avc(after, "nvram.fd", "write", 3377);
    log += eoe(after);

    SECTION("assembled: two events, each with its own records")
    {
        const auto events = assemble(log);
        REQUIRE(events.size() == 2);
        std::map<std::string, const model::Event*> by_name;
        for (const auto& e : events) {
            REQUIRE(e.denials.size() == 1);
            by_name[e.denials.front().name] = &e;
        }
        REQUIRE(by_name.count("disk.img") == 1);
        REQUIRE(by_name.count("nvram.fd") == 1);
        const model::Event& a = *by_name["disk.img"];
        const model::Event& b = *by_name["nvram.fd"];
        CHECK(a.time_ms == 1720000000100);
        CHECK(a.pid == 3100);
        CHECK(a.comm == "qemu-kvm");
        CHECK(a.cwd == "/var/lib/libvirt/images");
        REQUIRE(a.paths.size() == 1);
        CHECK(a.paths.front().name == "disk.img");
        CHECK(b.time_ms == 1720003600250);
        CHECK(b.pid == 3377);
        CHECK(b.comm == "qemu-kvm-2");
        CHECK(b.cwd == "/var/lib/libvirt/qemu/nvram");
        REQUIRE(b.paths.size() == 1);
        CHECK(b.paths.front().name == "nvram.fd");
    }
    SECTION("explained: each denial has its own object path and process")
    {
        const auto findings = test::explain_text(log);
        REQUIRE(findings.size() == 2);
        const auto* a = by_path(findings, "/var/lib/libvirt/images/disk.img");
        const auto* b = by_path(findings, "/var/lib/libvirt/qemu/nvram/nvram.fd");
        REQUIRE(a != nullptr);
        REQUIRE(b != nullptr);
        CHECK(a->pids == std::vector<std::int64_t>{3100});
        CHECK(b->pids == std::vector<std::int64_t>{3377});
        CHECK(a->permissions == std::vector<std::string>{"read"});
        CHECK(b->permissions == std::vector<std::string>{"write"});
    }
    SECTION("an early sibling of the old event is not taken by the new one")
    {
        // the old event's SYSCALL is waiting in the ring (its AVC never came); the new
        // event with the same serial must not pick it up
        std::string l;
        l += syscall(before, 3100, "old-qemu");
        l += avc(after, "nvram.fd", "write");
        l += eoe(after);
        const auto events = assemble(l);
        REQUIRE(events.size() == 1);
        CHECK(events.front().pid == -1);
        CHECK(events.front().comm.empty());
    }
    SECTION("the same serial on two nodes stays two events")
    {
        std::string l = "node=hv01 " + avc(before, "a.img") + "node=hv02 " + avc(before, "b.img") + "node=hv02 "
            + syscall(before, 2, "q2") + "node=hv01 " + syscall(before, 1, "q1");
        const auto events = assemble(l);
        REQUIRE(events.size() == 2);
        for (const auto& e : events) {
            CHECK(e.pid == (e.node == "hv01" ? 1 : 2));
        }
    }
}

TEST_CASE("timestamps that go backwards", "[hardening][events]")
{
    // the clock stepped back by an hour (NTP, a VM host resumed) between the second and the
    // third denial of the same object; serials keep growing
    std::string log;
    log += avc("1720007200.000:100", "disk.img") + eoe("1720007200.000:100");
    log += avc("1720007260.500:101", "disk.img") + eoe("1720007260.500:101");
    log += avc("1720003600.250:102", "disk.img") + eoe("1720003600.250:102");
    log += avc("1720003700.000:103", "other.img") + eoe("1720003700.000:103");
    // a record of event 104 with an earlier time than its neighbours, records interleaved
    log += avc("1720000000.000:104", "third.img");
    log += avc("1720003800.000:105", "fourth.img");
    log += syscall("1720000000.000:104", 104, "qemu-104");
    log += syscall("1720003800.000:105", 105, "qemu-105");

    SECTION("assembled by stamp, whatever the order of times")
    {
        const auto events = assemble(log);
        REQUIRE(events.size() == 6);
        for (const auto& e : events) {
            if (e.serial == 104 || e.serial == 105) {
                CHECK(e.pid == static_cast<std::int64_t>(e.serial));
            }
        }
    }
    SECTION("first_seen and last_seen are the earliest and latest times, not the first and last lines")
    {
        const auto findings = test::explain_text(log);
        const auto* disk = by_path(findings, "disk.img");
        REQUIRE(disk != nullptr);
        CHECK(disk->count == 3);
        CHECK(disk->first_seen_ms == 1720003600250);
        CHECK(disk->last_seen_ms == 1720007260500);
        // first-seen order is input order, not time order
        REQUIRE(findings.size() == 4);
        CHECK(findings.front().path == "disk.img");
    }
    SECTION("--since / --until select by time, not by position")
    {
        const std::string dir = test::temp_dir();
        test::write_file(dir + "/back.log", log);
        // 1720003600 .. 1720003800: the third denial of disk.img, other.img and fourth.img
        const auto r = test::virtdeny("explain --format json --since 1720003600 --until 1720003800 "
                                      + test::shell_quote(dir + "/back.log"));
        REQUIRE(r.status == 0);
        CHECK(test::json_number(r.out, "denials") == 3);
        CHECK(r.out.find("\"first_seen\":\"2024-07-03T10:46:40.250Z\"") != std::string::npos);
        CHECK(r.out.find("third.img") == std::string::npos);
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
}

TEST_CASE("events that never see their EOE are completed by age, count, size and length, none lost",
          "[hardening][events]")
{
    auto stamp = [](int serial) { return "1720000000.000:" + std::to_string(serial); };
    SECTION("by age: a window of records")
    {
        ingest::EventAssembler::Limits limits;
        limits.window = 8;
        std::string log;
        for (int s = 1; s <= 20; ++s) {
            log += avc(stamp(s), "f" + std::to_string(s));
        }
        // SYSCALLs 20 records later: the events they belong to were completed by then
        for (int s = 1; s <= 20; ++s) {
            log += syscall(stamp(s), s, "late");
        }
        std::size_t max_open = 0;
        const auto got = assemble_watched(log, limits, [&](const ingest::EventAssembler& assembler) {
            max_open = std::max(max_open, assembler.open_count());
        });
        CHECK(max_open <= 9);
        CHECK(got.events.size() == 20);
        CHECK(got.stats.by_age >= 11);
    }
    SECTION("by count: open events at most")
    {
        ingest::EventAssembler::Limits limits;
        limits.max_open = 4;
        std::string log;
        for (int s = 1; s <= 50; ++s) {
            log += avc(stamp(s), "f");
        }
        const auto got = assemble_watched(log, limits, [&](const ingest::EventAssembler& assembler) {
            CHECK(assembler.open_count() <= 4);
        });
        CHECK(got.events.size() == 50);
        CHECK(got.stats.by_count == 46);
    }
    SECTION("by size: bytes held by open events")
    {
        ingest::EventAssembler::Limits limits;
        limits.max_open_bytes = 64 * 1024;
        std::string log;
        const std::string big(20000, 'x');
        for (int s = 1; s <= 30; ++s) {
            log += avc(stamp(s), big);
        }
        const auto got = assemble_watched(log, limits, [&](const ingest::EventAssembler& assembler) {
            CHECK(assembler.open_bytes() <= limits.max_open_bytes);
        });
        CHECK(got.events.size() == 30);
        CHECK(got.stats.by_size >= 25);
    }
    SECTION("by length: one stamp repeated without end")
    {
        std::string log;
        for (int i = 0; i < 1000; ++i) {
            log += avc(stamp(7), "f" + std::to_string(i % 3));
        }
        const auto events = assemble(log);
        std::size_t denials = 0;
        for (const auto& e : events) {
            CHECK(e.denials.size() <= ingest::EventAssembler::k_max_denials);
            denials += e.denials.size();
        }
        CHECK(denials == 1000);
        CHECK(events.size() == 4);  // 256 + 256 + 256 + 232
        const auto findings = test::explain_text(log);
        std::uint64_t counted = 0;
        for (const auto& f : findings) {
            counted += f.count;
        }
        CHECK(counted == 1000);
    }
}

TEST_CASE("the findings limits: overflow counted, never silently dropped", "[hardening][findings]")
{
    correlate::VmRegistry registry;
    auto event_for = [](const std::string& path, const std::string& perm, int serial) {
        model::Event e;
        e.serial = static_cast<std::uint64_t>(serial);
        model::Denial d;
        d.mac = model::Mac::selinux;
        d.scontext = "system_u:system_r:svirt_t:s0:c1,c2";
        d.tcontext = "system_u:object_r:default_t:s0";
        d.tclass = "file";
        d.path = path;
        d.permissions = {perm};
        d.seq = static_cast<std::uint64_t>(serial);
        d.time_ms = 1720000000000 + serial;
        e.denials.push_back(d);
        return e;
    };
    SECTION("by count")
    {
        aggregate::Aggregator aggregator(registry, 10);
        for (int i = 0; i < 100; ++i) {
            aggregator.add(event_for("/srv/" + std::to_string(i % 25), "read", i));
        }
        CHECK(aggregator.finding_count() == 10);
        CHECK(aggregator.denials() == 100);
        // the 10 kept objects got all their 4 denials each; the other 15 objects' 60 overflow
        CHECK(aggregator.overflow() == 60);
        correlate::Correlator correlator(registry, nullptr);
        const auto findings = aggregator.finish(correlator);
        REQUIRE(findings.size() == 10);
        std::uint64_t counted = 0;
        for (const auto& f : findings) {
            CHECK(f.count == 4);
            counted += f.count;
        }
        CHECK(counted + aggregator.overflow() == aggregator.denials());
    }
    SECTION("by bytes: long object paths")
    {
        aggregate::Aggregator aggregator(registry, 1000000, 1u << 20);
        const std::string long_name(100000, 'p');
        for (int i = 0; i < 100; ++i) {
            aggregator.add(event_for("/srv/" + std::to_string(i) + long_name, "read", i));
        }
        CHECK(aggregator.bytes() <= (1u << 20));
        CHECK(aggregator.finding_count() < 10);
        CHECK(aggregator.finding_count() > 0);
        CHECK(aggregator.finding_count() + aggregator.overflow() == 100);
    }
    SECTION("a finding's permissions are bounded")
    {
        aggregate::Aggregator aggregator(registry);
        for (int i = 0; i < 1000; ++i) {
            aggregator.add(event_for("/srv/one", "perm" + std::to_string(i), i));
        }
        correlate::Correlator correlator(registry, nullptr);
        const auto findings = aggregator.finish(correlator);
        REQUIRE(findings.size() == 1);
        CHECK(findings.front().count == 1000);
        CHECK(findings.front().permissions.size() == aggregate::Aggregator::k_max_permissions);
    }
}
