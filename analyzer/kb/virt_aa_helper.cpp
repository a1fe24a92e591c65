#include <analyzer/kb/virt_aa_helper.hpp>

#include <analyzer/util/text.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace virtdeny::kb {

namespace {

// Runs exe with args, stdin from file, and returns stdout+stderr; nullopt on failure or timeout.
std::optional<std::string> run_with_input(const std::string& exe, const std::vector<std::string>& args,
                                          const std::string& input_file)
{
    const int in = ::open(input_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        return std::nullopt;
    }
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
        ::close(in);
        return std::nullopt;
    }
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(exe.c_str()));
    for (const std::string& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(in);
        ::close(out[0]);
        ::close(out[1]);
        return std::nullopt;
    }
    if (pid == 0) {
        ::dup2(in, 0);
        ::dup2(out[1], 1);
        ::dup2(out[1], 2);
        ::execv(exe.c_str(), argv.data());
        ::_exit(127);
    }
    ::close(in);
    ::close(out[1]);
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    bool timed_out = false;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{out[0], POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            continue;
        }
        char buf[4096];
        const ssize_t n = ::read(out[0], buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > (1u << 20)) {
            timed_out = true;
            break;
        }
    }
    ::close(out[0]);
    if (timed_out) {
        ::kill(pid, SIGKILL);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return std::nullopt;
    }
    return text;
}

} // namespace

std::vector<HelperRule> parse_helper_rules(const std::string& output)
{
    std::vector<HelperRule> rules;
    std::size_t pos = 0;
    while (pos < output.size()) {
        std::size_t nl = output.find('\n', pos);
        if (nl == std::string::npos) {
            nl = output.size();
        }
        std::string_view line = util::trim(std::string_view(output).substr(pos, nl - pos));
        pos = nl + 1;
        if (line.empty() || line.back() != ',' || (line.front() != '"' && line.front() != '/')) {
            continue;
        }
        HelperRule rule;
        rule.text = std::string(line);
        std::size_t end = 0;
        if (line.front() == '"') {
            end = line.find('"', 1);
            if (end == std::string_view::npos) {
                continue;
            }
            rule.path = std::string(line.substr(1, end - 1));
            ++end;
        } else {
            end = line.find(' ');
            if (end == std::string_view::npos) {
                continue;
            }
            rule.path = std::string(line.substr(0, end));
        }
        rule.perms = std::string(util::trim(line.substr(end, line.size() - 1 - end)));
        rules.push_back(std::move(rule));
    }
    return rules;
}

std::string VirtAaHelper::find()
{
    if (const char* env = std::getenv("VIRTDENY_VIRT_AA_HELPER")) {
        return ::access(env, X_OK) == 0 ? std::string(env) : std::string();
    }
    const std::string path = "/usr/lib/libvirt/virt-aa-helper";
    return ::access(path.c_str(), X_OK) == 0 ? path : std::string();
}

const std::vector<HelperRule>* VirtAaHelper::rules_for(const correlate::DomainInfo& domain) const
{
    if (m_exe.empty() || domain.file.empty() || !util::is_uuid(domain.uuid)) {
        return nullptr;
    }
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_cache.find(domain.file);
    if (it == m_cache.end()) {
        std::optional<std::vector<HelperRule>> rules;
        if (auto out = run_with_input(m_exe, {"-d", "-r", "-u", "libvirt-" + domain.uuid}, domain.file)) {
            rules = parse_helper_rules(*out);
        }
        it = m_cache.emplace(domain.file, std::move(rules)).first;
    }
    return it->second ? &*it->second : nullptr;
}

} // namespace virtdeny::kb
