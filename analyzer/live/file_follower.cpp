#include <analyzer/live/file_follower.hpp>

#include <analyzer/ingest/event_assembler.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

namespace virtdeny::live {

namespace {

constexpr std::size_t k_read_block = 1 << 18;

void keep_tail(std::string& tail, const char* data, std::size_t n, std::size_t keep)
{
    if (n >= keep) {
        tail.assign(data + n - keep, keep);
        return;
    }
    tail.append(data, n);
    if (tail.size() > keep) {
        tail.erase(0, tail.size() - keep);
    }
}

bool read_exact_at(int fd, char* dst, std::size_t n, std::uint64_t at)
{
    std::size_t done = 0;
    while (done < n) {
        const ssize_t got = ::pread(fd, dst + done, n - done, static_cast<off_t>(at + done));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return false;
        }
        done += static_cast<std::size_t>(got);
    }
    return true;
}

} // namespace

FileFollower::FileFollower(std::string path, bool from_start, bool use_inotify)
    : m_path(std::move(path)), m_from_start(from_start), m_want_inotify(use_inotify)
{
    const std::size_t slash = m_path.rfind('/');
    if (slash == std::string::npos) {
        m_dir = ".";
        m_base = m_path;
    } else {
        m_dir = slash == 0 ? "/" : m_path.substr(0, slash);
        m_base = m_path.substr(slash + 1);
    }
    if (m_want_inotify) {
        m_inotify = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        add_watch();
    }
    for (const auto& [name, st] : siblings()) {
        m_known.emplace(st.st_dev, st.st_ino);  // old rotations are history, not news
    }
    try_open();
    m_first_open = false;
}

std::vector<std::pair<std::string, struct stat>> FileFollower::siblings() const
{
    std::vector<std::pair<std::string, struct stat>> out;
    DIR* dir = ::opendir(m_dir.c_str());
    if (!dir) {
        return out;
    }
    while (const dirent* e = ::readdir(dir)) {
        const std::string name = e->d_name;
        if (name == m_base || name.compare(0, m_base.size(), m_base) != 0) {
            continue;
        }
        struct stat st{};
        const std::string full = m_dir + "/" + name;
        if (::stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
            out.emplace_back(full, st);
        }
    }
    ::closedir(dir);
    return out;
}

void FileFollower::remember(const Open& f)
{
    if (f.fd < 0) {
        return;
    }
    m_known.emplace(f.dev, f.ino);
    if (!f.head.empty()) {
        m_heads.insert(f.head);
    }
}

void FileFollower::read_skipped(const LineHandler& handler)
{
    auto found = siblings();
    std::vector<std::pair<std::string, struct stat>> skipped;
    for (auto& [name, st] : found) {
        if (m_known.count({st.st_dev, st.st_ino}) != 0 || name.size() < 3 ||
            name.compare(name.size() - 3, 3, ".gz") == 0) {
            continue;
        }
        skipped.emplace_back(name, st);
    }
    std::sort(skipped.begin(), skipped.end(), [](const auto& a, const auto& b) {
        if (a.second.st_mtim.tv_sec != b.second.st_mtim.tv_sec) {
            return a.second.st_mtim.tv_sec < b.second.st_mtim.tv_sec;
        }
        if (a.second.st_mtim.tv_nsec != b.second.st_mtim.tv_nsec) {
            return a.second.st_mtim.tv_nsec < b.second.st_mtim.tv_nsec;
        }
        return a.first > b.first;  // audit.log.2 before audit.log.1
    });
    for (auto& [name, st] : skipped) {
        Open f;
        f.fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (f.fd < 0) {
            continue;
        }
        f.dev = st.st_dev;
        f.ino = st.st_ino;
        std::string head(k_tail_check, '\0');
        const ssize_t got = ::pread(f.fd, head.data(), head.size(), 0);
        head.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
        const bool copy = !head.empty() && m_heads.count(head) != 0;
        m_known.emplace(f.dev, f.ino);
        if (!copy) {
            drain(f, handler);
            f.splitter.flush(handler);
        }
        close_file(f);
    }
}

FileFollower::~FileFollower()
{
    close_file(m_current);
    for (auto& r : m_retired) {
        close_file(r);
    }
    if (m_inotify >= 0) {
        ::close(m_inotify);
    }
}

void FileFollower::add_watch()
{
    if (m_inotify < 0 || m_watch >= 0) {
        return;
    }
    m_watch = ::inotify_add_watch(m_inotify, m_dir.c_str(),
                                  IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB |
                                      IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF);
}

int FileFollower::timeout_ms() const
{
    if (m_inotify < 0 || m_watch < 0) {
        return k_poll_ms;
    }
    if (!m_retired.empty()) {
        return k_poll_ms;
    }
    return k_idle_check_ms;
}

void FileFollower::drain_inotify()
{
    if (m_inotify < 0) {
        return;
    }
    alignas(inotify_event) char buf[16384];
    for (;;) {
        const ssize_t got = ::read(m_inotify, buf, sizeof buf);
        if (got <= 0) {
            break;
        }
        std::size_t pos = 0;
        while (pos + sizeof(inotify_event) <= static_cast<std::size_t>(got)) {
            inotify_event ev;
            std::memcpy(&ev, buf + pos, sizeof ev);
            if ((ev.mask & IN_IGNORED) && ev.wd == m_watch) {
                m_watch = -1;  // the directory went away; watched again when it is back
            }
            pos += sizeof(inotify_event) + ev.len;
        }
    }
}

