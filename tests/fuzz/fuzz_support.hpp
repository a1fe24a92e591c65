// Shared by the libFuzzer targets. Each target is a function `one_input` in a namespace of
// its own (virtdeny::fuzz::<target>); VIRTDENY_FUZZ_MAIN(target) gives it the libFuzzer
// entry point. The test suite includes the same sources with VIRTDENY_FUZZ_IN_TESTS defined
// (tests/hardening/test_fuzz_regressions.cpp) and replays fixtures/fuzz/<target>/ and the
// seed fixtures through them: there a failed check throws instead of aborting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace virtdeny::fuzz {

[[noreturn]] inline void check_failed(const char* what, const char* file, int line)
{
#ifdef VIRTDENY_FUZZ_IN_TESTS
    throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": check failed: " + what);
#else
    std::fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    std::abort();
#endif
}

// Valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
inline bool valid_utf8(std::string_view s)
{
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > s.size()) {
            return false;
        }
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF
            || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += len;
    }
    return true;
}

// Safe to write to a terminal: valid UTF-8 without C0 controls (other than those allowed),
// DEL, C1 controls (U+0080..U+009F) or bidirectional controls (U+061C, U+200E, U+200F,
// U+202A..U+202E, U+2066..U+2069).
inline bool terminal_safe(std::string_view s, std::string_view allowed_controls = {})
{
    if (!valid_utf8(s)) {
        return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if ((c < 0x20 && allowed_controls.find(static_cast<char>(c)) == std::string_view::npos) || c == 0x7F) {
            return false;
        }
        const auto at = [&](std::size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u; };
        if (c == 0xC2 && at(i + 1) < 0xA0) {
            return false;
        }
        if ((c == 0xD8 && at(i + 1) == 0x9C)
            || (c == 0xE2 && at(i + 1) == 0x80 && (at(i + 2) == 0x8E || at(i + 2) == 0x8F || (at(i + 2) >= 0xAA && at(i + 2) <= 0xAE)))
            || (c == 0xE2 && at(i + 1) == 0x81 && at(i + 2) >= 0xA6 && at(i + 2) <= 0xA9)) {
            return false;
        }
    }
    return true;
}

// Splits fuzz input into a few parameters and the rest.
class Input
{
public:
    Input(const std::uint8_t* data, std::size_t size) : m_data(reinterpret_cast<const char*>(data), size) {}
    std::uint8_t byte()
    {
        if (m_data.empty()) {
            return 0;
        }
        const auto b = static_cast<std::uint8_t>(m_data.front());
        m_data.remove_prefix(1);
        return b;
    }
    // Up to n bytes (fewer at the end).
    std::string_view take(std::size_t n)
    {
        const std::string_view out = m_data.substr(0, n);
        m_data.remove_prefix(out.size());
        return out;
    }
    std::string_view rest() const { return m_data; }
    bool empty() const { return m_data.empty(); }

private:
    std::string_view m_data;
};

// A FILE* that writes into memory (open_memstream), for what a sink prints.
struct MemoryFile
{
    char* buffer = nullptr;
    std::size_t size = 0;
    std::FILE* file = ::open_memstream(&buffer, &size);
    MemoryFile() = default;
    MemoryFile(const MemoryFile&) = delete;
    MemoryFile& operator=(const MemoryFile&) = delete;
    ~MemoryFile()
    {
        if (file) {
            std::fclose(file);
        }
        std::free(buffer);
    }
    std::string text()
    {
        std::fflush(file);
        return std::string(buffer ? buffer : "", size);
    }
};

} // namespace virtdeny::fuzz

#define FUZZ_CHECK(cond)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            ::virtdeny::fuzz::check_failed(#cond, __FILE__, __LINE__);     \
        }                                                                  \
    } while (0)

#ifdef VIRTDENY_FUZZ_IN_TESTS
#define VIRTDENY_FUZZ_MAIN(target)
#else
#define VIRTDENY_FUZZ_MAIN(target)                                                        \
    extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)    \
    {                                                                                     \
        return ::virtdeny::fuzz::target::one_input(data, size);                          \
    }
#endif
