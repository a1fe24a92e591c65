// follow --file: tail -F semantics under load (rename rotation, copytruncate, half-written
// lines), every event exactly once and within a second; start at the end; a missing file.
#include "live_support.hpp"

#include <analyzer/live/file_follower.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <unordered_map>

using namespace virtdeny;
using test::Clock;

namespace {

// One SELinux denial event as auditd writes it: AVC, SYSCALL, EOE. Four findings in turn.
std::string event_text(std::uint64_t serial)
{
    const std::string stamp = "audit(1710382510." + std::to_string(100 + serial % 900) + ":" + std::to_string(serial) + ")";
    const std::string pid = std::to_string(40000 + serial % 7);
    return "type=AVC msg=" + stamp + ": avc:  denied  { read } for  pid=" + pid +
           " comm=\"qemu-kvm\" path=\"/var/lib/libvirt/images/disk-" + std::to_string(serial % 4) +
           ".img\" dev=\"dm-0\" ino=42 scontext=system_u:system_r:svirt_t:s0:c1,c2 "
           "tcontext=system_u:object_r:default_t:s0 tclass=file permissive=0\n"
           "type=SYSCALL msg=" + stamp + ": arch=c000003e syscall=257 success=no exit=-13 a0=1 a1=2 a2=3 a3=4 "
           "items=1 ppid=1 pid=" + pid + " auid=4294967295 uid=107 gid=107 comm=\"qemu-kvm\" "
           "exe=\"/usr/libexec/qemu-kvm\" subj=system_u:system_r:svirt_t:s0:c1,c2 key=(null)\n"
           "type=EOE msg=" + stamp + ": \n";
}

std::string json_path(const std::string& line)
{
    const std::string needle = "\"path\":\"";
    const std::size_t at = line.find(needle);
    if (at == std::string::npos) {
        return {};
    }
    const std::size_t end = line.find('"', at + needle.size());
    return line.substr(at + needle.size(), end - at - needle.size());
}

// A record of one length whatever its number, its last eighty-odd bytes the same in each:
// after a truncation, or in an older rotated file, they stand at the same offsets.
std::string record(int n)
{
    char buf[128];
    std::snprintf(buf, sizeof buf, "n=%06d and then the same eighty-odd bytes at the end of every record, whatever its number\n", n);
    return std::string(buf);
}

// records first..last as the follower hands them on: without their newlines
std::vector<std::string> records_as_lines(int first, int last)
{
    std::vector<std::string> lines;
    for (int n = first; n <= last; ++n) {
        std::string r = record(n);
        r.pop_back();
        lines.push_back(r);
    }
    return lines;
}

} // namespace