void FileFollower::try_open()
{
    if (m_current.fd >= 0) {
        return;
    }
    const int fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return;
    }
    struct stat st{};
    if (::fstat(fd, &st) != 0) {
        ::close(fd);
        return;
    }
    m_current = Open{};
    m_current.fd = fd;
    m_current.dev = st.st_dev;
    m_current.ino = st.st_ino;
    m_known.emplace(st.st_dev, st.st_ino);
    if (m_first_open && !m_from_start) {
        // start at the end, on a line boundary as far as we can tell
        const off_t end = ::lseek(fd, 0, SEEK_END);
        m_current.offset = end > 0 ? static_cast<std::uint64_t>(end) : 0;
        const std::size_t n = std::min<std::uint64_t>(m_current.offset, k_tail_check);
        std::string tail(n, '\0');
        if (n > 0 && read_exact_at(fd, tail.data(), n, m_current.offset - n)) {
            m_current.tail = tail;
        }
    }
}

void FileFollower::close_file(Open& f)
{
    if (f.fd >= 0) {
        ::close(f.fd);
        f.fd = -1;
    }
}

bool FileFollower::drain(Open& f, const LineHandler& handler)
{
    if (f.fd < 0) {
        return false;
    }
    static thread_local std::vector<char> buf(k_read_block);
    bool any = false;
    for (;;) {
        const ssize_t got = ::pread(f.fd, buf.data(), buf.size(), static_cast<off_t>(f.offset));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        const auto n = static_cast<std::size_t>(got);
        if (f.head.size() < k_tail_check && f.offset == f.head.size()) {
            f.head.append(buf.data(), std::min(n, k_tail_check - f.head.size()));
        }
        f.offset += n;
        keep_tail(f.tail, buf.data(), n, k_tail_check);
        f.splitter.feed(buf.data(), n, handler);
        any = true;
    }
    return any;
}

bool FileFollower::rewritten(Open& f)
{
    struct stat st{};
    if (::fstat(f.fd, &st) != 0) {
        return false;
    }
    if (static_cast<std::uint64_t>(st.st_size) < f.offset) {
        return true;
    }
    if (f.tail.empty()) {
        return false;
    }
    // truncated and already written past our offset again: the bytes before it changed
    std::string now(f.tail.size(), '\0');
    if (!read_exact_at(f.fd, now.data(), now.size(), f.offset - f.tail.size())) {
        return true;
    }
    return now != f.tail;
}

void FileFollower::recover_from_copy(Open& f, const LineHandler& handler)
{
    // copytruncate: what was written after our last read and before the truncation is in the
    // copy (audit.log.1, audit.log-20240314, ...), which starts with what we have read
    if (f.tail.empty()) {
        return;
    }
    DIR* dir = ::opendir(m_dir.c_str());
    if (!dir) {
        return;
    }
    std::string best;
    while (const dirent* e = ::readdir(dir)) {
        const std::string name = e->d_name;
        if (name == m_base || name.compare(0, m_base.size(), m_base) != 0) {
            continue;
        }
        const std::string full = m_dir + "/" + name;
        const int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
            continue;
        }
        struct stat st{};
        bool match = false;
        if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) >= f.offset &&
            !(st.st_ino == f.ino && st.st_dev == f.dev)) {
            // the copy has our last bytes at our offset AND starts as our file did: the tail
            // alone can match an older rotated file whose records have the same layout there
            std::string bytes(f.tail.size(), '\0');
            std::string head(f.head.size(), '\0');
            match = !f.head.empty() && read_exact_at(fd, bytes.data(), bytes.size(), f.offset - f.tail.size()) &&
                    bytes == f.tail && read_exact_at(fd, head.data(), head.size(), 0) && head == f.head;
        }
        if (match) {
            m_known.emplace(st.st_dev, st.st_ino);
            Open copy;
            copy.fd = fd;
            copy.offset = f.offset;
            copy.splitter = f.splitter;  // the copy continues our partial line
            drain(copy, handler);
            copy.splitter.flush(handler);
            close_file(copy);
            f.splitter.clear();
            break;
        }
        ::close(fd);
    }
    ::closedir(dir);
}

bool FileFollower::read_available(const LineHandler& handler)
{
    drain_inotify();
    add_watch();
    if (m_current.fd < 0) {
        try_open();
    }
    if (m_current.fd >= 0) {
        if (rewritten(m_current)) {
            ++m_truncations;
            remember(m_current);
            recover_from_copy(m_current, handler);
            m_current.splitter.clear();
            m_current.offset = 0;
            m_current.tail.clear();
            m_current.head.clear();
        }
        drain(m_current, handler);
        struct stat st{};
        if (::stat(m_path.c_str(), &st) == 0 && (st.st_ino != m_current.ino || st.st_dev != m_current.dev)) {
            // rotated by rename (or deleted and created): finish the old file, then the new
            drain(m_current, handler);
            remember(m_current);
            m_current.retire_at = ingest::wall_clock_ms() + k_retire_ms;
            m_retired.push_back(std::move(m_current));
            m_current = Open{};
            ++m_rotations;
            try_open();
            if (m_current.fd >= 0) {
                m_known.emplace(m_current.dev, m_current.ino);
            }
            read_skipped(handler);
            drain(m_current, handler);
        }
    }
    const std::int64_t now = ingest::wall_clock_ms();
    for (std::size_t i = 0; i < m_retired.size();) {
        Open& r = m_retired[i];
        drain(r, handler);
        if (now >= r.retire_at) {
            r.splitter.flush(handler);
            close_file(r);
            m_retired.erase(m_retired.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
            ++i;
        }
    }
    return true;
}

} // namespace virtdeny::live
