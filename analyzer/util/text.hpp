// Small, allocation-free helpers over std::string_view used by the hot path.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// printable() and sanitize_utf8() live with the other escapers.
#include <analyzer/util/escape.hpp>

namespace virtdeny::util {

inline bool starts_with(std::string_view s, std::string_view prefix)
{
    return s.size() >= prefix.size() && std::memcmp(s.data(), prefix.data(), prefix.size()) == 0;
}

inline bool ends_with(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size()
        && std::memcmp(s.data() + s.size() - suffix.size(), suffix.data(), suffix.size()) == 0;
}

// memmem-based search; npos when absent.
inline std::size_t find(std::string_view hay, std::string_view needle, std::size_t from = 0)
{
    if (from > hay.size() || hay.size() - from < needle.size()) {
        return std::string_view::npos;
    }
    if (needle.empty()) {
        return from;  // (memmem must not see a default string_view's null pointer)
    }
    const void* p = ::memmem(hay.data() + from, hay.size() - from, needle.data(), needle.size());
    return p ? static_cast<std::size_t>(static_cast<const char*>(p) - hay.data()) : std::string_view::npos;
}

inline bool contains(std::string_view hay, std::string_view needle)
{
    return find(hay, needle) != std::string_view::npos;
}

inline std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
        s.remove_suffix(1);
    }
    return s;
}

inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

inline int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

// A UUID as libvirt writes it: 8-4-4-4-12 hex digits.
inline bool is_uuid(std::string_view s)
{
    if (s.size() != 36) {
        return false;
    }
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : hex_value(s[i]) < 0) {
            return false;
        }
    }
    return true;
}

// Parses an unsigned decimal prefix of s; advances s past it. nullopt when no digit.
inline std::optional<std::uint64_t> parse_uint(std::string_view& s)
{
    if (s.empty() || !is_digit(s.front())) {
        return std::nullopt;
    }
    std::uint64_t v = 0;
    std::size_t i = 0;
    for (; i < s.size() && is_digit(s[i]); ++i) {
        if (v > (UINT64_MAX - 9) / 10) {
            return std::nullopt;
        }
        v = v * 10 + static_cast<std::uint64_t>(s[i] - '0');
    }
    s.remove_prefix(i);
    return v;
}

// Parses a whole string as a signed decimal integer.
std::optional<std::int64_t> to_int(std::string_view s);

// True when s is a non-empty even-length run of hex digits (how the kernel encodes
// values holding spaces, quotes or non-ASCII bytes).
bool is_hex_encoded(std::string_view s);

// Decodes a hex-encoded value; the caller checked is_hex_encoded.
std::string hex_decode(std::string_view s);

// Formats epoch milliseconds as ISO 8601 UTC with milliseconds ("2024-03-14T02:15:10.170Z").
std::string iso8601_utc(std::int64_t epoch_ms);

// The strings joined with sep between them (for messages and notes, not the hot path).
std::string join(const std::vector<std::string>& parts, const char* sep);

} // namespace virtdeny::util
