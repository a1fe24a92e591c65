#include <analyzer/live/source.hpp>

#include <cstring>

namespace virtdeny::live {

namespace {

std::string_view without_cr(std::string_view line)
{
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    return line;
}

} // namespace

void LineSplitter::feed(const char* data, std::size_t size, const LineHandler& handler)
{
    std::size_t pos = 0;
    while (pos < size) {
        const void* nl = std::memchr(data + pos, '\n', size - pos);
        if (!nl) {
            const std::size_t room = k_max_line > m_partial.size() ? k_max_line - m_partial.size() : 0;
            m_partial.append(data + pos, std::min(room, size - pos));
            return;
        }
        const std::size_t end = static_cast<std::size_t>(static_cast<const char*>(nl) - data);
        if (m_partial.empty()) {
            handler(without_cr(std::string_view(data + pos, end - pos)));
        } else {
            const std::size_t room = k_max_line > m_partial.size() ? k_max_line - m_partial.size() : 0;
            m_partial.append(data + pos, std::min(room, end - pos));
            handler(without_cr(m_partial));
            m_partial.clear();
        }
        pos = end + 1;
    }
}

void LineSplitter::flush(const LineHandler& handler)
{
    if (!m_partial.empty()) {
        std::string line;
        line.swap(m_partial);
        handler(without_cr(line));
    }
}

} // namespace virtdeny::live
