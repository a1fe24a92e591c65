// Runs `virtdeny follow ...` as a child process with its output read by a thread, each line
// stamped with the time it arrived (for the live tests).
#pragma once

#include "../support.hpp"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <sys/wait.h>
#include <unistd.h>
#include <string>
#include <thread>
#include <vector>

namespace virtdeny::test {

// How much slower the code runs on purpose (VIRTDENY_TEST_TIME_SCALE; scripts/test-sanitize
// sets 10 for ASan + UBSan): the waits for a follower to be ready scale with it.
inline std::chrono::milliseconds scaled_ms(long ms)
{
    const char* v = std::getenv("VIRTDENY_TEST_TIME_SCALE");
    const double scale = v ? std::atof(v) : 1.0;
    return std::chrono::milliseconds(static_cast<long>(static_cast<double>(ms) * (scale > 1.0 ? scale : 1.0)));
}

using Clock = std::chrono::steady_clock;

// The number after "key": in a line of follow's JSON (0 when it has none).
inline std::uint64_t json_number(const std::string& line, const std::string& key)
{
    const std::string needle = "\"" + key + "\":";
    const std::size_t at = line.find(needle);
    if (at == std::string::npos) {
        return 0;
    }
    return std::strtoull(line.c_str() + at + needle.size(), nullptr, 10);
}

struct OutputLine
{
    std::string text;
    Clock::time_point at;
};

class FollowProcess
{
public:
    // args: after the program name. stdin_pipe: the child's stdin is a pipe the test writes.
    explicit FollowProcess(const std::vector<std::string>& args, bool stdin_pipe = false);
    ~FollowProcess();
    FollowProcess(const FollowProcess&) = delete;
    FollowProcess& operator=(const FollowProcess&) = delete;

    void write_stdin(const std::string& data);
    void close_stdin();
    void signal(int signo);
    // Waits for the child to exit (up to timeout_ms; then kills it): its exit status, -1 if killed.
    int wait(int timeout_ms);
    // Waits until at least n lines arrived or timeout_ms passed; the lines so far.
    std::size_t wait_lines(std::size_t n, int timeout_ms);
    std::vector<OutputLine> lines();
    std::string err() const;
    int pid() const { return m_pid; }

private:
    void read_loop();

    int m_pid = -1;
    int m_out = -1;
    int m_in = -1;
    std::string m_err_path;
    std::thread m_reader;
    mutable std::mutex m_mutex;
    std::vector<OutputLine> m_lines;
    bool m_exited = false;
    int m_status = -1;
};

inline FollowProcess::FollowProcess(const std::vector<std::string>& args, bool stdin_pipe)
{
    m_err_path = temp_dir() + "/stderr";
    int out[2];
    int in[2] = {-1, -1};
    if (::pipe2(out, O_CLOEXEC) != 0 || (stdin_pipe && ::pipe2(in, O_CLOEXEC) != 0)) {
        return;
    }
    const std::string bin = binary();
    std::vector<std::string> argv_s{"virtdeny"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    m_pid = ::fork();
    if (m_pid == 0) {
        ::dup2(out[1], STDOUT_FILENO);
        const int err = ::open(m_err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(err, STDERR_FILENO);
        if (stdin_pipe) {
            ::dup2(in[0], STDIN_FILENO);
        } else {
            const int null = ::open("/dev/null", O_RDONLY);
            ::dup2(null, STDIN_FILENO);
        }
        ::setenv("NO_COLOR", "1", 1);
        ::execv(bin.c_str(), argv.data());
        ::_exit(127);
    }
    ::close(out[1]);
    m_out = out[0];
    if (stdin_pipe) {
        ::close(in[0]);
        m_in = in[1];
    }
    m_reader = std::thread([this] { read_loop(); });
}

inline FollowProcess::~FollowProcess()
{
    if (m_pid > 0 && !m_exited) {
        ::kill(m_pid, SIGKILL);
        int status = 0;
        ::waitpid(m_pid, &status, 0);
    }
    close_stdin();
    if (m_reader.joinable()) {
        m_reader.join();
    }
    if (m_out >= 0) {
        ::close(m_out);
    }
}

inline void FollowProcess::read_loop()
{
    std::string partial;
    char buf[65536];
    for (;;) {
        const ssize_t got = ::read(m_out, buf, sizeof buf);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        const auto now = Clock::now();
        std::lock_guard<std::mutex> lock(m_mutex);
        std::size_t pos = 0;
        const auto n = static_cast<std::size_t>(got);
        while (pos < n) {
            const void* nl = std::memchr(buf + pos, '\n', n - pos);
            if (!nl) {
                partial.append(buf + pos, n - pos);
                break;
            }
            const auto end = static_cast<std::size_t>(static_cast<const char*>(nl) - buf);
            partial.append(buf + pos, end - pos);
            m_lines.push_back(OutputLine{std::move(partial), now});
            partial.clear();
            pos = end + 1;
        }
    }
}

inline void FollowProcess::write_stdin(const std::string& data)
{
    std::size_t done = 0;
    while (m_in >= 0 && done < data.size()) {
        const ssize_t got = ::write(m_in, data.data() + done, data.size() - done);
        if (got <= 0) {
            break;
        }
        done += static_cast<std::size_t>(got);
    }
}

inline void FollowProcess::close_stdin()
{
    if (m_in >= 0) {
        ::close(m_in);
        m_in = -1;
    }
}

inline void FollowProcess::signal(int signo)
{
    if (m_pid > 0 && !m_exited) {
        ::kill(m_pid, signo);
    }
}

inline int FollowProcess::wait(int timeout_ms)
{
    if (m_pid <= 0) {
        return -1;
    }
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!m_exited) {
        int status = 0;
        const int r = ::waitpid(m_pid, &status, WNOHANG);
        if (r == m_pid) {
            m_exited = true;
            m_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            break;
        }
        if (Clock::now() > deadline) {
            ::kill(m_pid, SIGKILL);
            ::waitpid(m_pid, &status, 0);
            m_exited = true;
            m_status = -1;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (m_reader.joinable()) {
        m_reader.join();
    }
    return m_status;
}

inline std::size_t FollowProcess::wait_lines(std::size_t n, int timeout_ms)
{
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        std::size_t have = 0;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            have = m_lines.size();
        }
        if (have >= n || Clock::now() > deadline) {
            return have;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

inline std::vector<OutputLine> FollowProcess::lines()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_lines;
}

inline std::string FollowProcess::err() const
{
    return read_file(m_err_path);
}

} // namespace virtdeny::test