TEST_CASE("follow --file: 100k events through 5 rotations and a copytruncate, each once, within 1 s",
          "[live][follow][stress]")
{
    namespace fs = std::filesystem;
    const std::string dir = test::temp_dir();
    const std::string log = dir + "/audit.log";
    constexpr std::uint64_t k_events = 100000;
    constexpr std::uint64_t k_bursts = 200;
    constexpr std::uint64_t k_per_burst = k_events / k_bursts;

    test::FollowProcess follow({"follow", "--file", log, "--from-start", "--format", "json"});
    std::unordered_map<std::uint64_t, Clock::time_point> written;
    written.reserve(k_events);
    std::uint64_t serial = 0;
    int rotations = 0;
    int truncations = 0;
    int half_lines = 0;
    const auto started = Clock::now();
    for (std::uint64_t burst = 0; burst < k_bursts; ++burst) {
        std::string data;
        std::vector<std::uint64_t> serials;
        for (std::uint64_t i = 0; i < k_per_burst; ++i) {
            ++serial;
            data += event_text(serial);
            serials.push_back(serial);
        }
        if (burst % 40 == 7) {
            // a half-written last line, completed a little later
            const std::size_t cut = data.size() - 40;
            test::append_file(log, data.substr(0, cut));
            std::this_thread::sleep_for(std::chrono::milliseconds(30));
            test::append_file(log, data.substr(cut));
            ++half_lines;
        } else {
            test::append_file(log, data);
        }
        const auto now = Clock::now();
        for (auto s : serials) {
            written[s] = now;
        }
        if (burst % 33 == 32 && rotations < 5) {
            // auditd: rename (shifting the old ones), then a new file
            for (int k = rotations; k >= 1; --k) {
                fs::rename(log + "." + std::to_string(k), log + "." + std::to_string(k + 1));
            }
            fs::rename(log, log + ".1");
            test::append_file(log, "");
            ++rotations;
        } else if (burst == 150) {
            // logrotate copytruncate
            fs::copy_file(log, log + ".copy", fs::copy_options::overwrite_existing);
            fs::resize_file(log, 0);
            ++truncations;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(15));  // bursts, ~30k events/s
    }
    const auto write_done = Clock::now();
    const std::size_t got = follow.wait_lines(k_events, 30000);
    const auto drained = Clock::now();
    follow.signal(SIGTERM);
    const int status = follow.wait(10000);
    INFO(follow.err());
    CHECK(status == 0);
    CHECK(rotations == 5);
    CHECK(truncations == 1);
    CHECK(half_lines == 5);

    const auto lines = follow.lines();
    CHECK(got == k_events);
    CHECK(lines.size() == k_events);
    std::map<std::uint64_t, int> seen;
    std::map<std::string, std::vector<std::uint64_t>> counts;
    double max_latency_ms = 0;
    std::uint64_t late = 0;
    // "within 1 s", times VIRTDENY_TEST_TIME_SCALE where the code runs slower on purpose
    // (scripts/test-sanitize sets 10: ASan + UBSan)
    const char* scale_env = std::getenv("VIRTDENY_TEST_TIME_SCALE");
    const double limit_ms = 1000.0 * std::max(1.0, scale_env ? std::atof(scale_env) : 1.0);
    for (const auto& l : lines) {
        const std::uint64_t s = test::json_number(l.text, "serial");
        ++seen[s];
        counts[json_path(l.text)].push_back(test::json_number(l.text, "count"));
        auto it = written.find(s);
        if (it != written.end()) {
            const double ms = std::chrono::duration<double, std::milli>(l.at - it->second).count();
            max_latency_ms = std::max(max_latency_ms, ms);
            if (ms > limit_ms) {
                ++late;
            }
        }
    }
    std::uint64_t missing = 0;
    std::uint64_t duplicated = 0;
    for (std::uint64_t s = 1; s <= k_events; ++s) {
        auto it = seen.find(s);
        if (it == seen.end()) {
            ++missing;
        } else if (it->second > 1) {
            ++duplicated;
        }
    }
    {
        // where (which serials) something went wrong, as ranges
        std::string ranges;
        std::uint64_t start = 0;
        int state = 0;
        for (std::uint64_t s = 1; s <= k_events + 1; ++s) {
            auto it = seen.find(s);
            const int now = s > k_events ? 0 : (it == seen.end() ? 1 : (it->second > 1 ? 2 : 0));
            if (now != state) {
                if (state != 0) {
                    ranges += (state == 1 ? " missing " : " dup ") + std::to_string(start) + "-" + std::to_string(s - 1);
                }
                start = s;
                state = now;
            }
        }
        if (!ranges.empty()) {
            WARN("follow stress: serial ranges:" << ranges);
        }
    }
    CHECK(seen.size() == k_events);
    CHECK(missing == 0);
    CHECK(duplicated == 0);
    // count = occurrences so far: 1..N for each of the four findings
    REQUIRE(counts.size() == 4);
    for (auto& [path, c] : counts) {
        INFO(path);
        CHECK(c.size() == k_events / 4);
        std::vector<std::uint64_t> expected(c.size());
        for (std::size_t i = 0; i < expected.size(); ++i) {
            expected[i] = i + 1;
        }
        CHECK(c == expected);
    }
    CHECK(late == 0);
    CHECK(max_latency_ms < limit_ms);
    const double write_s = std::chrono::duration<double>(write_done - started).count();
    const double drain_ms = std::chrono::duration<double, std::milli>(drained - write_done).count();
    WARN("follow stress: " << lines.size() << " events, " << rotations << " rotations, " << truncations
                           << " copytruncate; written in " << write_s << " s, drained " << drain_ms
                           << " ms after; max latency " << max_latency_ms << " ms");
    std::error_code ec;
    fs::remove_all(dir, ec);
}

