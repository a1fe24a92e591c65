// Issue 9: the live paths against a real auditd, not only a simulated file.
//
// As root with auditd installed, this starts `auditd -n -s nochange -c DIR` with a config of
// its own (log in a temporary folder, max_log_file = 1 MB with max_log_file_action = ROTATE so
// that auditd rotates its own log, the virtdeny plugin from dist/ enabled in that config's
// plugins.d and pointing at the built binary), injects thousands of USER_AVC denials in
// SELinux and AppArmor wording through libaudit (virtdeny_audit_inject), and checks that every
// one of them reaches, exactly once:
//   file     `virtdeny follow --file DIR/log/audit.log`, started before auditd creates the log,
//            across auditd's own rotations;
//   audisp   `virtdeny follow --audisp`, run by auditd as its plugin through dist/'s wrapper;
//   netlink  `virtdeny follow --netlink`, the kernel's read-only multicast group;
//   file-from-end  `virtdeny follow --file` started while auditd runs, as dist/'s systemd unit
//            does: from the log's end (so none of what was there before it started).
// Between two bursts auditd gets SIGHUP (reload: it sends its plugin SIGHUP) and SIGUSR1 (rotate);
// during the second burst the followers of the log and of the netlink group are stopped for a
// moment (a process under load), so that auditd rotates under them and the kernel has to queue.
// Then it stops auditd and checks that the kernel's audit state (auditctl -s, auditctl -l) is
// what it was before, restoring it (RAII, also when the test fails) where it is not.
//
// Why not `auditd -f`: in the foreground auditd writes the events to stderr instead of its
// log file, so neither the file path nor auditd's rotation would be exercised. `-n` (no fork)
// keeps it our child. `-s nochange` keeps the kernel's enabled flag as it is (auditd's default
// would enable auditing and leave it enabled after SIGTERM); USER_AVC records are logged by the
// kernel even with auditing disabled. If this process dies (a crash, ctest's timeout), auditd
// gets SIGTERM and the followers SIGKILL (PR_SET_PDEATHSIG): no daemon is left registered.
//
// Where it cannot run (not root, no CAP_AUDIT_CONTROL as in a container, an audit daemon
// already registered, a locked audit configuration) it says why and passes; ctest reports it
// as skipped (SKIP_REGULAR_EXPRESSION in tests/CMakeLists.txt). auditd not installed is the
// same skip, but a failure with VIRTDENY_REQUIRE_TOOLS=1 (scripts/test, CI); .ci/run stops a
// host's auditd around the tests so that CI runs this one.
#include "../support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace virtdeny;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr long k_denials = 8000;      // injected: half SELinux, half AppArmor wording; ~3.6 MB of log
constexpr long k_warmup = 2;          // one of each, to know that every path is listening
constexpr int k_stall_ms = 500;       // the followers are stopped this long during the second burst
constexpr int k_lock_wait_s = 120;    // another run of this test (another build dir) holds the machine
constexpr const char* k_skip = "SKIPPED: auditd integration not run: ";
constexpr const char* k_profile = "libvirt-6a1d2f9e-0b7c-4e55-9d38-1c2b3a4d5e6f";  // as in audit_inject.cpp
constexpr const char* k_scontext = "system_u:system_r:svirt_t:s0:c12,c345";

std::string inject_binary()
{
    return VIRTDENY_AUDIT_INJECT;
}

std::string find_program(const std::vector<std::string>& candidates)
{
    for (const auto& c : candidates) {
        if (::access(c.c_str(), X_OK) == 0) {
            return c;
        }
    }
    return {};
}

// pids of processes whose command name is exactly `name` ("auditd", not "kauditd")
std::vector<pid_t> processes_named(const std::string& name)
{
    std::vector<pid_t> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
        const std::string pid = e.path().filename().string();
        if (pid.empty() || !std::all_of(pid.begin(), pid.end(), ::isdigit)) {
            continue;
        }
        std::string comm = test::read_file(e.path().string() + "/comm");
        while (!comm.empty() && comm.back() == '\n') {
            comm.pop_back();
        }
        if (comm == name) {
            out.push_back(static_cast<pid_t>(std::stol(pid)));
        }
    }
    return out;
}

bool wait_until(const std::function<bool()>& done, int timeout_ms, int step_ms = 50)
{
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        if (done()) {
            return true;
        }
        if (Clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(step_ms));
    }
}

// A child process of ours: stdout and stderr to files, stdin /dev/null, `on_our_death` when we
// die (SIGTERM for auditd, which then unregisters; SIGKILL for a follower, even a stopped one).
class Child
{
public:
    Child() = default;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    // SIGTERM first: auditd unregisters itself from the kernel only when it ends cleanly
    ~Child() { stop(SIGTERM, 10000); }

