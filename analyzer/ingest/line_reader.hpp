// Streaming line reader over a file, a gzip file or standard input.
// Lines are returned as views into an internal block buffer, valid until the next call.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace virtdeny::ingest {

class ByteSource;

class LineReader
{
public:
    static constexpr std::size_t k_default_max_line = 1 << 20; // 1 MiB

    // Reports a skipped line: (line number, reason).
    using ErrorHandler = std::function<void(std::uint64_t, const std::string&)>;

    // Opens PATH ("-" is standard input). gzip input is detected by its magic bytes.
    // Returns nullptr and sets error when the input cannot be opened.
    static std::unique_ptr<LineReader> open(const std::string& path, std::string& error,
                                            std::size_t max_line = k_default_max_line);
    // Reads from an already open file descriptor (not closed by the reader).
    static std::unique_ptr<LineReader> from_fd(int fd, std::string name, std::size_t max_line = k_default_max_line);

    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    // Next line without its terminator. false at end of input (or on a read error, see error()).
    bool next(std::string_view& line);

    std::uint64_t line_number() const { return m_line_number; }
    std::uint64_t bytes_read() const { return m_bytes_read; }
    const std::string& name() const { return m_name; }
    const std::string& error() const { return m_error; }
    void on_error(ErrorHandler handler) { m_on_error = std::move(handler); }
    // Called after each block read from the source with bytes_read() (the progress line).
    void on_block(std::function<void(std::uint64_t)> handler) { m_on_block = std::move(handler); }
    // In follow mode a last line without newline is kept back until it is completed.
    void set_hold_partial(bool hold) { m_hold_partial = hold; }
    // Follow mode: after next() returned false, true when more data may arrive later.
    void clear_eof() { m_eof = false; }
    // Up to n bytes of what next() returns from now on, read ahead without consuming them
    // (the paste sniff at an input's start). Shorter at the end of input.
    std::string_view peek(std::size_t n);
    // A last line without newline is read as a line (a paste), not reported as half-written.
    void set_accept_unterminated(bool accept) { m_accept_unterminated = accept; }

private:
    LineReader(std::unique_ptr<ByteSource> source, std::string name, std::size_t max_line);
    bool fill();

    std::unique_ptr<ByteSource> m_source;
    std::string m_name;
    std::vector<char> m_buffer;
    std::size_t m_begin = 0;
    std::size_t m_end = 0;
    std::size_t m_scan_from = 0;
    std::size_t m_max_line;
    std::uint64_t m_line_number = 0;
    std::uint64_t m_bytes_read = 0;
    bool m_eof = false;
    bool m_skipping = false;
    bool m_hold_partial = false;
    bool m_accept_unterminated = false;
    std::string m_error;
    ErrorHandler m_on_error;
    std::function<void(std::uint64_t)> m_on_block;
};

} // namespace virtdeny::ingest
