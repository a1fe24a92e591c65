// Issue 8: the progress line of long runs. On a terminal (a pseudo-terminal from util-linux
// `script`), reading a large log shows bytes, MB/s and denials so far on stderr, redrawn in
// place and erased at the end; never on a pipe or a file, never with --format json or
// --no-progress; a malformed-line message erases the line first so it starts at column 0.
#include "../support.hpp"

#include <analyzer/cli/progress.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <string>

using namespace virtdeny;

namespace {

// A log of about `mb` MB in RHEL 9 raw auditd format: logins and service records with a
// SELinux denial event (AVC + SYSCALL + PATH + PROCTITLE) every 40 records, each event
// with its own serial; when bad_at_mb > 0 one truncated record sits about there.
std::string big_log(std::size_t mb, std::size_t bad_at_mb = 0)
{
    std::string log;
    log.reserve(mb * 1000000 + 4096);
    std::uint64_t serial = 1000;
    std::uint64_t t = 1717400000;
    bool bad_written = false;
    char buf[1024];
    while (log.size() < mb * 1000000) {
        ++serial;
        if (serial % 40 == 0) {
            char stamp[64];
            std::snprintf(stamp, sizeof stamp, "msg=audit(%llu.%03llu:%llu)", static_cast<unsigned long long>(t),
                          static_cast<unsigned long long>(serial % 1000), static_cast<unsigned long long>(serial));
            std::snprintf(buf, sizeof buf,
                          "type=AVC %s: avc:  denied  { read } for  pid=4242 comm=\"qemu-kvm\" name=\"disk%llu.qcow2\" "
                          "dev=\"0:52\" ino=%llu scontext=system_u:system_r:svirt_t:s0:c1,c2 "
                          "tcontext=system_u:object_r:nfs_t:s0 tclass=file permissive=0\n"
                          "type=SYSCALL %s: arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=55f1d2c3a7e0 "
                          "a2=84002 a3=0 items=1 ppid=1 pid=4242 auid=4294967295 uid=107 gid=107 euid=107 suid=107 "
                          "fsuid=107 egid=107 sgid=107 fsgid=107 tty=(none) ses=4294967295 comm=\"qemu-kvm\" "
                          "exe=\"/usr/libexec/qemu-kvm\" subj=system_u:system_r:svirt_t:s0:c1,c2 key=(null)\n"
                          "type=PATH %s: item=0 name=\"/mnt/nfs/disk%llu.qcow2\" inode=%llu dev=00:34 mode=0100600 "
                          "ouid=107 ogid=107 rdev=00:00 obj=system_u:object_r:nfs_t:s0 nametype=NORMAL cap_fp=0 "
                          "cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\n",
                          stamp, static_cast<unsigned long long>(serial % 7), static_cast<unsigned long long>(serial),
                          stamp, stamp, static_cast<unsigned long long>(serial % 7),
                          static_cast<unsigned long long>(serial));
        } else {
            std::snprintf(buf, sizeof buf,
                          "type=USER_ACCT msg=audit(%llu.%03llu:%llu): pid=%llu uid=0 auid=4294967295 ses=4294967295 "
                          "subj=system_u:system_r:sshd_t:s0-s0:c0.c1023 msg='op=PAM:accounting "
                          "grantors=pam_unix,pam_localuser acct=\"ops\" exe=\"/usr/sbin/sshd\" hostname=10.20.0.5 "
                          "addr=10.20.0.5 terminal=ssh res=success'\n",
                          static_cast<unsigned long long>(t), static_cast<unsigned long long>(serial % 1000),
                          static_cast<unsigned long long>(serial), static_cast<unsigned long long>(serial % 30000 + 1000));
        }
        log += buf;
        if (serial % 1000 == 0) {
            ++t;
        }
        if (bad_at_mb > 0 && !bad_written && log.size() >= bad_at_mb * 1000000) {
            log += "type=AVC msg=audit(1717400999.123:77\n";
            bad_written = true;
        }
    }
    return log;
}

struct TtyRun
{
    int status = -1;
    std::string tty;     // what the terminal received (stderr; stdout goes to a file)
    std::string stdout_text;
};

// Runs `virtdeny ARGS` with stderr on a pseudo-terminal and stdout in a file.
TtyRun on_tty(const std::string& args, const std::string& env = "VIRTDENY_PROGRESS_DELAY_MS=0")
{
    const std::string dir = test::temp_dir();
    const std::string out = dir + "/stdout";
    const std::string inner = "env NO_COLOR=1 TERM=xterm " + env + " " + test::shell_quote(test::binary()) + " " + args +
                              " >" + test::shell_quote(out);
    const auto r = test::run("script -qec " + test::shell_quote(inner) + " /dev/null");
    TtyRun t;
    t.status = r.status;
    t.tty = r.out;
    t.stdout_text = test::read_file(out);
    std::filesystem::remove_all(dir);
    return t;
}

const std::regex k_progress_line(R"(\rvirtdeny: (\[[#.]+\] +[0-9]+%  )?[0-9.]+ [MG]B( of [0-9.]+ [MG]B)?  [0-9.]+ MB/s  [0-9]+ denials?\x1b\[K)");

} // namespace