TEST_CASE("follow --file starts at the end by default and waits for a missing file", "[live][follow]")
{
    const std::string dir = test::temp_dir();
    const std::string log = dir + "/audit.log";
    test::append_file(log, event_text(1) + event_text(2));
    {
        test::FollowProcess follow({"follow", "--file", log, "--format", "json"});
        std::this_thread::sleep_for(test::scaled_ms(300));
        test::append_file(log, event_text(3));
        CHECK(follow.wait_lines(1, 3000) == 1);
        std::this_thread::sleep_for(test::scaled_ms(300));
        follow.signal(SIGTERM);
        CHECK(follow.wait(5000) == 0);
        const auto lines = follow.lines();
        REQUIRE(lines.size() == 1);
        CHECK(test::json_number(lines[0].text, "serial") == 3);
    }
    {
        const std::string later = dir + "/later/audit.log";
        test::FollowProcess follow({"follow", "--file", later, "--format", "json"});
        std::this_thread::sleep_for(test::scaled_ms(300));
        std::filesystem::create_directories(dir + "/later");
        test::append_file(later, event_text(10) + event_text(11));
        CHECK(follow.wait_lines(2, 3000) == 2);
        follow.signal(SIGTERM);
        CHECK(follow.wait(5000) == 0);
        CHECK(follow.err().find("does not exist yet") != std::string::npos);
    }
}

namespace {

// how many inotify instances the process holds (its fds that are anon_inode:inotify)
int inotify_fds(int pid)
{
    int n = 0;
    const std::string fds = "/proc/" + std::to_string(pid) + "/fd";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(fds, ec)) {
        std::error_code link_ec;
        if (std::filesystem::read_symlink(e.path(), link_ec).string() == "anon_inode:inotify") {
            ++n;
        }
    }
    return n;
}

} // namespace

TEST_CASE("follow --poll: no inotify, and writes and a rotation are still seen within a second", "[live][follow]")
{
    namespace fs = std::filesystem;
    const std::string dir = test::temp_dir();
    const std::string log = dir + "/audit.log";
    test::append_file(log, "");
    for (const bool poll : {false, true}) {
        std::vector<std::string> args{"follow", "--file", log, "--format", "json"};
        if (poll) {
            args.push_back("--poll");
        }
        test::FollowProcess follow(args);
        std::this_thread::sleep_for(test::scaled_ms(300));
        INFO((poll ? "--poll" : "inotify"));
        CHECK(inotify_fds(follow.pid()) == (poll ? 0 : 1));
        if (!poll) {
            follow.signal(SIGTERM);
            CHECK(follow.wait(5000) == 0);
            continue;
        }
        std::vector<Clock::time_point> written;
        for (std::uint64_t s = 1; s <= 6; ++s) {
            if (s == 4) {
                fs::rename(log, log + ".1");
                test::append_file(log, "");
            }
            test::append_file(log, event_text(s));
            written.push_back(Clock::now());
            std::this_thread::sleep_for(std::chrono::milliseconds(120));
        }
        CHECK(follow.wait_lines(6, 5000) == 6);
        follow.signal(SIGTERM);
        CHECK(follow.wait(5000) == 0);
        const auto lines = follow.lines();
        REQUIRE(lines.size() == 6);
        for (std::size_t i = 0; i < lines.size(); ++i) {
            const std::uint64_t serial = test::json_number(lines[i].text, "serial");
            REQUIRE(serial >= 1);
            REQUIRE(serial <= 6);
            const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(lines[i].at - written[serial - 1]);
            CHECK(waited < test::scaled_ms(1000));
            CHECK(serial == i + 1);
        }
    }
    fs::remove_all(dir);
}

TEST_CASE("follow text: a new finding in full once, repeats summarised", "[live][follow]")
{
    const std::string dir = test::temp_dir();
    const std::string log = dir + "/audit.log";
    std::string data;
    for (std::uint64_t s = 1; s <= 8; ++s) {
        data += event_text(s);
    }
    test::write_file(log, data);
    test::FollowProcess follow({"follow", log, "--from-start"});
    follow.wait_lines(4 * 4, 3000);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    follow.signal(SIGTERM);
    CHECK(follow.wait(5000) == 0);
    std::string out;
    for (const auto& l : follow.lines()) {
        out += l.text + "\n";
    }
    INFO(out);
    std::size_t denied = 0;
    for (std::size_t at = out.find("DENIED"); at != std::string::npos; at = out.find("DENIED", at + 1)) {
        ++denied;
    }
    CHECK(denied == 4);
    CHECK(out.find("why:") != std::string::npos);
    CHECK(out.find("+1 (2 in all)") != std::string::npos);
    CHECK(out.find("8 denials in 8 events, 4 findings") != std::string::npos);
}

