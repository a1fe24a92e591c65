// Bounded memory whatever the input, measured on the real binary fed through a pipe by a
// generator (nothing is written to disk): a 2 GiB stream of events that never see their
// EOE, a million distinct findings, a 5 MB line. Peak memory is the child's own VmHWM
// (/proc/PID/status, sampled while it runs), checked against wait4's ru_maxrss too.
//
// Sizes: 2 GiB in an optimized (Release) build; 256 MiB in a debug or sanitizer build, or
// VIRTDENY_HARDENING_STREAM_MB. Under sanitizers the memory bound is 1 GiB (ASan keeps
// 256 MB of freed memory in quarantine, pads every allocation and shadows all of it): still
// a check that nothing grows with the input; the Release run is the real measure.
#include "hardening_support.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

using namespace virtdeny;

namespace {

constexpr long k_limit_kb = 100 * 1024;

long limit_kb(long release_limit_kb)
{
    return test::sanitized_build() ? std::max<long>(release_limit_kb, 1024 * 1024) : release_limit_kb;
}

void report(const char* what, const test::StreamRun& r)
{
    WARN(what << ": " << (r.bytes_written >> 20) << " MiB in " << r.seconds << " s, peak RSS " << (r.vm_hwm_kb / 1024)
              << " MiB (VmHWM), ru_maxrss " << (r.ru_maxrss_kb / 1024) << " MiB (test process at fork "
              << (r.parent_rss_kb / 1024) << " MiB)");
}

void check_memory(const test::StreamRun& r, long release_limit_kb)
{
    const long limit = limit_kb(release_limit_kb);
    CHECK(r.vm_hwm_kb > 0);
    CHECK(r.vm_hwm_kb < limit);
    CHECK(r.ru_maxrss_kb < limit + r.parent_rss_kb);
}

// One SELinux event of a VM's QEMU: AVC, SYSCALL, CWD, PATH, PROCTITLE, no EOE.
void append_event(std::string& out, std::uint64_t serial, std::uint64_t secs, unsigned ms, unsigned object)
{
    char buf[2048];
    const int n = std::snprintf(
        buf, sizeof buf,
        "type=AVC msg=audit(%llu.%03u:%llu): avc:  denied  { read } for  pid=4242 comm=\"qemu-kvm\" "
        "name=\"disk-%u.img\" dev=\"dm-0\" ino=1%u scontext=system_u:system_r:svirt_t:s0:c1,c2 "
        "tcontext=system_u:object_r:default_t:s0 tclass=file permissive=0\n"
        "type=SYSCALL msg=audit(%llu.%03u:%llu): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c "
        "a1=55d0c8e0 a2=80002 a3=0 items=1 ppid=1 pid=4242 auid=4294967295 uid=107 gid=107 euid=107 suid=107 "
        "fsuid=107 egid=107 sgid=107 fsgid=107 tty=(none) ses=4294967295 comm=\"qemu-kvm\" "
        "exe=\"/usr/bin/qemu-system-x86_64\" subj=system_u:system_r:svirt_t:s0:c1,c2 key=(null)\n"
        "type=CWD msg=audit(%llu.%03u:%llu): cwd=\"/\"\n"
        "type=PATH msg=audit(%llu.%03u:%llu): item=0 name=\"/srv/images/disk-%u.img\" inode=1%u dev=fd:00 "
        "mode=0100644 ouid=0 ogid=0 rdev=00:00 obj=system_u:object_r:default_t:s0 nametype=NORMAL\n"
        "type=PROCTITLE msg=audit(%llu.%03u:%llu): proctitle=2F7573722F62696E2F71656D752D73797374656D2D7838365F3634"
        "002D6E616D650067756573743D7765623031\n",
        static_cast<unsigned long long>(secs), ms, static_cast<unsigned long long>(serial), object, object,
        static_cast<unsigned long long>(secs), ms, static_cast<unsigned long long>(serial),
        static_cast<unsigned long long>(secs), ms, static_cast<unsigned long long>(serial),
        static_cast<unsigned long long>(secs), ms, static_cast<unsigned long long>(serial), object, object,
        static_cast<unsigned long long>(secs), ms, static_cast<unsigned long long>(serial));
    out.append(buf, static_cast<std::size_t>(n));
}

void append_avc(std::string& out, std::uint64_t serial, std::uint64_t secs, unsigned ms, const std::string& path)
{
    char stamp[64];
    std::snprintf(stamp, sizeof stamp, "%llu.%03u:%llu", static_cast<unsigned long long>(secs), ms,
                  static_cast<unsigned long long>(serial));
    out += "type=AVC msg=audit(";
    out += stamp;
    out += "): avc:  denied  { read } for  pid=4242 comm=\"qemu-kvm\" path=\"";
    out += path;
    out += "\" dev=\"dm-0\" ino=77 scontext=system_u:system_r:svirt_t:s0:c1,c2 "
           "tcontext=system_u:object_r:default_t:s0 tclass=file permissive=0\n";
}

} // namespace

