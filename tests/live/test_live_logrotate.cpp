// follow --file under the real logrotate: copytruncate with rotate N (the copies shifted
// .1 -> .2 -> .3), and create with delaycompress (rename, a new file, the one before
// compressed). Every event exactly once, none later than a second.
#include "live_support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <unordered_map>

using namespace virtdeny;
using test::Clock;

namespace {

std::string event_for(std::uint64_t serial)
{
    const std::string stamp = "audit(1710382510." + std::to_string(100 + serial % 900) + ":" + std::to_string(serial) + ")";
    return "type=AVC msg=" + stamp + ": avc:  denied  { write } for  pid=" + std::to_string(51000 + serial % 5) +
           " comm=\"qemu-kvm\" name=\"vm-" + std::to_string(serial % 3) + ".sock\" dev=\"tmpfs\" ino=812 "
           "scontext=system_u:system_r:svirt_t:s0:c7,c9 tcontext=system_u:object_r:var_run_t:s0 "
           "tclass=sock_file permissive=0\n"
           "type=EOE msg=" + stamp + ": \n";
}

} // namespace

TEST_CASE("follow --file under logrotate (copytruncate rotate 3, create delaycompress): each event once",
          "[live][follow][logrotate]")
{
    if (!test::require_tool("logrotate", "logrotate")) {
        return;
    }
    for (const std::string mode : {"copytruncate", "create"}) {
        INFO("logrotate " << mode);
        const std::string dir = test::temp_dir();
        const std::string log = dir + "/audit.log";
        const std::string conf = dir + "/logrotate.conf";
        test::write_file(conf, log + " {\n    rotate 3\n    missingok\n" +
                                   (mode == "copytruncate" ? std::string("    copytruncate\n    nocompress\n")
                                                           : std::string("    create 0600\n    compress\n    delaycompress\n")) +
                                   "}\n");
        std::filesystem::permissions(conf, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
        test::append_file(log, "");

        test::FollowProcess follow({"follow", "--file", log, "--from-start", "--format", "json"});
        std::this_thread::sleep_for(test::scaled_ms(200));
        constexpr std::uint64_t k_bursts = 30;
        constexpr std::uint64_t k_per_burst = 200;
        std::unordered_map<std::uint64_t, Clock::time_point> written;
        std::uint64_t serial = 0;
        int rotated = 0;
        for (std::uint64_t burst = 0; burst < k_bursts; ++burst) {
            std::string data;
            std::vector<std::uint64_t> serials;
            for (std::uint64_t i = 0; i < k_per_burst; ++i) {
                data += event_for(++serial);
                serials.push_back(serial);
            }
            test::append_file(log, data);
            const auto now = Clock::now();
            for (auto s : serials) {
                written[s] = now;
            }
            if (burst % 6 == 5) {
                const auto r = test::run("logrotate -f -s " + test::shell_quote(dir + "/state") + " " + test::shell_quote(conf));
                INFO(r.err);
                REQUIRE(r.status == 0);
                ++rotated;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        const std::uint64_t total = k_bursts * k_per_burst;
        CHECK(follow.wait_lines(total, static_cast<int>(test::scaled_ms(10000).count())) == total);
        follow.signal(SIGTERM);
        CHECK(follow.wait(10000) == 0);
        CHECK(rotated == 5);
        // what logrotate left: .1 .2 .3 (and .gz for the older ones with compress)
        CHECK(std::filesystem::exists(log + ".3") != (mode == "create"));
        CHECK(std::filesystem::exists(log + ".3.gz") == (mode == "create"));

        std::map<std::uint64_t, int> seen;
        double max_ms = 0;
        for (const auto& line : follow.lines()) {
            const std::uint64_t s = test::json_number(line.text, "serial");
            ++seen[s];
            if (written.count(s) != 0) {
                max_ms = std::max(max_ms, std::chrono::duration<double, std::milli>(line.at - written[s]).count());
            }
        }
        std::uint64_t lost = 0;
        std::uint64_t doubled = 0;
        for (std::uint64_t s = 1; s <= total; ++s) {
            lost += seen.count(s) == 0 ? 1 : 0;
            doubled += seen.count(s) != 0 && seen[s] > 1 ? 1 : 0;
        }
        INFO(lost << " lost, " << doubled << " doubled, max latency " << max_ms << " ms; " << follow.err());
        CHECK(lost == 0);
        CHECK(doubled == 0);
        CHECK(seen.size() == total);
        CHECK(max_ms < static_cast<double>(test::scaled_ms(1000).count()));
        std::filesystem::remove_all(dir);
    }
}