    bool start(const std::vector<std::string>& args, const std::string& out_path, const std::string& err_path,
               int on_our_death = SIGKILL)
    {
        std::vector<std::string> argv_s = args;
        std::vector<char*> argv;
        for (auto& a : argv_s) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        const pid_t parent = ::getpid();
        m_pid = ::fork();
        if (m_pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, on_our_death);
            if (::getppid() != parent) {
                ::_exit(126);
            }
            const int in = ::open("/dev/null", O_RDONLY);
            const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (in < 0 || out < 0 || err < 0) {
                ::_exit(126);
            }
            ::dup2(in, STDIN_FILENO);
            ::dup2(out, STDOUT_FILENO);
            ::dup2(err, STDERR_FILENO);
            ::setenv("NO_COLOR", "1", 1);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        return m_pid > 0;
    }

    pid_t pid() const { return m_pid; }

    bool running()
    {
        reap(false);
        return m_pid > 0 && !m_reaped;
    }

    // Sends signo (unless 0) and waits up to timeout_ms; then SIGKILL. The exit status, or
    // 128 + the signal that ended it, or -1 when it was never started.
    int stop(int signo, int timeout_ms)
    {
        if (m_pid <= 0) {
            return -1;
        }
        if (!m_reaped && signo != 0) {
            ::kill(m_pid, signo);
            ::kill(m_pid, SIGCONT);  // in case it was stopped
        }
        if (!wait_until([this] { return reap(false); }, timeout_ms, 10)) {
            ::kill(m_pid, SIGKILL);
            reap(true);
        }
        return m_status;
    }

private:
    bool reap(bool block)
    {
        if (m_pid <= 0 || m_reaped) {
            return true;
        }
        int status = 0;
        const pid_t r = ::waitpid(m_pid, &status, block ? 0 : WNOHANG);
        if (r == m_pid) {
            m_reaped = true;
            m_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        } else if (r < 0) {
            m_reaped = true;  // not ours any more
        }
        return m_reaped;
    }

    pid_t m_pid = -1;
    bool m_reaped = false;
    int m_status = -1;
};

// ---- the kernel's audit state ---------------------------------------------------------------

struct AuditState
{
    bool ok = false;
    std::string error;
    std::string status;  // auditctl -s
    std::string rules;   // auditctl -l
    std::map<std::string, std::string> fields;

    std::string field(const std::string& key) const
    {
        auto it = fields.find(key);
        return it == fields.end() ? std::string() : it->second;
    }
};

std::string g_auditctl;

AuditState audit_state()
{
    AuditState s;
    auto st = test::run(test::shell_quote(g_auditctl) + " -s");
    auto ls = test::run(test::shell_quote(g_auditctl) + " -l");
    if (st.status != 0 || ls.status != 0) {
        s.error = st.status != 0 ? "auditctl -s: " + st.err + st.out : "auditctl -l: " + ls.err + ls.out;
        while (!s.error.empty() && s.error.back() == '\n') {
            s.error.pop_back();
        }
        return s;
    }
    s.ok = true;
    s.status = st.out;
    s.rules = ls.out;
    std::istringstream in(st.out);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string key;
        std::string value;
        if (words >> key >> value) {
            s.fields[key] = value;
        }
    }
    return s;
}

// Puts back what differs from `before` (settings, rules, a stale daemon registration, counters
// that were zero); says what it did.
std::vector<std::string> restore_audit_state(const AuditState& before)
{
    std::vector<std::string> done;
    AuditState now = audit_state();
    if (!now.ok || !before.ok) {
        done.push_back("could not read the audit state: " + now.error);
        return done;
    }
    const auto ctl = [&](const std::string& args) {
        auto r = test::run(test::shell_quote(g_auditctl) + " " + args);
        done.push_back("auditctl " + args + (r.status == 0 ? "" : " FAILED: " + r.err));
    };
    if (now.field("pid") != before.field("pid") && before.field("pid") == "0") {
        // an auditd that died without unregistering: the kernel checks that it is gone
        auto r = test::run(test::shell_quote(inject_binary()) + " reset-pid");
        done.push_back("audit_set_pid 0" + (r.status == 0 ? std::string() : " FAILED: " + r.err));
    }
    const std::vector<std::pair<std::string, std::string>> settings = {
        {"enabled", "-e"}, {"failure", "-f"}, {"rate_limit", "-r"}, {"backlog_limit", "-b"},
        {"backlog_wait_time", "--backlog_wait_time"}};
    for (const auto& [key, option] : settings) {
        if (!before.field(key).empty() && now.field(key) != before.field(key)) {
            ctl(option + " " + before.field(key));
        }
    }
    if (now.rules != before.rules) {
        ctl("-D");
        if (before.rules.find("No rules") == std::string::npos) {
            const std::string dir = test::temp_dir();
            test::write_file(dir + "/before.rules", before.rules);
            ctl("-R " + test::shell_quote(dir + "/before.rules"));
            fs::remove_all(dir);
        }
    }
    if (now.field("lost") != before.field("lost") && before.field("lost") == "0") {
        ctl("--reset-lost");
    }
    if (now.field("backlog_wait_time_actual") != before.field("backlog_wait_time_actual") &&
        before.field("backlog_wait_time_actual") == "0") {
        ctl("--reset_backlog_wait_time_actual");
    }
    return done;
}

