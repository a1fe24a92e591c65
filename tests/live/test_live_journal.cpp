// follow --journal over real journal files (written by systemd-journal-remote from the
// fixtures' lines, tests/journal_support.hpp): entries written while it runs, and --state,
// which resumes a restarted follow after the last entry it printed.
#include "../journal_support.hpp"
#include "live_support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

using namespace virtdeny;
namespace fs = std::filesystem;

namespace {

std::string fixture_log(const std::string& name)
{
    const std::string log = test::read_file(test::fixtures_dir() + "/" + name + "/input.log");
    REQUIRE(!log.empty());
    return log;
}

void write_journal(const std::string& log, const std::string& path)
{
    const auto w = test::write_journal(test::log_to_export(log), path);
    INFO(w.err);
    REQUIRE(w.status == 0);
}

std::uint64_t plain_denials(const std::string& log)
{
    const std::string dir = test::temp_dir();
    test::write_file(dir + "/in.log", log);
    const auto r = test::virtdeny("explain --format json --connect none " + test::shell_quote(dir + "/in.log"));
    const std::size_t at = r.out.find("\"denials\":");
    return at == std::string::npos ? 0 : std::stoull(r.out.substr(at + 10));
}

// The denial events printed (follow --format json): "first_seen serial" of each, with how often.
std::map<std::string, int> events(const std::vector<test::OutputLine>& lines)
{
    std::map<std::string, int> out;
    for (const auto& l : lines) {
        if (l.text.rfind("{\"node\"", 0) != 0) {
            continue;
        }
        const std::size_t at = l.text.find("\"first_seen\":\"");
        const std::string seen = at == std::string::npos ? "" : l.text.substr(at + 14, 24);
        ++out[seen + " " + std::to_string(test::json_number(l.text, "serial"))];
    }
    return out;
}

std::size_t objects(const std::vector<test::OutputLine>& lines)
{
    std::size_t n = 0;
    for (const auto& [key, count] : events(lines)) {
        n += static_cast<std::size_t>(count);
    }
    return n;
}

} // namespace

TEST_CASE("follow --journal --state: a restart resumes after the last entry printed, nothing lost or doubled",
          "[live][journal]")
{
    if (!test::require_journal_remote()) {
        return;
    }
    // in time order: seed 001 (2016, kernel transport), seed 002 (2021, audit), seed 000
    // (2024-03, audit), seed 004 (2024-06, kernel)
    const std::string first = fixture_log("seed-001-memfd-tmp") + fixture_log("seed-002-9p-share");
    const std::string live = fixture_log("seed-000-nvdimm-home");
    const std::string later = fixture_log("seed-004-9p-fmode-dmode");
    const std::uint64_t n_first = plain_denials(first);
    const std::uint64_t n_live = plain_denials(live);
    const std::uint64_t n_later = plain_denials(later);
    REQUIRE(n_first == 10);
    REQUIRE(n_live == 1);
    REQUIRE(n_later == 3);

    const std::string dir = test::temp_dir() + "/journal";
    fs::create_directories(dir);
    const std::string state = test::temp_dir() + "/follow.cursor";
    write_journal(first, dir + "/system.journal");
    const std::vector<std::string> args{"follow",  "--journal-dir", dir,          "--state",
                                        state,     "--from-start",  "--format",   "json",
                                        "--connect", "none"};
    std::map<std::string, int> seen;
    const int wait_ms = static_cast<int>(test::scaled_ms(5000).count());
    {
        test::FollowProcess follow(args);
        CHECK(follow.wait_lines(n_first, wait_ms) >= n_first);
        // written while it runs: appended to the file it reads
        write_journal(live, dir + "/system.journal");
        follow.wait_lines(n_first + n_live, wait_ms);
        follow.signal(SIGTERM);
        INFO(follow.err());
        CHECK(follow.wait(wait_ms) == 0);
        CHECK(objects(follow.lines()) == n_first + n_live);
        for (const auto& [k, c] : events(follow.lines())) {
            seen[k] += c;
        }
    }
    const std::string cursor = test::read_file(state);
    CHECK(cursor.find("s=") == 0);
    // stopped: more is written, into a new file of the directory
    write_journal(later, dir + "/system@later.journal");
    {
        test::FollowProcess follow(args);  // --from-start again: the state wins
        follow.wait_lines(n_later, wait_ms);
        std::this_thread::sleep_for(test::scaled_ms(500));  // nothing more is coming
        follow.signal(SIGTERM);
        INFO(follow.err());
        CHECK(follow.wait(wait_ms) == 0);
        CHECK(objects(follow.lines()) == n_later);
        for (const auto& [k, c] : events(follow.lines())) {
            seen[k] += c;
        }
    }
    CHECK(test::read_file(state) != cursor);
    // every event once over the two runs
    CHECK(seen.size() == n_first + n_live + n_later);
    for (const auto& [k, c] : seen) {
        INFO(k);
        CHECK(c == 1);
    }
    {
        // a third start: nothing printed again, only what is written after (user-avc: 2024-10)
        // (its last line is dbus-daemon's own syslog line, in neither transport: not written)
        std::string newest;
        std::istringstream in(fixture_log("user-avc"));
        for (std::string line; std::getline(in, line);) {
            if (line.rfind("type=", 0) == 0 || line.rfind("node=", 0) == 0) {
                newest += line + "\n";
            }
        }
        const std::uint64_t n_newest = plain_denials(newest);
        REQUIRE(n_newest > 0);
        test::FollowProcess follow(args);
        std::this_thread::sleep_for(test::scaled_ms(300));
        write_journal(newest, dir + "/system.journal");
        CHECK(follow.wait_lines(n_newest, wait_ms) == n_newest);
        std::this_thread::sleep_for(test::scaled_ms(300));
        follow.signal(SIGTERM);
        CHECK(follow.wait(wait_ms) == 0);
        CHECK(objects(follow.lines()) == n_newest);
        for (const auto& [k, c] : events(follow.lines())) {
            CHECK(seen.count(k) == 0);
        }
    }
}

