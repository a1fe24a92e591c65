#include <analyzer/ingest/line_reader.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

namespace virtdeny::ingest {

class ByteSource
{
public:
    virtual ~ByteSource() = default;
    // Reads up to n bytes; returns bytes read, 0 at end, -1 on error (error text set).
    virtual long read(char* dst, std::size_t n, std::string& error) = 0;
};

namespace {

constexpr std::size_t k_block = 1 << 20;

class FdSource : public ByteSource
{
public:
    FdSource(int fd, bool owned) : m_fd(fd), m_owned(owned) {}
    ~FdSource() override
    {
        if (m_owned && m_fd >= 0) {
            ::close(m_fd);
        }
    }
    long read(char* dst, std::size_t n, std::string& error) override
    {
        for (;;) {
            const ssize_t got = ::read(m_fd, dst, n);
            if (got >= 0) {
                return static_cast<long>(got);
            }
            if (errno == EINTR) {
                continue;
            }
            error = std::strerror(errno);
            return -1;
        }
    }

private:
    int m_fd;
    bool m_owned;
};

class GzipSource : public ByteSource
{
public:
    explicit GzipSource(gzFile file) : m_file(file) {}
    ~GzipSource() override { gzclose(m_file); }
    long read(char* dst, std::size_t n, std::string& error) override
    {
        const int got = gzread(m_file, dst, static_cast<unsigned>(n));
        if (got < 0) {
            int code = 0;
            const char* msg = gzerror(m_file, &code);
            error = msg ? msg : "gzip read error";
            return -1;
        }
        return got;
    }

private:
    gzFile m_file;
};

} // namespace

LineReader::LineReader(std::unique_ptr<ByteSource> source, std::string name, std::size_t max_line)
    : m_source(std::move(source)), m_name(std::move(name)), m_max_line(max_line)
{
    m_buffer.resize(std::max(k_block, max_line) + k_block);
}

LineReader::~LineReader() = default;

std::unique_ptr<LineReader> LineReader::open(const std::string& path, std::string& error, std::size_t max_line)
{
    if (path == "-") {
        return from_fd(STDIN_FILENO, "<stdin>", max_line);
    }
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error = path + ": " + std::strerror(errno);
        return nullptr;
    }
    unsigned char magic[2] = {0, 0};
    const ssize_t got = ::pread(fd, magic, 2, 0);
    if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        gzFile gz = gzdopen(fd, "rb");
        if (!gz) {
            ::close(fd);
            error = path + ": cannot open gzip stream";
            return nullptr;
        }
        gzbuffer(gz, 1 << 17);
        return std::unique_ptr<LineReader>(new LineReader(std::make_unique<GzipSource>(gz), path, max_line));
    }
    return std::unique_ptr<LineReader>(new LineReader(std::make_unique<FdSource>(fd, true), path, max_line));
}

std::unique_ptr<LineReader> LineReader::from_fd(int fd, std::string name, std::size_t max_line)
{
    // A pipe may carry gzip too (zcat-less use); peek is not possible, so stdin is read as is
    // unless it starts with the gzip magic, which fill() cannot undo: handled by gzdopen here.
    return std::unique_ptr<LineReader>(
        new LineReader(std::make_unique<FdSource>(fd, false), std::move(name), max_line));
}

bool LineReader::fill()
{
    if (m_eof) {
        return false;
    }
    if (m_begin > 0) {
        const std::size_t remaining = m_end - m_begin;
        if (remaining > 0) {
            std::memmove(m_buffer.data(), m_buffer.data() + m_begin, remaining);
        }
        m_scan_from -= m_begin;
        m_end = remaining;
        m_begin = 0;
    }
    const std::size_t room = m_buffer.size() - m_end;
    if (room == 0) {
        return false;
    }
    const long got = m_source->read(m_buffer.data() + m_end, std::min(room, k_block), m_error);
    if (got <= 0) {
        m_eof = true;
        if (got < 0 && m_on_error) {
            m_on_error(m_line_number + 1, "read error: " + m_error);
        }
        return false;
    }
    m_end += static_cast<std::size_t>(got);
    m_bytes_read += static_cast<std::size_t>(got);
    if (m_on_block) {
        m_on_block(m_bytes_read);
    }
    return true;
}

std::string_view LineReader::peek(std::size_t n)
{
    while (m_end - m_begin < n && fill()) {
    }
    return std::string_view(m_buffer.data() + m_begin, std::min(n, m_end - m_begin));
}

bool LineReader::next(std::string_view& line)
{
    for (;;) {
        const char* base = m_buffer.data();
        const void* nl = m_scan_from < m_end ? std::memchr(base + m_scan_from, '\n', m_end - m_scan_from) : nullptr;
        if (nl) {
            const std::size_t pos = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
            const std::size_t start = m_begin;
            m_begin = pos + 1;
            m_scan_from = m_begin;
            ++m_line_number;
            if (m_skipping) {
                m_skipping = false;
                continue;
            }
            std::size_t len = pos - start;
            if (len > m_max_line) {
                if (m_on_error) {
                    m_on_error(m_line_number, "line longer than " + std::to_string(m_max_line) + " bytes, skipped");
                }
                continue;
            }
            if (len > 0 && base[start + len - 1] == '\r') {
                --len;
            }
            line = std::string_view(base + start, len);
            return true;
        }
        m_scan_from = m_end;
        if (m_end - m_begin > m_max_line) {
            // Over-long line: drop what we have and skip to the next newline.
            if (!m_skipping) {
                m_skipping = true;
                if (m_on_error) {
                    m_on_error(m_line_number + 1,
                               "line longer than " + std::to_string(m_max_line) + " bytes, skipped");
                }
            }
            m_begin = m_end;
            m_scan_from = m_end;
        }
        if (!fill()) {
            if (m_end > m_begin && !m_hold_partial && m_eof && m_accept_unterminated && !m_skipping) {
                ++m_line_number;
                std::size_t len = m_end - m_begin;
                if (base[m_begin + len - 1] == '\r') {
                    --len;
                }
                line = std::string_view(m_buffer.data() + m_begin, len);
                m_begin = m_end;
                m_scan_from = m_end;
                return true;
            }
            if (m_end > m_begin && !m_hold_partial && m_eof) {
                // A last line without its newline was cut while being written: its
                // fields cannot be trusted, so it is reported and left out.
                const bool was_skipping = m_skipping;
                m_skipping = false;
                ++m_line_number;
                m_begin = m_end;
                m_scan_from = m_end;
                if (!was_skipping && m_on_error) {
                    m_on_error(m_line_number, "half-written last line (no newline at end of input), skipped");
                }
            }
            return false;
        }
    }
}

} // namespace virtdeny::ingest