// ---- what virtdeny printed ------------------------------------------------------------------

struct Tally
{
    std::map<long, int> seen;  // injected number -> JSON objects naming it
    long reported = 0;         // JSON objects for injected denials of this phase
    long wrong = 0;            // ... whose MAC, subject, class or permissions are not the injected ones
    long other = 0;            // other JSON objects (other denials on this host, other phase)
    long malformed = 0;        // lines that are not JSON objects
    std::string first_wrong;
};

// The JSON Lines in `path` (complete lines only) about denials injected with `tag`.
Tally tally(const std::string& path, const std::string& tag)
{
    Tally t;
    const std::string text = test::read_file(path);
    const std::string dir = "/virtdeny-integration/" + tag + "/";
    const std::regex name(R"((se|aa)-([0-9]+)\.img)");
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) {
            break;  // a line still being written
        }
        const std::string line = text.substr(pos, nl - pos);
        pos = nl + 1;
        const auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
            ++t.malformed;
            continue;
        }
        std::string object;
        if (j.contains("object") && j["object"].is_object() && j["object"].contains("path") &&
            j["object"]["path"].is_string()) {
            object = j["object"]["path"].get<std::string>();
        }
        const std::size_t at = object.find(dir);
        std::smatch m;
        const std::string file = at == std::string::npos ? std::string() : object.substr(at + dir.size());
        if (at == std::string::npos || !std::regex_match(file, m, name)) {
            ++t.other;
            continue;
        }
        const bool selinux = m[1] == "se";
        const long id = std::stol(m[2]);
        ++t.reported;
        ++t.seen[id];
        const auto str = [&](const char* key) {
            return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
        };
        const bool perms = j.contains("permissions") && j["permissions"] == nlohmann::json::array({"read"});
        const bool right = (id % 2 == 0) == selinux && str("mac") == (selinux ? "selinux" : "apparmor") &&
                           str("subject") == (selinux ? k_scontext : k_profile) && str("class") == "file" &&
                           perms && j.value("enforced", false);
        if (!right) {
            ++t.wrong;
            if (t.first_wrong.empty()) {
                t.first_wrong = line;
            }
        }
    }
    return t;
}

struct PathResult
{
    long injected = 0;
    long reported = 0;
    long missing = 0;
    long duplicated = 0;
    long wrong = 0;
};

PathResult compare(const Tally& t, long first, long count)
{
    PathResult r;
    r.injected = count;
    r.reported = t.reported;
    r.wrong = t.wrong;
    for (long id = first; id < first + count; ++id) {
        auto it = t.seen.find(id);
        if (it == t.seen.end()) {
            ++r.missing;
        } else if (it->second > 1) {
            r.duplicated += it->second - 1;
        }
    }
    for (const auto& [id, n] : t.seen) {
        if (id < first || id >= first + count) {
            r.duplicated += n;  // a number never injected: counted as excess
        }
    }
    return r;
}

// ---- set-up ---------------------------------------------------------------------------------

// Why this machine cannot run the test, or empty.
std::string cannot_run(std::string& auditd)
{
    if (::geteuid() != 0) {
        return "not root (starting auditd needs root with CAP_AUDIT_CONTROL)";
    }
    auditd = find_program({"/usr/sbin/auditd", "/sbin/auditd"});
    g_auditctl = find_program({"/usr/sbin/auditctl", "/sbin/auditctl"});
    return {};
}

// The tools, which scripts/deps --test installs: missing, the test fails with
// VIRTDENY_REQUIRE_TOOLS=1 (scripts/test, CI) and is skipped without it.
bool have_tools(const std::string& auditd)
{
    return test::require_present(!auditd.empty() && !g_auditctl.empty(),
                                 "auditd integration not run: auditd/auditctl not installed (Debian package auditd)")
        && test::require_present(::access(inject_binary().c_str(), X_OK) == 0,
                                 "auditd integration not run: the injector " + inject_binary() + " was not built");
}

