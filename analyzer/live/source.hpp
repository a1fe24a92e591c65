// Where follow's lines come from: a followed file, a pipe or auditd's plugin stream on
// standard input, or the kernel's audit multicast socket. Each source is polled on its
// descriptor; read_available() never blocks.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace virtdeny::live {

using LineHandler = std::function<void(std::string_view)>;

class Source
{
public:
    virtual ~Source() = default;
    // Descriptor to poll for input (POLLIN), or -1 when the source can only be polled by time.
    virtual int wait_fd() const = 0;
    // Longest wait before read_available() must be called again, in ms (-1: only on input).
    virtual int timeout_ms() const = 0;
    // Hands every complete line now available to handler. false when the source has ended
    // (end of a pipe); a followed file never ends.
    virtual bool read_available(const LineHandler& handler) = 0;
    // Name for diagnostics.
    virtual const std::string& name() const = 0;
};

// Splits a byte stream into lines; a last line without newline is kept until completed
// (or released by flush()). Lines longer than max_line are cut there.
class LineSplitter
{
public:
    static constexpr std::size_t k_max_line = 1 << 20;

    void feed(const char* data, std::size_t size, const LineHandler& handler);
    // Releases a held partial line as a line (end of a file or of a stream).
    void flush(const LineHandler& handler);
    void clear() { m_partial.clear(); }
    bool has_partial() const { return !m_partial.empty(); }

private:
    std::string m_partial;
};

} // namespace virtdeny::live
