#include <analyzer/cli/progress.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sys/ioctl.h>
#include <unistd.h>

namespace virtdeny::cli {

namespace {

constexpr auto k_redraw = std::chrono::milliseconds(100);  // at most 10 redraws a second
constexpr auto k_default_delay = std::chrono::milliseconds(300);

std::string size_text(std::uint64_t bytes)
{
    char buf[32];
    const double mb = static_cast<double>(bytes) / 1e6;
    if (mb >= 1000.0) {
        std::snprintf(buf, sizeof buf, "%.2f GB", mb / 1000.0);
    } else {
        std::snprintf(buf, sizeof buf, "%.1f MB", mb);
    }
    return buf;
}

unsigned terminal_width(std::FILE* out)
{
    winsize ws{};
    if (::ioctl(::fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        return ws.ws_col;
    }
    return 80;
}

} // namespace

bool Progress::wanted(const Config& config)
{
    if (config.no_progress || config.format == emit::Format::json) {
        return false;
    }
    const char* term = std::getenv("TERM");
    if (term && std::strcmp(term, "dumb") == 0) {
        return false;
    }
    return ::isatty(STDERR_FILENO) == 1;
}

Progress::Progress(std::FILE* out, bool enabled) : m_out(out), m_enabled(enabled && out), m_start(Clock::now())
{
    auto delay = std::chrono::duration_cast<Clock::duration>(k_default_delay);
    if (const char* v = std::getenv("VIRTDENY_PROGRESS_DELAY_MS")) {
        delay = std::chrono::duration_cast<Clock::duration>(std::chrono::milliseconds(std::strtoll(v, nullptr, 10)));
    }
    m_next = m_start + delay;
}

Progress::~Progress()
{
    finish();
}

std::string Progress::render(std::uint64_t bytes, std::uint64_t total, double seconds, std::uint64_t denials,
                             unsigned width)
{
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.1f MB/s", seconds > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0.0);
    const std::string found = std::to_string(denials) + (denials == 1 ? " denial" : " denials");
    std::string amount = size_text(bytes);
    std::string percent;
    if (total > 0) {
        const std::uint64_t done = bytes > total ? total : bytes;
        char pct[8];
        std::snprintf(pct, sizeof pct, "%3u%%", static_cast<unsigned>(done * 100 / total));
        percent = pct;
        amount += " of " + size_text(total);
    }
    const std::string prefix = "virtdeny: ";
    std::string tail = amount + "  " + rate + "  " + found;
    if (!percent.empty()) {
        tail = percent + "  " + tail;
    }
    const unsigned room = width > 1 ? width - 1 : 0;  // never the last column: no wrap
    std::string line = prefix + tail;
    constexpr std::size_t k_min_bar = 10;
    constexpr std::size_t k_max_bar = 30;
    if (total > 0 && line.size() + k_min_bar + 3 <= room) {
        const std::size_t cells = std::min(k_max_bar, room - line.size() - 3);
        const std::uint64_t done = bytes > total ? total : bytes;
        const std::size_t filled = static_cast<std::size_t>(done * cells / total);
        line = prefix + "[" + std::string(filled, '#') + std::string(cells - filled, '.') + "] " + tail;
    }
    if (line.size() > room) {
        line.resize(room);
    }
    return line;
}

void Progress::update(std::uint64_t bytes, std::uint64_t denials)
{
    if (!m_enabled) {
        return;
    }
    const auto now = Clock::now();
    if (now < m_next) {
        return;
    }
    m_next = now + k_redraw;
    draw(bytes, denials, now);
}

void Progress::draw(std::uint64_t bytes, std::uint64_t denials, Clock::time_point now)
{
    const double seconds = std::chrono::duration<double>(now - m_start).count();
    const std::string line = render(bytes, m_total, seconds, denials, terminal_width(m_out));
    std::fprintf(m_out, "\r%s\033[K", line.c_str());
    std::fflush(m_out);
    m_drawn = true;
}

void Progress::clear()
{
    if (m_enabled && m_drawn) {
        std::fputs("\r\033[K", m_out);
        std::fflush(m_out);
        m_drawn = false;
    }
}

void Progress::finish()
{
    clear();
    m_enabled = false;
}

} // namespace virtdeny::cli
