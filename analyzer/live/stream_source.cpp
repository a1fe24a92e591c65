#include <analyzer/live/stream_source.hpp>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace virtdeny::live {

StreamSource::StreamSource(int fd, std::string name) : m_fd(fd), m_name(std::move(name))
{
    const int flags = ::fcntl(m_fd, F_GETFL);
    if (flags >= 0) {
        ::fcntl(m_fd, F_SETFL, flags | O_NONBLOCK);
    }
}

bool StreamSource::read_available(const LineHandler& handler)
{
    if (m_ended) {
        return false;
    }
    std::vector<char> buf(1 << 16);
    for (;;) {
        const ssize_t got = ::read(m_fd, buf.data(), buf.size());
        if (got > 0) {
            m_splitter.feed(buf.data(), static_cast<std::size_t>(got), handler);
            continue;
        }
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true;
        }
        // end of the stream (or an error that ends it)
        m_splitter.flush(handler);
        m_ended = true;
        return false;
    }
}

} // namespace virtdeny::live
