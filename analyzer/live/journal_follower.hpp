// follow --journal: the systemd journal's kernel and audit entries as they are written
// (ingest/journal_source.hpp renders them as lines), woken by sd-journal's inotify descriptor.
// With a state file (--state) the cursor of the last entry whose events were printed is kept
// there, so a restarted follow resumes after it: nothing lost, nothing read twice.
#pragma once

#include <analyzer/ingest/journal_source.hpp>
#include <analyzer/live/source.hpp>

#include <cstddef>
#include <memory>
#include <string>

namespace virtdeny::live {

class JournalFollower : public Source
{
public:
    static constexpr std::size_t k_batch = 8192;  // entries per read_available(), then the engine's turn

    explicit JournalFollower(std::unique_ptr<ingest::JournalReader> reader);

    int wait_fd() const override { return m_fd; }
    int timeout_ms() const override;
    bool read_available(const LineHandler& handler) override;
    const std::string& name() const override { return m_reader->name(); }

    // The cursor of the last entry handed out ("" when none yet).
    const std::string& cursor() const { return m_reader->cursor(); }
    ingest::JournalReader& reader() { return *m_reader; }

private:
    std::unique_ptr<ingest::JournalReader> m_reader;
    int m_fd = -1;
    bool m_more = true;  // a batch ended before the journal's end: read again without waiting
};

// The state file of follow --journal: one line, the cursor after which to resume ("" = the
// journal's start). load: false and `error` when it exists but cannot be read or holds no
// cursor; `exists` false (and true returned) when there is none yet.
bool load_cursor(const std::string& path, std::string& cursor, bool& exists, std::string& error);
// Written to PATH.tmp, synced and renamed over PATH: a crash leaves the old or the new cursor.
bool save_cursor(const std::string& path, const std::string& cursor, std::string& error);

} // namespace virtdeny::live
