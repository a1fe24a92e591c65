// The progress line of long runs (explain, suggest, replay): bytes read, MB/s and denials so
// far, redrawn in place on stderr at most 10 times a second and erased at the end. Only on a
// terminal and never with --format json or --no-progress (wanted()); the readers call
// update() once per block or chunk, never per line.
#pragma once

#include <analyzer/cli/config.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace virtdeny::cli {

class Progress
{
public:
    using Clock = std::chrono::steady_clock;

    // True when the run should show progress: stderr is a terminal (not TERM=dumb), the
    // format is not JSON and --no-progress was not given.
    static bool wanted(const Config& config);

    // out: where to draw (stderr); enabled false makes every call a no-op. Nothing is drawn
    // before delay has passed, so short runs never flicker (VIRTDENY_PROGRESS_DELAY_MS overrides).
    Progress(std::FILE* out, bool enabled);
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    bool enabled() const { return m_enabled; }
    // The bytes of all inputs when every one has a known size (regular files), else 0.
    void set_total(std::uint64_t bytes) { m_total = bytes; }
    // bytes: read so far over all inputs; denials: so far. Cheap when not yet due.
    void update(std::uint64_t bytes, std::uint64_t denials);
    // Erases the line if it is drawn (before anything else is written to the terminal).
    void clear();
    // Erases the line; later updates draw nothing.
    void finish();

    // The text of the line (no escape sequences), for a terminal `width` columns wide.
    static std::string render(std::uint64_t bytes, std::uint64_t total, double seconds, std::uint64_t denials,
                              unsigned width);

private:
    void draw(std::uint64_t bytes, std::uint64_t denials, Clock::time_point now);

    std::FILE* m_out;
    bool m_enabled;
    bool m_drawn = false;
    std::uint64_t m_total = 0;
    Clock::time_point m_start;
    Clock::time_point m_next;
};

} // namespace virtdeny::cli