// Why the audit subsystem is not ours to use now, or empty.
std::string not_ours(const AuditState& s)
{
    if (!s.ok) {
        return "cannot read the kernel's audit state (no CAP_AUDIT_CONTROL, as in a container, "
               "or no audit support): " + s.error;
    }
    const auto running = processes_named("auditd");
    if (!running.empty()) {
        return "an auditd is already running (pid " + std::to_string(running.front()) +
               "); this test does not take over a host's audit daemon";
    }
    if (s.field("pid") != "0") {
        return "an audit daemon is registered with the kernel (pid " + s.field("pid") +
               "); this test does not take over a host's audit daemon";
    }
    if (s.field("enabled") == "2") {
        return "the audit configuration is locked (enabled 2) until reboot";
    }
    return {};
}

// Serialises runs of this test on one machine (several build directories, several ctest runs).
class MachineLock
{
public:
    ~MachineLock()
    {
        if (m_fd >= 0) {
            ::flock(m_fd, LOCK_UN);
            ::close(m_fd);
        }
    }
    bool acquire(int timeout_s)
    {
        const std::string dir = fs::is_directory("/run/lock") ? "/run/lock" : "/tmp";
        m_fd = ::open((dir + "/virtdeny-auditd-integration.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (m_fd < 0) {
            return false;
        }
        return wait_until([this] { return ::flock(m_fd, LOCK_EX | LOCK_NB) == 0; }, timeout_s * 1000, 200);
    }

private:
    int m_fd = -1;
};

std::string auditd_conf(const std::string& dir)
{
    // Debian 12's /etc/audit/auditd.conf, but: our own log and plugin directories, 1 MB logs
    // rotated by auditd itself, no action that could suspend or halt this machine, no mail.
    return "local_events = yes\n"
           "write_logs = yes\n"
           "log_file = " + dir + "/log/audit.log\n"
           "log_group = root\n"
           "log_format = ENRICHED\n"
           "flush = INCREMENTAL_ASYNC\n"
           "freq = 50\n"
           "max_log_file = 1\n"
           "num_logs = 10\n"
           "priority_boost = 4\n"
           "name_format = NONE\n"
           "max_log_file_action = ROTATE\n"
           "space_left = 2\n"
           "space_left_action = SYSLOG\n"
           "verify_email = no\n"
           "action_mail_acct = root\n"
           "admin_space_left = 1\n"
           "admin_space_left_action = SYSLOG\n"
           "disk_full_action = SYSLOG\n"
           "disk_error_action = SYSLOG\n"
           "use_libwrap = no\n"
           "tcp_listen_queue = 5\n"
           "tcp_max_per_addr = 1\n"
           "tcp_client_max_idle = 0\n"
           "transport = TCP\n"
           "distribute_network = no\n"
           "q_depth = 2000\n"
           "overflow_action = SYSLOG\n"
           "max_restarts = 10\n"
           "plugin_dir = " + dir + "/etc/plugins.d\n"
           "end_of_event_timeout = 2\n";
}

// dist/'s file with `from` (which must be there) replaced by `to`.
std::string from_dist(const std::string& rel, const std::vector<std::pair<std::string, std::string>>& edits,
                      std::string& problem)
{
    std::string text = test::read_file(test::source_dir() + "/dist/" + rel);
    if (text.empty()) {
        problem = "dist/" + rel + " is missing";
    }
    for (const auto& [from, to] : edits) {
        std::size_t at = text.find(from);
        if (at == std::string::npos) {
            problem = "dist/" + rel + " no longer contains \"" + from + "\"";
        }
        while (at != std::string::npos) {
            text.replace(at, from.size(), to);
            at = text.find(from, at + to.size());
        }
    }
    return text;
}

void write_private(const std::string& path, const std::string& text, fs::perms mode)
{
    test::write_file(path, text);
    fs::permissions(path, mode);
}

std::vector<pid_t> children_of(pid_t pid)
{
    std::vector<pid_t> out;
    std::error_code ec;
    for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        std::istringstream in(test::read_file(task.path().string() + "/children"));
        pid_t c = 0;
        while (in >> c) {
            out.push_back(c);
        }
    }
    return out;
}

// Inodes of the sockets process `pid` holds open.
std::set<std::string> socket_inodes(pid_t pid)
{
    std::set<std::string> out;
    std::error_code ec;
    for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        const std::string target = fs::read_symlink(fd.path(), ec).string();
        if (target.rfind("socket:[", 0) == 0 && target.back() == ']') {
            out.insert(target.substr(8, target.size() - 9));
        }
    }
    return out;
}