TEST_CASE("a 2 GiB stream of events that never get their EOE: memory stays under 100 MB", "[hardening][memory][slow]")
{
    const std::uint64_t target = test::stream_mb(2048, 256) << 20;
    std::uint64_t written = 0;
    std::uint64_t serial = 1;
    std::uint64_t denials = 0;
    std::uint64_t block_no = 0;
    constexpr std::uint64_t k_secs = 1720000000;
    const auto gen = [&](std::string& block) {
        if (written >= target) {
            return false;
        }
        block.reserve(1 << 20);
        const std::uint64_t secs = k_secs + block_no / 4;
        const unsigned ms = static_cast<unsigned>(block_no % 1000);
        switch (block_no++ % 8) {
        case 3: {
            // 400 events opened at once (their AVCs first, then all their SYSCALLs): more
            // open events than the window keeps, none ever completed by EOE
            const std::uint64_t first = serial;
            for (int i = 0; i < 400; ++i, ++denials) {
                append_avc(block, serial++, secs, ms, "/srv/images/disk-" + std::to_string(i % 8) + ".img");
            }
            for (std::uint64_t s = first; s < serial; ++s) {
                block += "type=SYSCALL msg=audit(" + std::to_string(secs) + "." + std::to_string(100 + ms % 900)
                    + ":" + std::to_string(s) + "): arch=c000003e syscall=257 success=no exit=-13 pid=4242 "
                    "comm=\"qemu-kvm\" exe=\"/usr/bin/qemu-system-x86_64\"\n";
            }
            break;
        }
        case 6:
            // one stamp repeated without end: 3000 denials of one event, never an EOE
            for (int i = 0; i < 3000; ++i, ++denials) {
                append_avc(block, serial, secs, ms, "/srv/images/disk-" + std::to_string(i % 8) + ".img");
            }
            ++serial;
            break;
        default:
            while (block.size() < (1u << 20) - 2048) {
                append_event(block, serial, secs, ms, static_cast<unsigned>(serial % 8));
                ++serial;
                ++denials;
            }
        }
        written += block.size();
        return true;
    };
    const auto r = test::run_streaming({"explain", "--format", "json", "-"}, gen);
    report("2 GiB without EOE", r);
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.bytes_written >= target);
    // nothing lost: every AVC counted, 8 objects -> 8 findings, no overflow
    CHECK(test::json_number(r.out, "denials") == static_cast<long long>(denials));
    CHECK(test::json_number(r.out, "findings") == 8);
    CHECK(test::json_number(r.out, "findings_overflow") == 0);
    CHECK(test::json_number(r.out, "malformed_lines") == 0);
    CHECK(test::json_number(r.out, "bytes") == static_cast<long long>(r.bytes_written));
    check_memory(r, k_limit_kb);
    if (test::optimized_build()) {
        CHECK(r.seconds < 120);  // the target is < 30 s; generous for a shared machine
    }
}

TEST_CASE("a million distinct findings: the overflow is counted in the summary, memory bounded",
          "[hardening][memory][slow]")
{
    const std::uint64_t total = test::optimized_build() ? 1000000 : 200000;
    std::uint64_t n = 0;
    const auto gen = [&](std::string& block) {
        if (n >= total) {
            return false;
        }
        while (n < total && block.size() < (1u << 20)) {
            append_avc(block, 1000 + n, 1720000000 + n / 1000, static_cast<unsigned>(n % 1000),
                       "/srv/images/vm-" + std::to_string(n) + "/disk.img");
            block += "type=EOE msg=audit(" + std::to_string(1720000000 + n / 1000) + "." + std::to_string(n % 1000)
                + ":" + std::to_string(1000 + n) + "): \n";
            ++n;
        }
        return true;
    };
    SECTION("json")
    {
        const auto r = test::run_streaming({"explain", "--format", "json", "-"}, gen);
        report("1M distinct findings, json", r);
        INFO(r.err);
        REQUIRE(r.status == 0);
        const long long kept = test::json_number(r.out, "findings");
        CHECK(kept == 20000);  // Aggregator::k_default_max_findings
        CHECK(test::json_number(r.out, "denials") == static_cast<long long>(total));
        CHECK(test::json_number(r.out, "findings_overflow") == static_cast<long long>(total) - kept);
        // one line per kept finding, then the summary
        CHECK(static_cast<long long>(std::count(r.out.begin(), r.out.end(), '\n')) == kept + 1);
        check_memory(r, 256 * 1024);
    }
    SECTION("text")
    {
        const auto r = test::run_streaming({"explain", "-"}, gen);
        report("1M distinct findings, text", r);
        REQUIRE(r.status == 0);
        const std::string overflow = std::to_string(total - 20000);
        CHECK(r.out.find("20000 findings from " + std::to_string(total) + " denials") != std::string::npos);
        CHECK(r.out.find("; " + overflow + " denials over the findings limit were counted but not grouped")
              != std::string::npos);
        check_memory(r, 256 * 1024);
    }
}