TEST_CASE("progress line text: bar, percent, bytes, MB/s and denials, never wider than the terminal", "[cli][progress]")
{
    const std::string full = cli::Progress::render(312400000, 1200000000, 2.0, 1204, 100);
    CHECK(full == "virtdeny: [#######.......................]  26%  312.4 MB of 1.20 GB  156.2 MB/s  1204 denials");
    CHECK(full.size() <= 99);

    const std::string narrow = cli::Progress::render(312400000, 1200000000, 2.0, 1, 60);
    CHECK(narrow == "virtdeny:  26%  312.4 MB of 1.20 GB  156.2 MB/s  1 denial");
    CHECK(cli::Progress::render(312400000, 1200000000, 2.0, 1, 30).size() == 29);

    // standard input and .gz: no size known, so no bar and no percent
    CHECK(cli::Progress::render(52000000, 0, 0.5, 0, 120) == "virtdeny: 52.0 MB  104.0 MB/s  0 denials");
    CHECK(cli::Progress::render(0, 0, 0.0, 0, 120) == "virtdeny: 0.0 MB  0.0 MB/s  0 denials");
    // more bytes than the size said (a growing file): 100%, never a longer bar
    CHECK(cli::Progress::render(2000, 1000, 1.0, 0, 80).find("100%") != std::string::npos);
}