// The follower `pid` is listening to the kernel's audit multicast group: one of its sockets
// is a NETLINK_AUDIT (9) socket bound to group 1 (AUDIT_NLGRP_READLOG) in /proc/net/netlink.
bool netlink_bound(pid_t pid)
{
    const auto inodes = socket_inodes(pid);
    std::istringstream in(test::read_file("/proc/net/netlink"));
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string sk, eth, port, groups, rmem, wmem, dump, locks, drops, inode;
        if (f >> sk >> eth >> port >> groups >> rmem >> wmem >> dump >> locks >> drops >> inode && eth == "9"
            && inodes.count(inode) && (std::stoul(groups, nullptr, 16) & 1U) != 0) {
            return true;
        }
    }
    return false;
}

// The follower `pid` watches a directory with inotify (a --file follower's FileFollower has
// been made: what is created from now on is read from its start).
bool inotify_watching(pid_t pid)
{
    std::error_code ec;
    for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fdinfo", ec)) {
        if (test::read_file(fd.path().string()).find("inotify wd:") != std::string::npos) {
            return true;
        }
    }
    return false;
}

// Complete lines of `path` that contain `needle` (cheap enough to poll).
long lines_with(const std::string& path, const std::string& needle)
{
    const std::string text = test::read_file(path);
    long n = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) {
            break;
        }
        const std::size_t at = text.find(needle, pos);
        if (at == std::string::npos) {
            break;
        }
        if (at < nl) {
            ++n;
            pos = nl + 1;
        } else {
            pos = text.rfind('\n', at) + 1;  // the line that holds the next match
        }
    }
    return n;
}

std::string tail_of(const std::string& path, std::size_t n = 2000)
{
    const std::string text = test::read_file(path);
    return text.size() > n ? "..." + text.substr(text.size() - n) : text;
}

} // namespace