TEST_CASE("a 5 MB line is reported and skipped, the rest is analysed", "[hardening][memory]")
{
    std::string head;
    for (unsigned i = 0; i < 10; ++i) {
        append_avc(head, 500 + i, 1720000100, i, "/srv/images/ok-" + std::to_string(i) + ".img");
    }
    std::string huge;
    append_avc(huge, 600, 1720000200, 0, "/srv/images/" + std::string(5u << 20, 'a'));
    std::string tail;
    for (unsigned i = 0; i < 10; ++i) {
        append_avc(tail, 700 + i, 1720000300, i, "/srv/images/ok-" + std::to_string(10 + i) + ".img");
    }
    const std::string expected_message = "line 11: line longer than 1048576 bytes, skipped";

    SECTION("through a pipe (the streaming reader), written in small pieces")
    {
        int step = 0;
        std::size_t at = 0;
        const auto gen = [&](std::string& block) {
            if (step == 0) {
                block = head;
                ++step;
                return true;
            }
            if (step == 1) {
                block = huge.substr(at, 64 * 1024);
                at += block.size();
                if (at >= huge.size()) {
                    ++step;
                }
                return true;
            }
            if (step == 2) {
                block = tail;
                ++step;
                return true;
            }
            return false;
        };
        const auto r = test::run_streaming({"explain", "--format", "json", "-"}, gen);
        report("5 MB line, pipe", r);
        REQUIRE(r.status == 0);
        CHECK(r.err.find(expected_message) != std::string::npos);
        CHECK(test::json_number(r.out, "malformed_lines") == 1);
        CHECK(test::json_number(r.out, "denials") == 20);
        CHECK(test::json_number(r.out, "findings") == 20);
        CHECK(test::json_number(r.out, "lines") == 20);  // lines read; a skipped line is not one
        CHECK(r.out.find("aaaaaaaaaaaaaaaa") == std::string::npos);
        check_memory(r, 64 * 1024);
    }
    SECTION("from a file (the mapped and parallel scan)")
    {
        const std::string dir = test::temp_dir();
        test::write_file(dir + "/big.log", head + huge + tail);
        for (const char* threads : {"1", "2"}) {
            INFO("threads " << threads);
            const auto r = test::virtdeny(std::string("explain --format json --threads ") + threads + " "
                                          + test::shell_quote(dir + "/big.log"));
            REQUIRE(r.status == 0);
            CHECK(r.err.find(expected_message) != std::string::npos);
            CHECK(test::json_number(r.out, "malformed_lines") == 1);
            CHECK(test::json_number(r.out, "denials") == 20);
            CHECK(test::json_number(r.out, "lines") == 20);  // lines read; a skipped line is not one
        }
        // the over-long line last, without its newline
        test::write_file(dir + "/big.log", head + huge.substr(0, huge.size() - 1));
        const auto r = test::virtdeny("explain --format json " + test::shell_quote(dir + "/big.log"));
        REQUIRE(r.status == 0);
        CHECK(r.err.find(expected_message) != std::string::npos);
        CHECK(test::json_number(r.out, "malformed_lines") == 1);
        CHECK(test::json_number(r.out, "denials") == 10);
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
}

TEST_CASE("a stream of VIRT records for ever new VMs: the VM registry stops growing", "[hardening][memory][slow]")
{
    // libvirt's VIRT_MACHINE_ID for a new uuid in every record: the registry keeps at most
    // VmRegistry::k_max_instances runs (and their names); past that, more input costs nothing
    auto run = [](std::uint64_t total) {
        std::uint64_t n = 0;
        return test::run_streaming({"explain", "--format", "json", "-"}, [&](std::string& block) {
            if (n >= total) {
                return false;
            }
            char buf[512];
            while (n < total && block.size() < (1u << 20)) {
                const int len = std::snprintf(
                    buf, sizeof buf,
                    "type=VIRT_MACHINE_ID msg=audit(1720000000.%03u:%llu): pid=1 uid=0 auid=4294967295 "
                    "ses=4294967295 msg='virt=kvm vm=\"vm-%llu\" uuid=%08llx-0000-4000-8000-%012llx "
                    "vm-ctx=system_u:system_r:svirt_t:s0:c1,c2 img-ctx=system_u:object_r:svirt_image_t:s0:c1,c2 "
                    "model=selinux exe=\"/usr/sbin/libvirtd\" hostname=? addr=? terminal=? res=success'\n",
                    static_cast<unsigned>(n % 1000), static_cast<unsigned long long>(n),
                    static_cast<unsigned long long>(n), static_cast<unsigned long long>(n >> 16),
                    static_cast<unsigned long long>(n));
                block.append(buf, static_cast<std::size_t>(len));
                ++n;
            }
            return true;
        });
    };
    const std::uint64_t big = test::optimized_build() ? 1500000 : 500000;
    const auto small = run(400000);
    const auto large = run(big);
    report("400k new VMs", small);
    report("many new VMs", large);
    REQUIRE(small.status == 0);
    REQUIRE(large.status == 0);
    CHECK(test::json_number(large.out, "findings") == 0);
    // both are past the registry's limit: several times the input, (about) the same memory
    CHECK(large.vm_hwm_kb < small.vm_hwm_kb + small.vm_hwm_kb / 5 + 8 * 1024);
    check_memory(large, 192 * 1024);
}