TEST_CASE("progress on a terminal: shown while a large file is read, erased at the end", "[cli][progress]")
{
    if (!test::require_tool("script", "bsdutils")) {
        return;
    }
    const std::string dir = test::temp_dir();
    const std::string log = dir + "/audit.log";
    test::write_file(log, big_log(24));
    const std::string path = test::shell_quote(log);

    // small chunks and one thread: one callback per MiB, drawn at once (no start delay)
    const TtyRun tty = on_tty("explain --threads 1 " + path,
                              "VIRTDENY_PROGRESS_DELAY_MS=0 VIRTDENY_CHUNK_BYTES=1048576");
    CHECK(tty.status == 0);
    INFO(tty.tty);
    CHECK(std::regex_search(tty.tty, k_progress_line));
    CHECK(tty.tty.find("% ") != std::string::npos);          // a regular file: its size is known
    CHECK(tty.tty.find(" of 24.0") != std::string::npos);
    CHECK(tty.tty.size() >= 4);
    CHECK(tty.tty.substr(tty.tty.size() - 4) == "\r\x1b[K");  // the last thing written erases the line
    // the report itself is untouched: the same as without a terminal
    const auto plain = test::virtdeny("explain --threads 1 " + path);
    CHECK(tty.stdout_text == plain.out);
    CHECK(std::regex_search(plain.out, std::regex(R"(findings from [0-9]+ denials)")));

    // several threads: the same line (callbacks on the calling thread)
    const TtyRun threads = on_tty("explain --threads 2 " + path,
                                  "VIRTDENY_PROGRESS_DELAY_MS=0 VIRTDENY_CHUNK_BYTES=1048576");
    CHECK(std::regex_search(threads.tty, k_progress_line));
    CHECK(threads.stdout_text == plain.out);

    // standard input through a pipe: bytes and rate, no percent (no size known)
    const TtyRun piped = on_tty("explain - <" + path);
    CHECK(std::regex_search(piped.tty, k_progress_line));
    CHECK(piped.tty.find("%") == std::string::npos);
    CHECK(piped.stdout_text == plain.out);

    // suggest and replay read through the same pipeline
    const TtyRun replay = on_tty("replay --write-baseline " + test::shell_quote(dir + "/base.json") + " " + path);
    CHECK(std::regex_search(replay.tty, k_progress_line));

    // the default start delay keeps short runs quiet
    const TtyRun quick = on_tty("explain " + test::shell_quote(test::fixtures_dir() + "/nfs-image/input.log"), "");
    CHECK(quick.tty.find("MB/s") == std::string::npos);
    CHECK(quick.stdout_text.find("nfs") != std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("progress never on a pipe or a file, in JSON mode or with --no-progress", "[cli][progress]")
{
    const std::string dir = test::temp_dir();
    const std::string log = dir + "/audit.log";
    test::write_file(log, big_log(12));
    const std::string path = test::shell_quote(log);
    const std::string env = "VIRTDENY_PROGRESS_DELAY_MS=0 VIRTDENY_CHUNK_BYTES=1048576 TERM=xterm ";
    const std::string bin = test::shell_quote(test::binary());

    // stderr on a pipe, and in a file
    const auto pipe = test::run(env + bin + " explain --threads 1 " + path + " 2>&1 >/dev/null | cat");
    CHECK(pipe.status == 0);
    CHECK(pipe.out.empty());
    const auto file = test::run(env + bin + " explain --threads 1 " + path);
    CHECK(file.err.empty());
    CHECK(file.out.find("findings from") != std::string::npos);

    if (!test::require_tool("script", "bsdutils")) {
        std::filesystem::remove_all(dir);
        return;
    }
    const std::string knobs = "VIRTDENY_PROGRESS_DELAY_MS=0 VIRTDENY_CHUNK_BYTES=1048576";
    // on a terminal it would show (the control case) ...
    CHECK(std::regex_search(on_tty("explain --threads 1 " + path, knobs).tty, k_progress_line));
    // ... but never in JSON mode, with --no-progress, or with TERM=dumb
    for (const char* args : {"explain --format json --threads 1 ", "explain -f json --threads 1 ",
                                   "explain --no-progress --threads 1 ",
                                   "replay --format json --write-baseline /dev/null --threads 1 "}) {
        INFO(args);
        const TtyRun r = on_tty(std::string(args) + path, knobs);
        CHECK(r.status == 0);
        CHECK(r.tty.find("MB/s") == std::string::npos);
        CHECK(r.tty.find("\x1b[K") == std::string::npos);
        CHECK(!r.stdout_text.empty());
    }
    const TtyRun dumb = on_tty("explain --threads 1 " + path, knobs + " TERM=dumb");
    CHECK(dumb.tty.find("MB/s") == std::string::npos);
    // follow is live: no progress line
    const TtyRun follow = on_tty("follow - <" + path, knobs);
    CHECK(follow.tty.find("MB/s") == std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("progress: a malformed-line message erases the progress line first", "[cli][progress]")
{
    if (!test::require_tool("script", "bsdutils")) {
        return;
    }
    const std::string dir = test::temp_dir();
    const std::string log = dir + "/audit.log";
    test::write_file(log, big_log(12, 6));
    const TtyRun r = on_tty("explain --threads 1 " + test::shell_quote(log),
                            "VIRTDENY_PROGRESS_DELAY_MS=0 VIRTDENY_CHUNK_BYTES=1048576");
    INFO(r.tty);
    CHECK(std::regex_search(r.tty, k_progress_line));
    // the bar was on screen when the message came: erased, then the message from column 0
    const std::size_t msg = r.tty.find("virtdeny: " + log + ": line ");
    REQUIRE(msg != std::string::npos);
    CHECK(r.tty.compare(msg - 4, 4, "\r\x1b[K") == 0);
    CHECK(r.tty.find("MB/s") < msg);  // drawn before the message
    std::filesystem::remove_all(dir);
}
