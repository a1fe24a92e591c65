// Helpers of the hardening tests: the real binary fed through a pipe from a generator (the
// input is made on the fly, never written to disk), its peak memory measured, and how big
// the streams are in this build.
#pragma once

#include "../support.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace virtdeny::test {

#if defined(__SANITIZE_ADDRESS__)
#define VIRTDENY_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VIRTDENY_TEST_SANITIZED 1
#endif
#endif

// True in a sanitizer build: several times slower and with ASan's own memory (shadow,
// quarantine), so the stream tests run smaller streams and check a looser bound there.
inline bool sanitized_build()
{
#ifdef VIRTDENY_TEST_SANITIZED
    return true;
#else
    return false;
#endif
}

inline bool optimized_build()
{
#ifdef NDEBUG
    return !sanitized_build();
#else
    return false;
#endif
}

// Stream size in MiB: VIRTDENY_HARDENING_STREAM_MB, else full_mb in an optimized build and
// small_mb otherwise.
inline std::uint64_t stream_mb(std::uint64_t full_mb, std::uint64_t small_mb)
{
    if (const char* v = std::getenv("VIRTDENY_HARDENING_STREAM_MB")) {
        const auto n = std::strtoull(v, nullptr, 10);
        if (n > 0) {
            return n;
        }
    }
    return optimized_build() ? full_mb : small_mb;
}

// kB of a "Name:   N kB" line of /proc/PID/status, 0 when unreadable.
inline long proc_status_kb(pid_t pid, const char* name)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    const std::string key = std::string(name) + ":";
    while (std::getline(in, line)) {
        if (line.compare(0, key.size(), key) == 0) {
            return std::strtol(line.c_str() + key.size(), nullptr, 10);
        }
    }
    return 0;
}

struct StreamRun
{
    int status = -1;
    std::string out;
    std::string err;
    std::uint64_t bytes_written = 0;
    double seconds = 0;
    // peak RSS of the child's own image (VmHWM of /proc/PID/status, read while it runs;
    // exec starts a fresh address space, so nothing of the test process is counted)
    long vm_hwm_kb = 0;
    // wait4's ru_maxrss: an upper bound that also counts what the forked child shared with
    // this process before exec (parent_rss_kb at the fork)
    long ru_maxrss_kb = 0;
    long parent_rss_kb = 0;
};

// Runs the binary with args; its stdin is a pipe fed by next_block (called until it
// returns false; each call appends to the buffer it is given). stdout/stderr go to files.
inline StreamRun run_streaming(const std::vector<std::string>& args,
                               const std::function<bool(std::string&)>& next_block)
{
    StreamRun r;
    const std::string dir = temp_dir();
    const std::string out_path = dir + "/stdout";
    const std::string err_path = dir + "/stderr";
    int in_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) != 0) {
        return r;
    }
    std::vector<std::string> argv_s = {binary()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    // the environment with NO_COLOR=1, made before fork (only exec-safe calls after it)
    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e) {
        if (std::strncmp(*e, "NO_COLOR=", 9) != 0) {
            env_s.emplace_back(*e);
        }
    }
    env_s.emplace_back("NO_COLOR=1");
    std::vector<char*> envp;
    for (auto& e : env_s) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    r.parent_rss_kb = proc_status_kb(::getpid(), "VmRSS");
    const auto started = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(in_pipe[0], 0);
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    ::close(in_pipe[0]);
    auto sample = [&] {
        const long hwm = proc_status_kb(pid, "VmHWM");
        if (hwm > r.vm_hwm_kb) {
            r.vm_hwm_kb = hwm;
        }
    };
    struct sigaction ignore{};
    struct sigaction old{};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &old);
    std::string block;
    bool open = pid > 0;
    std::uint64_t blocks = 0;
    while (open && next_block(block)) {
        std::size_t done = 0;
        while (done < block.size()) {
            const ssize_t n = ::write(in_pipe[1], block.data() + done, block.size() - done);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                open = false;  // the child went away
                break;
            }
            done += static_cast<std::size_t>(n);
        }
        r.bytes_written += done;
        block.clear();
        if (++blocks % 16 == 0) {
            sample();
        }
    }
    sample();
    ::close(in_pipe[1]);
    int status = 0;
    struct rusage ru{};
    for (;;) {
        const pid_t got = ::wait4(pid, &status, WNOHANG, &ru);
        if (got == pid || got < 0) {
            break;
        }
        sample();
        ::usleep(2000);
    }
    ::sigaction(SIGPIPE, &old, nullptr);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.ru_maxrss_kb = ru.ru_maxrss;
    r.out = read_file(out_path);
    r.err = read_file(err_path);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return r;
}

// The value of "key": N in a JSON text (the summary line), -1 when absent.
inline long long json_number(const std::string& text, const std::string& key)
{
    const std::string k = "\"" + key + "\":";
    const std::size_t at = text.rfind(k);
    if (at == std::string::npos) {
        return -1;
    }
    return std::strtoll(text.c_str() + at + k.size(), nullptr, 10);
}

} // namespace virtdeny::test
