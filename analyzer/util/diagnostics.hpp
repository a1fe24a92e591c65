// Non-fatal problems with the input: counted, and reported on stderr as
// "virtdeny: INPUT: line N: why" (the first k_max_printed of them).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace virtdeny::util {

class Diagnostics
{
public:
    static constexpr std::uint64_t k_max_printed = 200;

    explicit Diagnostics(std::FILE* out = stderr) : m_out(out) {}

    void bad_line(std::string_view input, std::uint64_t line, std::string_view why);
    void error(std::string_view message);
    void finish();  // says how many were not printed
    std::uint64_t bad_lines() const { return m_bad_lines; }
    std::uint64_t errors() const { return m_errors; }
    void set_quiet(bool quiet) { m_quiet = quiet; }
    // Runs before each message is written (the progress line erases itself there).
    void before_print(std::function<void()> hook) { m_before_print = std::move(hook); }

private:
    std::FILE* m_out;
    std::uint64_t m_bad_lines = 0;
    std::uint64_t m_errors = 0;
    std::uint64_t m_printed = 0;
    bool m_quiet = false;
    std::function<void()> m_before_print;
};

} // namespace virtdeny::util