TEST_CASE("copytruncate: what we had not read comes from the copy, not from an older rotated file", "[live][follow]")
{
    // Records of one layout end with the same bytes at the same offsets, so an older rotated
    // file can look like the copy at our offset; the copy is the one that starts as our file.
    namespace fs = std::filesystem;
    const std::string dir = test::temp_dir();
    const std::string log = dir + "/audit.log";
    std::string first;
    for (int n = 1; n <= 20; ++n) {
        first += record(n);
    }
    test::append_file(log, first);
    // earlier rotations, there before the follower and longer than what it will have read
    // (six of them, so that a directory listed in hash order shows one before the copy)
    for (int k = 1; k <= 6; ++k) {
        std::string older;
        for (int n = 100000 * k; n < 100000 * k + 100; ++n) {
            older += record(n);
        }
        test::append_file(dir + "/audit.log." + std::to_string(k), older);
    }

    live::FileFollower follower(log, true, false);
    std::vector<std::string> got;
    const live::LineHandler handler = [&](std::string_view line) { got.emplace_back(line); };
    follower.read_available(handler);
    REQUIRE(got.size() == 20);

    // written, then copied and truncated before we looked again (logrotate copytruncate)
    std::string unread;
    for (int n = 21; n <= 25; ++n) {
        unread += record(n);
    }
    test::append_file(log, unread);
    fs::copy_file(log, dir + "/audit.log.copy");
    fs::resize_file(log, 0);
    test::append_file(log, record(26));
    follower.read_available(handler);

    CHECK(got == records_as_lines(1, 26));
    CHECK(follower.truncations() == 1);
    fs::remove_all(dir);
}

TEST_CASE("copytruncate: noticed when the new writes reach past our offset with the same bytes there", "[live][follow]")
{
    // Records of one length: after a truncation, the new ones put the same bytes before our
    // offset as the old ones did (the last bytes we read hold no serial). The first bytes of
    // the file tell: they hold the first record's serial.
    namespace fs = std::filesystem;
    const std::string dir = test::temp_dir();
    const std::string log = dir + "/audit.log";
    std::string text;
    for (int n = 1; n <= 25; ++n) {
        text += record(n);
    }
    const std::size_t cut = 20 * record(1).size() + record(1).size() - 1;  // all of 21 but its newline
    test::append_file(log, text.substr(0, cut));

    live::FileFollower follower(log, true, false);
    std::vector<std::string> got;
    const live::LineHandler handler = [&](std::string_view line) { got.emplace_back(line); };
    follower.read_available(handler);
    REQUIRE(got.size() == 20);

    test::append_file(log, text.substr(cut));
    fs::copy_file(log, dir + "/audit.log.1");
    fs::resize_file(log, 0);
    std::string later;
    for (int n = 26; n <= 60; ++n) {
        later += record(n);
    }
    test::append_file(log, later);
    follower.read_available(handler);

    CHECK(got == records_as_lines(1, 60));
    CHECK(follower.truncations() == 1);
    fs::remove_all(dir);
}

TEST_CASE("copytruncate after starting at the end: what we had not read comes from the copy", "[live][follow]")
{
    namespace fs = std::filesystem;
    const std::string dir = test::temp_dir();
    const std::string log = dir + "/audit.log";
    std::string history;
    for (std::uint64_t s = 1; s <= 20; ++s) {
        history += event_text(s);
    }
    test::append_file(log, history);
    live::FileFollower follower(log, false, false);  // the default: history is not news
    std::vector<std::string> got;
    const live::LineHandler handler = [&](std::string_view line) { got.emplace_back(line); };
    follower.read_available(handler);
    REQUIRE(got.empty());

    std::string unread;
    for (std::uint64_t s = 21; s <= 25; ++s) {
        unread += event_text(s);
    }
    test::append_file(log, unread);
    fs::copy_file(log, log + "-20261201");
    fs::resize_file(log, 0);
    test::append_file(log, event_text(26));
    follower.read_available(handler);

    std::string expected_text = unread + event_text(26);
    std::vector<std::string> expected;
    for (std::size_t at = 0; at < expected_text.size();) {
        const std::size_t nl = expected_text.find('\n', at);
        expected.push_back(expected_text.substr(at, nl - at));
        at = nl + 1;
    }
    CHECK(got == expected);
    CHECK(follower.truncations() == 1);
    fs::remove_all(dir);
}
