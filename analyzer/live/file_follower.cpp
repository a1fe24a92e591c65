#include <analyzer/live/file_follower.hpp>

#include <analyzer/ingest/event_assembler.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
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
        // old rotations are history, not news
        std::string head;
        const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd >= 0) {
            read_head(fd, head);
            ::close(fd);
        }
        know(st.st_dev, st.st_ino, head);
    }
    siblings_changed();  // what the directory holds now is known
    try_open();
    m_first_open = false;
    m_lost_track = m_current.fd < 0;  // what is made from now on is news, rotated or not
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

bool FileFollower::read_head(int fd, std::string& head) const
{
    head.assign(k_tail_check, '\0');
    const ssize_t got = ::pread(fd, head.data(), head.size(), 0);
    head.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
    return got >= 0;
}

void FileFollower::know(dev_t dev, ino_t ino, const std::string& head)
{
    m_known[{dev, ino}] = head;
}

bool FileFollower::known(const struct stat& st, const std::string& head) const
{
    const auto it = m_known.find({st.st_dev, st.st_ino});
    // the same file has grown since (or was empty): what we saw is where it starts
    return it != m_known.end() && head.compare(0, it->second.size(), it->second) == 0;
}

void FileFollower::remember(const Open& f)
{
    if (f.fd < 0) {
        return;
    }
    know(f.dev, f.ino, f.head);
    if (!f.head.empty() && std::find(m_heads.begin(), m_heads.end(), f.head) == m_heads.end()) {
        m_heads.push_back(f.head);
        if (m_heads.size() > k_heads_kept) {
            m_heads.pop_front();
        }
    }
}

void FileFollower::catch_up(const LineHandler& handler)
{
    auto held = read_skipped(handler);
    drain(m_current, handler);
    for (Open& copy : held) {
        if (m_current.head.compare(0, copy.head.size(), copy.head) != 0) {
            drain(copy, handler);  // truncated before we read it: all of the copy is unread
            copy.splitter.flush(handler);
        }  // (else the current file gave us all of it; a later truncation is recovered from it)
        close_file(copy);
    }
}

std::vector<FileFollower::Open> FileFollower::read_skipped(const LineHandler& handler)
{
    // The current file's first bytes as we read them (or, not read yet, as it starts now): a
    // sibling that starts so is its copy, not news. What we have not read of a file we read
    // comes from that copy once its truncation is seen (recover_from_copy), even a truncation
    // between our check for one and this look. Of a file we have read nothing of, the copy is
    // held back until we have (catch_up): truncated in between, it gives us all of the copy.
    const bool unread = m_current.head.empty();
    std::string current_head;
    if (m_current.fd >= 0) {
        read_head(m_current.fd, current_head);
    }
    if (!unread) {
        current_head = m_current.head;
    }
    std::vector<Open> held;
    // again while a pass found something: a rotation during one renames files under it
    for (int pass = 0; pass < 4; ++pass) {
        auto found = siblings();
        if (pass == 0) {
            forget_gone(found);
        }
        std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
            if (a.second.st_mtim.tv_sec != b.second.st_mtim.tv_sec) {
                return a.second.st_mtim.tv_sec < b.second.st_mtim.tv_sec;
            }
            if (a.second.st_mtim.tv_nsec != b.second.st_mtim.tv_nsec) {
                return a.second.st_mtim.tv_nsec < b.second.st_mtim.tv_nsec;
            }
            return a.first > b.first;  // audit.log.2 before audit.log.1
        });
        bool news = false;
        for (auto& [name, listed] : found) {
            if (name.size() >= 3 && name.compare(name.size() - 3, 3, ".gz") == 0) {
                continue;
            }
            Open f;
            f.fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
            struct stat st{};
            if (f.fd < 0 || ::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode) || !read_head(f.fd, f.head) ||
                known(st, f.head) || (m_current.fd >= 0 && st.st_ino == m_current.ino && st.st_dev == m_current.dev)) {
                close_file(f);
                continue;
            }
            f.dev = st.st_dev;
            f.ino = st.st_ino;
            know(f.dev, f.ino, f.head);
            news = true;
            if (unread && !f.head.empty() && f.head == current_head) {
                held.push_back(std::move(f));
                continue;
            }
            const bool copy = !f.head.empty() && (f.head == current_head ||
                                                  std::find(m_heads.begin(), m_heads.end(), f.head) != m_heads.end());
            if (!copy) {
                drain(f, handler);
                f.splitter.flush(handler);
            }
            close_file(f);
        }
        if (!news) {
            break;
        }
    }
    return held;
}

