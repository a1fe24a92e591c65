#include <analyzer/live/journal_follower.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace virtdeny::live {

JournalFollower::JournalFollower(std::unique_ptr<ingest::JournalReader> reader) : m_reader(std::move(reader))
{
    m_reader->track_cursor(true);
    m_fd = m_reader->fd();  // sets up sd-journal's inotify watches: before the first read
}

int JournalFollower::timeout_ms() const
{
    if (m_more) {
        return 0;
    }
    return m_reader->timeout_ms();
}

bool JournalFollower::read_available(const LineHandler& handler)
{
    m_reader->process();
    std::string line;
    std::size_t n = 0;
    m_more = false;
    while (m_reader->next(line)) {
        handler(line);
        if (++n >= k_batch) {
            m_more = true;
            break;
        }
    }
    return true;  // a journal never ends
}

bool load_cursor(const std::string& path, std::string& cursor, bool& exists, std::string& error)
{
    cursor.clear();
    exists = false;
    std::FILE* f = std::fopen(path.c_str(), "re");
    if (!f) {
        if (errno == ENOENT) {
            return true;
        }
        error = path + ": " + std::strerror(errno);
        return false;
    }
    exists = true;
    char buf[4096];
    const std::size_t got = std::fread(buf, 1, sizeof buf, f);
    std::fclose(f);
    std::string text(buf, got);
    if (text.empty() || text.back() != '\n' || got == sizeof buf) {
        error = path + ": not a cursor written by virtdeny follow --journal";
        return false;
    }
    text.pop_back();
    for (unsigned char c : text) {
        if (c < 0x20 || c >= 0x7f) {
            error = path + ": not a cursor written by virtdeny follow --journal";
            return false;
        }
    }
    cursor = text;
    return true;
}

bool save_cursor(const std::string& path, const std::string& cursor, std::string& error)
{
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        error = tmp + ": " + std::strerror(errno);
        return false;
    }
    const std::string text = cursor + "\n";
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    if (!ok) {
        error = tmp + ": " + std::strerror(errno);
    }
    if (ok && ::fsync(fd) != 0) {
        error = tmp + ": " + std::strerror(errno);
        ok = false;
    }
    ::close(fd);
    if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
        error = path + ": " + std::strerror(errno);
        ok = false;
    }
    if (!ok) {
        ::unlink(tmp.c_str());
    }
    return ok;
}

} // namespace virtdeny::live
