// tail -F for audit.log: follows a path by name. Survives rotation by rename (the old file
// is read to its end, and kept open a little longer for a writer that is late to reopen),
// copytruncate (a shrink, or bytes before our offset that changed: read again from the
// start, after picking up what we had not read yet from the rotated copy), a file that
// does not exist yet, and half-written last lines (held until completed). Woken by inotify
// on the directory; without inotify it polls.
#pragma once

#include <analyzer/live/source.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace virtdeny::live {

class FileFollower : public Source
{
public:
    static constexpr int k_poll_ms = 200;            // polling fallback and missing directory
    static constexpr int k_idle_check_ms = 1000;     // safety net stat() with inotify
    static constexpr std::int64_t k_retire_ms = 2000; // a rotated file is still read this long
    static constexpr std::size_t k_tail_check = 64;  // bytes compared to detect a rewrite
    static constexpr std::size_t k_heads_kept = 32;  // copies recognised of the last files read
    static constexpr std::int64_t k_dir_tick_ns = 50000000;  // > a file system's time granularity

    // from_start: read what the file holds now; otherwise start at its end.
    FileFollower(std::string path, bool from_start, bool use_inotify = true);
    ~FileFollower() override;
    FileFollower(const FileFollower&) = delete;
    FileFollower& operator=(const FileFollower&) = delete;

    int wait_fd() const override { return m_inotify; }
    int timeout_ms() const override;
    bool read_available(const LineHandler& handler) override;
    const std::string& name() const override { return m_path; }

    bool using_inotify() const { return m_inotify >= 0; }
    std::uint64_t rotations() const { return m_rotations; }
    std::uint64_t truncations() const { return m_truncations; }

private:
    struct Open
    {
        int fd = -1;
        dev_t dev = 0;
        ino_t ino = 0;
        std::uint64_t offset = 0;
        std::string tail;        // the last bytes before offset, to notice a rewrite
        std::string head;        // the first bytes, to recognise a copy of this file
        LineSplitter splitter;
        std::int64_t retire_at = 0;
    };

    void try_open();
    void add_watch();
    void drain_inotify();
    bool drain(Open& f, const LineHandler& handler);
    bool rewritten(Open& f);
    void recover_from_copy(Open& f, const LineHandler& handler);
    void close_file(Open& f);
    // Rotated files that came and went between two looks (several rotations in a burst):
    // siblings named PATH* that we never had open and that are not copies of what we read.
    // A sibling that starts as the current file does is a copy of it (copytruncate), not news;
    // of a current file we have read nothing of, it is returned, held back for catch_up.
    std::vector<Open> read_skipped(const LineHandler& handler);
    // read_skipped, then the current file, then of each held-back copy what the current file
    // did not give us (all of it when the file was truncated before we read it; else nothing).
    void catch_up(const LineHandler& handler);
    void remember(const Open& f);
    // The directory changed since our last look (or changed so recently that a second change
    // in the same clock tick would not show): a sibling may be news.
    bool siblings_changed();
    void know(dev_t dev, ino_t ino, const std::string& head);
    void forget_gone(const std::vector<std::pair<std::string, struct stat>>& found);
    bool known(const struct stat& st, const std::string& head) const;
    bool read_head(int fd, std::string& head) const;
    std::vector<std::pair<std::string, struct stat>> siblings() const;

    std::string m_path;
    std::string m_dir;
    std::string m_base;
    bool m_from_start;
    bool m_first_open = true;
    bool m_lost_track = false;  // no file at the path on the last look: rotations may come unseen
    // the directory as of our last look (a sibling made, renamed or removed changes it)
    std::int64_t m_dir_mtime_ns = 0;
    std::int64_t m_dir_ctime_ns = 0;
    ino_t m_dir_ino = 0;
    std::int64_t m_dir_checked_ns = 0;
    int m_inotify = -1;
    int m_watch = -1;
    bool m_want_inotify;
    Open m_current;
    std::vector<Open> m_retired;
    // Files read (or there before we started), with their first bytes as we last saw them: an
    // inode number freed by a deleted rotation and given to a new file is another file.
    std::map<std::pair<dev_t, ino_t>, std::string> m_known;
    std::deque<std::string> m_heads;  // first bytes of the files we read, to recognise copies
    std::uint64_t m_rotations = 0;
    std::uint64_t m_truncations = 0;
};

} // namespace virtdeny::live