void FileFollower::forget_gone(const std::vector<std::pair<std::string, struct stat>>& found)
{
    // the files that are gone: their inode numbers may be given to new ones
    std::map<std::pair<dev_t, ino_t>, std::string> still;
    auto keep = [&](dev_t dev, ino_t ino) {
        const auto it = m_known.find({dev, ino});
        if (it != m_known.end()) {
            still.insert(*it);
        }
    };
    for (const auto& [name, st] : found) {
        keep(st.st_dev, st.st_ino);
    }
    if (m_current.fd >= 0) {
        keep(m_current.dev, m_current.ino);
    }
    for (const Open& r : m_retired) {
        keep(r.dev, r.ino);
    }
    m_known.swap(still);
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
    m_known.emplace(std::make_pair(st.st_dev, st.st_ino), std::string());  // first bytes when read
    if (m_first_open && !m_from_start) {
        // start at the end, on a line boundary as far as we can tell
        const off_t end = ::lseek(fd, 0, SEEK_END);
        m_current.offset = end > 0 ? static_cast<std::uint64_t>(end) : 0;
        const std::size_t n = std::min<std::uint64_t>(m_current.offset, k_tail_check);
        std::string tail(n, '\0');
        if (n > 0 && read_exact_at(fd, tail.data(), n, m_current.offset - n)) {
            m_current.tail = tail;
        }
        // and its first bytes, though not read: they tell a rewrite, and a copy, of it
        std::string head(n, '\0');
        if (n > 0 && read_exact_at(fd, head.data(), n, 0)) {
            m_current.head = head;
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
    // truncated and already written past our offset again: the file's first bytes changed
    // (they hold the first record's serial), or the last ones before our offset did
    std::string now(std::max(f.tail.size(), f.head.size()), '\0');
    if (!f.head.empty() &&
        (!read_exact_at(f.fd, now.data(), f.head.size(), 0) || f.head.compare(0, f.head.size(), now.data(), f.head.size()) != 0)) {
        return true;
    }
    if (!f.tail.empty() && (!read_exact_at(f.fd, now.data(), f.tail.size(), f.offset - f.tail.size()) ||
                            f.tail.compare(0, f.tail.size(), now.data(), f.tail.size()) != 0)) {
        return true;
    }
    return false;
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
            know(st.st_dev, st.st_ino, f.head);
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

bool FileFollower::siblings_changed()
{
    struct stat st{};
    if (::stat(m_dir.c_str(), &st) != 0) {
        return false;
    }
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    const auto ns = [](const timespec& t) { return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec; };
    const bool changed = ns(st.st_mtim) != m_dir_mtime_ns || ns(st.st_ctim) != m_dir_ctime_ns || st.st_ino != m_dir_ino;
    // a change in the same clock tick as the one we saw keeps the time: look again while the
    // last change is that recent (not for a time ahead of ours: a clock stepped back)
    const bool recent = ns(st.st_mtim) + k_dir_tick_ns > m_dir_checked_ns && ns(st.st_mtim) <= ns(now) + k_dir_tick_ns;
    m_dir_mtime_ns = ns(st.st_mtim);
    m_dir_ctime_ns = ns(st.st_ctim);
    m_dir_ino = st.st_ino;
    m_dir_checked_ns = ns(now);
    return changed || recent;
}

bool FileFollower::read_available(const LineHandler& handler)
{
    drain_inotify();
    add_watch();
    const bool siblings_news = siblings_changed();
    bool looked = false;  // at the siblings already, this time
    if (m_current.fd < 0) {
        try_open();
        if (m_current.fd >= 0 && m_lost_track) {
            m_lost_track = false;
            catch_up(handler);  // files made and rotated away while there was none at the path for us
            looked = true;
        }
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
            // and copies of what was written between two truncations we did not see (logrotate
            // copytruncate with rotate N: audit.log.1 is shifted to .2, the new copy is .1)
            catch_up(handler);
            looked = true;
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
            try_open();  // (gone again already: the next look that finds one reads what it missed)
            m_lost_track = m_current.fd < 0;
            catch_up(handler);
        } else if (siblings_news && !looked) {
            // a sibling made since: a copy of the current file (not news), or one holding what
            // was written and truncated away while our offset was 0
            catch_up(handler);
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
