// FileFollower alone, driven step by step: auditd's rename rotations and logrotate's
// copytruncates happen between two looks, as when the follower is slow (under load, or ASan),
// in many interleavings fixed by seed; every line comes out exactly once.
#include "live_support.hpp"

#include <analyzer/live/file_follower.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <sys/stat.h>

using namespace virtdeny;

namespace {

// one line per serial, in the layout of an AVC record (so heads and tails look alike)
std::string line_for(std::uint64_t n)
{
    return "type=AVC msg=audit(1710382510." + std::to_string(100 + n % 900) + ":" + std::to_string(n) +
           "): avc:  denied  { read } for  pid=4000" + std::to_string(n % 7) + " comm=\"qemu-kvm\"\n";
}

} // namespace

TEST_CASE("follow: rotations and copytruncates between two looks, every line once", "[live][follow]")
{
    namespace fs = std::filesystem;
    // auditd: rename rotations (and one logrotate copytruncate beside them); logrotate with
    // copytruncate and rotate N: the old copies are shifted, the file copied to .1, truncated
    for (const bool logrotate : {false, true}) {
        for (unsigned seed = 1; seed <= 300; ++seed) {
            const std::string dir = test::temp_dir();
            const std::string log = dir + "/audit.log";
            std::mt19937 rng(seed);
            // how often the follower looks: after nearly every step, down to once in many
            const double p = std::array<double, 5>{0.9, 0.5, 0.25, 0.1, 0.04}[seed % 5];
            std::bernoulli_distribution looks(p);
            // half the runs start before the file exists, and look first after two rotations
            const bool late = (seed / 5) % 2 == 1;
            if (!late) {
                test::append_file(log, "");
            }
            live::FileFollower follower(log, true, false);
            std::map<std::uint64_t, int> seen;
            std::uint64_t bad = 0;
            const live::LineHandler handler = [&](std::string_view line) {
                const std::size_t colon = line.find(':', 30);
                if (colon == std::string_view::npos || line.substr(0, 19) != "type=AVC msg=audit(") {
                    ++bad;
                    return;
                }
                ++seen[std::strtoull(std::string(line.substr(colon + 1, 12)).c_str(), nullptr, 10)];
            };
            int burst = 0;
            auto maybe_look = [&] {
                if ((!late || burst >= 25) && looks(rng)) {
                    follower.read_available(handler);
                }
            };
            auto shift = [&](int rotations) {
                for (int k = rotations; k >= 1; --k) {
                    fs::rename(log + "." + std::to_string(k), log + "." + std::to_string(k + 1));
                    maybe_look();
                }
            };
            std::uint64_t n = 0;
            int rotations = 0;
            for (; burst < 60; ++burst) {
                std::string data;
                for (int i = 0; i < 20; ++i) {
                    data += line_for(++n);
                }
                if (burst % 7 == 3) {
                    test::append_file(log, data.substr(0, data.size() - 25));  // a half-written last line
                    maybe_look();
                    test::append_file(log, data.substr(data.size() - 25));
                } else {
                    test::append_file(log, data);
                }
                maybe_look();
                if (logrotate && burst % 6 == 5) {
                    shift(rotations);
                    fs::copy_file(log, log + ".1");
                    maybe_look();
                    fs::resize_file(log, 0);
                    ++rotations;
                } else if (!logrotate && burst % 10 == 9 && rotations < 5) {
                    shift(rotations);
                    fs::rename(log, log + ".1");
                    maybe_look();  // no file at the path for a moment
                    test::append_file(log, "");
                    ++rotations;
                } else if (!logrotate && burst == 45) {
                    fs::copy_file(log, log + ".copy");
                    maybe_look();
                    fs::resize_file(log, 0);
                }
                maybe_look();
            }
            follower.read_available(handler);
            follower.read_available(handler);

            std::vector<std::uint64_t> lost;
            std::vector<std::uint64_t> doubled;
            for (std::uint64_t s = 1; s <= n; ++s) {
                const auto it = seen.find(s);
                if (it == seen.end()) {
                    lost.push_back(s);
                } else if (it->second > 1) {
                    doubled.push_back(s);
                }
            }
            INFO((logrotate ? "logrotate copytruncate" : "auditd rotation") << ", seed " << seed
                 << ", a look with p=" << p << (late ? ", file made after the follower" : "") << ": "
                 << lost.size() << " lost (first " << (lost.empty() ? 0 : lost.front()) << "), "
                 << doubled.size() << " doubled (first " << (doubled.empty() ? 0 : doubled.front()) << ")");
            CHECK(bad == 0);
            CHECK(lost.empty());
            CHECK(doubled.empty());
            CHECK(seen.size() == n);
            fs::remove_all(dir);
        }
    }
}

TEST_CASE("follow: a rotated file given the inode number of a deleted one is still read", "[live][follow]")
{
    // auditd with num_logs: each rotation renames over the oldest log, and the new audit.log
    // may get its inode number (ext4 gives a freed one out again at once). Two rotations
    // between two looks: the one in between is news, whatever its number.
    namespace fs = std::filesystem;
    const std::string dir = test::temp_dir();
    const std::string log = dir + "/audit.log";
    std::uint64_t n = 0;
    auto lines = [&](int count) {
        std::string data;
        for (int i = 0; i < count; ++i) {
            data += line_for(++n);
        }
        return data;
    };
    test::append_file(log + ".1", lines(10));  // history: there before the follower
    test::append_file(log, lines(10));
    live::FileFollower follower(log, true, false);
    std::map<std::uint64_t, int> seen;
    const live::LineHandler handler = [&](std::string_view line) {
        const std::size_t colon = line.find(':', 30);
        ++seen[std::strtoull(std::string(line.substr(colon + 1, 12)).c_str(), nullptr, 10)];
    };
    follower.read_available(handler);
    REQUIRE(seen.size() == 10);

    struct stat old_one{};
    REQUIRE(::stat((log + ".1").c_str(), &old_one) == 0);
    fs::rename(log, log + ".1");  // audit.log.1 (history) is gone
    test::append_file(log, lines(10));
    struct stat middle{};
    REQUIRE(::stat(log.c_str(), &middle) == 0);
    fs::rename(log, log + ".1");  // the first audit.log is gone from the directory (we hold it open)
    test::append_file(log, lines(10));
    follower.read_available(handler);
    follower.read_available(handler);

    if (middle.st_ino != old_one.st_ino) {
        WARN("this file system did not give the freed inode number out again: the case was not made");
    }
    CHECK(seen.size() == 30);
    for (std::uint64_t s = 11; s <= 40; ++s) {
        INFO("serial " << s);
        CHECK(seen[s] == 1);
    }
    CHECK(seen.count(1) == 0);  // history is not news
    fs::remove_all(dir);
}