TEST_CASE("follow --journal starts at the journal's end and prints what is written after", "[live][journal]")
{
    if (!test::require_journal_remote()) {
        return;
    }
    const std::string dir = test::temp_dir();
    write_journal(fixture_log("seed-001-memfd-tmp"), dir + "/system.journal");
    test::FollowProcess follow({"follow", "--journal-dir", dir, "--format", "json", "--connect", "none"});
    std::this_thread::sleep_for(test::scaled_ms(500));
    CHECK(follow.lines().empty());
    write_journal(fixture_log("seed-000-nvdimm-home"), dir + "/system.journal");
    CHECK(follow.wait_lines(1, static_cast<int>(test::scaled_ms(5000).count())) == 1);
    std::this_thread::sleep_for(test::scaled_ms(200));
    follow.signal(SIGTERM);
    CHECK(follow.wait(static_cast<int>(test::scaled_ms(5000).count())) == 0);
    const auto lines = follow.lines();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].text.find("\"device\":\"nvdimm\"") != std::string::npos);
}

TEST_CASE("follow --journal: no journal, or a state file that holds no cursor, is one line and exit 3",
          "[live][journal]")
{
    const std::string dir = test::temp_dir();
    auto r = test::run("timeout 20 " + test::shell_quote(test::binary()) + " follow --journal-dir " +
                       test::shell_quote(dir + "/missing"));
    CHECK(r.status == 3);
    CHECK(r.err.find("No such file or directory") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    if (!test::require_journal_remote()) {
        return;
    }
    write_journal(fixture_log("seed-001-memfd-tmp"), dir + "/system.journal");
    test::write_file(dir + "/state", std::string("\x01\x02 binary", 9));
    r = test::run("timeout 20 " + test::shell_quote(test::binary()) + " follow --journal-dir " +
                  test::shell_quote(dir) + " --state " + test::shell_quote(dir + "/state"));
    CHECK(r.status == 3);
    CHECK(r.err.find("not a cursor") != std::string::npos);
    r = test::run("timeout 20 " + test::shell_quote(test::binary()) + " follow --journal-dir " +
                  test::shell_quote(dir) + " --state " + test::shell_quote(dir + "/no-such-dir/state"));
    CHECK(r.status == 3);
    CHECK(r.err.find("--state") != std::string::npos);
    // --journal and a file at once
    CHECK(test::virtdeny("follow --journal --file /var/log/audit/audit.log").status == 2);
}

TEST_CASE("follow --journal --state: a cursor the journal no longer holds is said, and what came after is read",
          "[live][journal]")
{
    if (!test::require_journal_remote()) {
        return;
    }
    const std::string dir = test::temp_dir() + "/journal";
    fs::create_directories(dir);
    const std::string state = test::temp_dir() + "/cursor";
    const std::vector<std::string> args{"follow", "--journal-dir", dir, "--state", state, "--from-start",
                                        "--format", "json", "--connect", "none"};
    const int wait_ms = static_cast<int>(test::scaled_ms(5000).count());
    write_journal(fixture_log("seed-001-memfd-tmp"), dir + "/system.journal");
    {
        test::FollowProcess follow(args);
        CHECK(follow.wait_lines(6, wait_ms) == 6);
        follow.signal(SIGTERM);
        CHECK(follow.wait(wait_ms) == 0);
    }
    // vacuumed: the file that held the cursor is gone; a later one came
    fs::remove(dir + "/system.journal");
    write_journal(fixture_log("seed-000-nvdimm-home"), dir + "/system@later.journal");
    test::FollowProcess follow(args);
    CHECK(follow.wait_lines(1, wait_ms) == 1);
    std::this_thread::sleep_for(test::scaled_ms(300));
    follow.signal(SIGTERM);
    CHECK(follow.wait(wait_ms) == 0);
    INFO(follow.err());
    CHECK(follow.err().find("no longer in the journal") != std::string::npos);
    const auto lines = follow.lines();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].text.find("\"device\":\"nvdimm\"") != std::string::npos);
}