TEST_CASE("auditd integration: every USER_AVC injected reaches follow --file, --audisp and --netlink once",
          "[integration][auditd]")
{
    const auto started = Clock::now();
    std::string auditd;
    if (const std::string why = cannot_run(auditd); !why.empty()) {
        WARN(k_skip << why);
        return;
    }
    if (!have_tools(auditd)) {
        return;
    }
    MachineLock lock;
    if (!lock.acquire(k_lock_wait_s)) {
        WARN(k_skip << "another run of this test held the machine lock for " << k_lock_wait_s << " s");
        return;
    }
    const AuditState before = audit_state();
    if (const std::string why = not_ours(before); !why.empty()) {
        WARN(k_skip << why);
        return;
    }

    const std::string dir = test::temp_dir();
    REQUIRE(!dir.empty());
    INFO("work directory (kept when the test fails, or with VIRTDENY_INTEGRATION_KEEP=1): " << dir);
    for (const char* sub : {"/etc", "/etc/plugins.d", "/libexec", "/log", "/var-log-virtdeny", "/out"}) {
        fs::create_directories(dir + sub);
    }
    fs::permissions(dir + "/log", fs::perms::owner_all);
    const std::string virtdeny = fs::canonical(test::binary()).string();
    const std::string log = dir + "/log/audit.log";
    const std::string audisp_out = dir + "/var-log-virtdeny/audisp.jsonl";
    const std::string file_out = dir + "/out/file.jsonl";
    const std::string netlink_out = dir + "/out/netlink.jsonl";
    const std::string tail_out = dir + "/out/file-from-end.jsonl";

    // dist/'s plugin config and wrapper, pointed at this build and this folder
    std::string problem;
    const std::string wrapper = from_dist(
        "libexec/virtdeny-audisp", {{"/usr/bin/virtdeny", virtdeny}, {"/var/log/virtdeny", dir + "/var-log-virtdeny"}},
        problem);
    const std::string plugin = from_dist("audit/plugins.d/virtdeny.conf",
                                         {{"active = no", "active = yes"},
                                          {"path = /usr/libexec/virtdeny-audisp", "path = " + dir + "/libexec/virtdeny-audisp"}},
                                         problem);
    INFO(problem);
    REQUIRE(problem.empty());
    const auto rw_r = fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read;
    write_private(dir + "/libexec/virtdeny-audisp", wrapper,
                  fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);  // auditd wants 0750
    write_private(dir + "/etc/plugins.d/virtdeny.conf", plugin, rw_r | fs::perms::others_read);  // as the .deb has it
    write_private(dir + "/etc/auditd.conf", auditd_conf(dir), rw_r);

    bool passed = false;  // everything below held: the work directory is removed
    {
        // Destroyed in the reverse order: auditd (SIGTERM: it unregisters, signals its plugin),
        // the plugin (our child once auditd is gone), the followers, and last the kernel's
        // audit state put back as it was, however this block is left.
        struct Restore
        {
            const AuditState& before;
            ~Restore()
            {
                for (const auto& a : restore_audit_state(before)) {
                    std::printf("integration: restored: %s\n", a.c_str());
                }
            }
        } restore{before};
        if (before.field("rate_limit") != "0") {
            // a host's rate limit would drop our burst (put back afterwards)
            test::run(test::shell_quote(g_auditctl) + " -r 0");
        }
        Child file_follow;
        Child netlink_follow;
        Child tail_follow;
        pid_t plugin_pid = -1;
        struct Reap
        {
            pid_t& pid;
            ~Reap()
            {
                const bool ended = pid <= 0 || wait_until([this] { return ::waitpid(pid, nullptr, WNOHANG) != 0; }, 5000, 20);
                if (!ended) {
                    ::kill(pid, SIGKILL);
                    ::waitpid(pid, nullptr, 0);
                }
                ::prctl(PR_SET_CHILD_SUBREAPER, 0);
            }
        } reap{plugin_pid};
        ::prctl(PR_SET_CHILD_SUBREAPER, 1);
        Child daemon;

        // the followers first: the log does not exist yet; the netlink group is bound at start
        REQUIRE(file_follow.start({virtdeny, "follow", "--file", log, "--format", "json"}, file_out, file_out + ".err"));
        REQUIRE(netlink_follow.start({virtdeny, "follow", "--netlink", "--format", "json"}, netlink_out,
                                     netlink_out + ".err"));
        // both listening before auditd starts (under load a follower can take a while to get
        // there; auditd's first records are not to be raced)
        {
            const bool watching = wait_until([&] { return !file_follow.running() || inotify_watching(file_follow.pid()); }, 10000);
            INFO(test::read_file(file_out + ".err"));
            REQUIRE(watching);
            REQUIRE(file_follow.running());
        }
        bool netlink = true;
        const bool bound =
            wait_until([&] { return !netlink_follow.running() || netlink_bound(netlink_follow.pid()); }, 10000);
        if (netlink_follow.running()) {
            INFO(test::read_file(netlink_out + ".err"));
            REQUIRE(bound);
        } else {
            const std::string err = test::read_file(netlink_out + ".err");
            INFO(err);
            const bool refused = err.find("CAP_AUDIT_READ") != std::string::npos ||
                                 err.find("no kernel audit support") != std::string::npos;
            REQUIRE(refused);  // any other reason is a bug
            WARN("netlink path not tested: " << err);
            netlink = false;
        }

        REQUIRE(daemon.start({auditd, "-n", "-s", "nochange", "-c", dir + "/etc"}, dir + "/out/auditd.out",
                             dir + "/out/auditd.err", SIGTERM));
        const bool registered = wait_until(
            [&] { return !daemon.running() || audit_state().field("pid") == std::to_string(daemon.pid()); }, 10000, 100);
        {
            INFO("auditd's output: " << test::read_file(dir + "/out/auditd.out") << test::read_file(dir + "/out/auditd.err"));
            REQUIRE(daemon.running());
            REQUIRE(registered);
        }
        REQUIRE(wait_until([&] { return fs::exists(log); }, 5000));
        // auditd's one child is the plugin: dist/'s wrapper, exec'd into the built virtdeny
        REQUIRE(wait_until([&] { return children_of(daemon.pid()).size() == 1; }, 5000));
        plugin_pid = children_of(daemon.pid()).front();
        const std::string plugin_exe = "/proc/" + std::to_string(plugin_pid) + "/exe";
        REQUIRE(wait_until(
            [&] {
                std::error_code ec;
                return fs::read_symlink(plugin_exe, ec).string() == virtdeny;
            },
            5000));

        struct Path
        {
            const char* name;
            std::string out;
            bool active;
            long warmup;  // of the warm-up denials, how many it reports
        };
        std::vector<Path> paths = {{"file", file_out, true, k_warmup},
                                   {"audisp", audisp_out, true, k_warmup},
                                   {"netlink", netlink_out, netlink, k_warmup},
                                   {"file-from-end", tail_out, false, 0}};
        const std::string nonce = std::to_string(::getpid()) + "-" + std::to_string(std::time(nullptr));
        const auto inject = [&](const std::string& tag, long first, long count) {
            auto r = test::run(test::shell_quote(inject_binary()) + " send " + test::shell_quote(tag) + " " +
                               std::to_string(first) + " " + std::to_string(count));
            INFO("injector: " << r.out << r.err);
            REQUIRE(r.status == 0);
            REQUIRE(r.out == "sent " + std::to_string(count) + "\n");
        };
        const auto all_reported = [&paths](const std::string& tag, long count) {
            return [&paths, tag, count] {
                for (const auto& p : paths) {
                    if (p.active && lines_with(p.out, "/virtdeny-integration/" + tag + "/") < count) {
                        return false;
                    }
                }
                return true;
            };
        };
        const auto diagnosis = [&](const std::string& tag) {
            std::ostringstream d;
            for (const auto& p : paths) {
                d << p.name << ": " << lines_with(p.out, "/virtdeny-integration/" + tag + "/")
                  << " reported; stderr: " << tail_of(p.out + ".err", 600) << "\n";
            }
            d << "plugin's stderr: " << tail_of(dir + "/var-log-virtdeny/audisp.err", 600) << "\n";
            d << "end of audit.log: " << tail_of(log, 1200);
            return d.str();
        };

        // auditd itself listens once a record reaches its log. It writes DAEMON_START and starts
        // its plugin before it registers with the kernel, and libaudit's audit_set_pid(WAIT_YES)
        // then polls 100 ms for a reply and discards the first message that comes: an event
        // sent in that window is lost (auditd 3.0.9; the warm-up's first denial was, in 5 of 16
        // runs: netlink reported 2, the log and the plugin 1). One probe at a time until one is
        // logged; the followers count them as other denials.
        const std::string probe_tag = nonce + "-probe";
        bool logging = false;
        for (long k = 0; k < 20 && !logging; ++k) {
            inject(probe_tag, k, 1);
            logging = wait_until([&] { return lines_with(log, "/virtdeny-integration/" + probe_tag + "/") > 0; }, 1000);
        }
        {
            INFO(diagnosis(probe_tag));
            REQUIRE(logging);
        }

        // every path is listening once it has reported these
        const std::string warmup = nonce + "-warmup";
        inject(warmup, 0, k_warmup);
        {
            const bool ready = wait_until(all_reported(warmup, k_warmup), 15000);
            INFO(diagnosis(warmup));
            REQUIRE(ready);
        }

        // dist/'s systemd unit: follow --file started after auditd, from the end of the log.
        // It is listening once it reports one of these (one at a time until it does).
        REQUIRE(tail_follow.start({virtdeny, "follow", "--file", log, "--format", "json"}, tail_out, tail_out + ".err"));
        {
            const bool watching = wait_until([&] { return !tail_follow.running() || inotify_watching(tail_follow.pid()); }, 10000);
            INFO(test::read_file(tail_out + ".err"));
            REQUIRE(watching);
            REQUIRE(tail_follow.running());
        }
        paths.back().active = true;
        const std::string ready_tag = nonce + "-ready";
        bool tail_ready = false;
        for (long k = 0; k < 20 && !tail_ready; ++k) {
            inject(ready_tag, k, 1);
            tail_ready = wait_until([&] { return lines_with(tail_out, "/virtdeny-integration/" + ready_tag + "/") > 0; },
                                    1000);
        }
        {
            INFO(diagnosis(ready_tag));
            REQUIRE(tail_ready);
        }

        // two bursts; between them what an admin does: `service auditd reload` (SIGHUP: auditd
        // reads its config again and sends its plugin SIGHUP) and `service auditd rotate` (SIGUSR1)
        const std::string tag = nonce + "-main";
        const long half = k_denials / 2;
        const auto inject_started = Clock::now();
        inject(tag, 0, half);
        bool complete = wait_until(all_reported(tag, half), 30000, 100);
        const auto rotated_files = [&] {
            int n = 0;
            const std::regex rotated(R"(audit\.log\.[0-9]+)");
            for (const auto& e : fs::directory_iterator(dir + "/log")) {
                n += std::regex_match(e.path().filename().string(), rotated) ? 1 : 0;
            }
            return n;
        };
        const int rotated_by_size = rotated_files();
        const std::string plugin_err = dir + "/var-log-virtdeny/audisp.err";
        ::kill(daemon.pid(), SIGHUP);
        const bool reloaded = wait_until([&] { return lines_with(plugin_err, "reloaded") > 0; }, 10000);
        ::kill(daemon.pid(), SIGUSR1);
        const bool rotated_on_signal = wait_until([&] { return rotated_files() > rotated_by_size; }, 10000);
        // the second burst while the followers of the log and of the netlink group are stopped
        // for a moment, as a process may be under load: auditd rotates the log under the file
        // followers (twice, often), the kernel queues the records in the netlink socket
        test::RunResult second;
        std::thread injector([&] {
            second = test::run(test::shell_quote(inject_binary()) + " send " + test::shell_quote(tag) + " " +
                               std::to_string(half) + " " + std::to_string(k_denials - half));
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        const std::vector<pid_t> stalled = {file_follow.pid(), tail_follow.pid(), netlink ? netlink_follow.pid() : -1};
        for (pid_t p : stalled) {
            if (p > 0) {
                ::kill(p, SIGSTOP);
            }
        }
        const int rotated_before_stall = rotated_files();
        std::this_thread::sleep_for(std::chrono::milliseconds(k_stall_ms));
        const int rotated_in_stall = rotated_files() - rotated_before_stall;
        for (pid_t p : stalled) {
            if (p > 0) {
                ::kill(p, SIGCONT);
            }
        }
        injector.join();
        {
            INFO("injector: " << second.out << second.err);
            REQUIRE(second.status == 0);
            REQUIRE(second.out == "sent " + std::to_string(k_denials - half) + "\n");
        }
        complete = wait_until(all_reported(tag, k_denials), 30000, 100) && complete;
        const double drain_s = std::chrono::duration<double>(Clock::now() - inject_started).count();

        // auditd on SIGTERM: SIGTERM to the plugin, 3 s for it to finish, DAEMON_END, unregisters
        const int auditd_status = daemon.stop(SIGTERM, 20000);
        int plugin_status = -1;
        {
            int status = 0;
            if (wait_until([&] { return ::waitpid(plugin_pid, &status, WNOHANG) == plugin_pid; }, 10000, 20)) {
                plugin_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                plugin_pid = -1;
            }
        }
        // what auditd wrote last reaches the file follower before it stops (its SIGTERM reads
        // what is there, but give inotify a moment)
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        const int file_status = file_follow.stop(SIGTERM, 5000);
        const int netlink_status = netlink ? netlink_follow.stop(SIGTERM, 5000) : 0;
        const int tail_status = tail_follow.stop(SIGTERM, 5000);

        INFO(diagnosis(tag));
        CHECK(complete);
        CHECK(reloaded);  // the plugin got auditd's SIGHUP (virtdeny: "rules and domain XML reloaded")
        CHECK(rotated_on_signal);
        CHECK(auditd_status == 0);
        CHECK(plugin_status == 0);  // virtdeny ends with 0 on auditd's SIGTERM
        CHECK(file_status == 0);
        CHECK(netlink_status == 0);
        CHECK(tail_status == 0);
        bool ok = complete && reloaded && rotated_on_signal && auditd_status == 0 && plugin_status == 0 &&
                  file_status == 0 && netlink_status == 0 && tail_status == 0;

        // auditd rotated its own log (audit.log.1, .2, ...) while the file follower read it
        const int rotations = rotated_files();
        std::printf("integration: %ld denials injected in two bursts, every path done %.2f s after the first; "
                    "auditd rotated its log %d times (%d by size before its SIGUSR1, %d while the followers were "
                    "stopped)\n",
                    k_denials, drain_s, rotations, rotated_by_size, rotated_in_stall);
        CHECK(rotated_by_size >= 1);
        CHECK(rotations >= 3);
        ok = ok && rotated_by_size >= 1 && rotations >= 3;

        for (const auto& p : paths) {
            if (!p.active) {
                std::printf("integration: %s not tested (see the warning)\n", p.name);
                continue;
            }
            const Tally t = tally(p.out, tag);
            const PathResult r = compare(t, 0, k_denials);
            const Tally tw = tally(p.out, warmup);
            const PathResult w = compare(tw, 0, k_warmup);
            std::printf("integration: %s injected=%ld reported=%ld (missing %ld, duplicated %ld, wrong fields %ld)\n",
                        p.name, r.injected, r.reported, r.missing, r.duplicated, r.wrong);
            INFO(p.name << ": first object with wrong fields: " << t.first_wrong);
            CHECK(r.reported == k_denials);
            CHECK(r.missing == 0);
            CHECK(r.duplicated == 0);
            CHECK(r.wrong == 0);
            CHECK(t.malformed == 0);
            CHECK(w.reported == p.warmup);  // file-from-end: none, they were there before it started
            CHECK(w.duplicated + w.wrong == 0);
            ok = ok && r.reported == k_denials && r.missing == 0 && r.duplicated == 0 && r.wrong == 0 &&
                 t.malformed == 0 && w.reported == p.warmup && w.duplicated + w.wrong == 0;
        }
        std::fflush(stdout);
        passed = ok;
    }  // auditd, the plugin and the followers are gone here, the audit state put back

    // the kernel's audit state as we found it (its queue may take a moment to drain)
    AuditState after;
    wait_until(
        [&] {
            after = audit_state();
            return after.status == before.status && after.rules == before.rules;
        },
        3000, 100);
    INFO("before:\n" << before.status << before.rules << "after:\n" << after.status << after.rules);
    CHECK(after.status == before.status);
    CHECK(after.rules == before.rules);
    const bool same = after.status == before.status && after.rules == before.rules;
    std::printf("integration: auditctl -s and auditctl -l %s before and after\n", same ? "equal" : "DIFFER");
    std::printf("integration: took %.1f s\n", std::chrono::duration<double>(Clock::now() - started).count());
    std::fflush(stdout);
    if (passed && same && !std::getenv("VIRTDENY_INTEGRATION_KEEP")) {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
}
