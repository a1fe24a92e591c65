#include <analyzer/util/text.hpp>

#include <cstdio>
#include <ctime>

namespace virtdeny::util {

std::optional<std::int64_t> to_int(std::string_view s)
{
    bool negative = false;
    if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    auto v = parse_uint(s);
    if (!v || !s.empty() || *v > static_cast<std::uint64_t>(INT64_MAX)) {
        return std::nullopt;
    }
    return negative ? -static_cast<std::int64_t>(*v) : static_cast<std::int64_t>(*v);
}

bool is_hex_encoded(std::string_view s)
{
    if (s.empty() || s.size() % 2 != 0) {
        return false;
    }
    for (char c : s) {
        if (hex_value(c) < 0) {
            return false;
        }
    }
    return true;
}

std::string hex_decode(std::string_view s)
{
    std::string out;
    out.reserve(s.size() / 2);
    for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
        out.push_back(static_cast<char>(hex_value(s[i]) * 16 + hex_value(s[i + 1])));
    }
    return out;
}

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when invalid.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i)
{
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + len > s.size()) {
        return 0;
    }
    for (std::size_t k = 1; k < len; ++k) {
        const auto cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (cc & 0x3F);
    }
    const bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return len;
}

// U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069 (a valid sequence of len bytes at i).
bool is_bidi_control(std::string_view s, std::size_t i, std::size_t len)
{
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    if (len == 2) {
        return b(0) == 0xD8 && b(1) == 0x9C;
    }
    if (len != 3 || b(0) != 0xE2) {
        return false;
    }
    return (b(1) == 0x80 && (b(2) == 0x8E || b(2) == 0x8F || (b(2) >= 0xAA && b(2) <= 0xAE)))
        || (b(1) == 0x81 && b(2) >= 0xA6 && b(2) <= 0xA9);
}

void append_byte_escape(std::string& out, unsigned char c)
{
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02X", c);
    out += buf;
}

} // namespace

std::string sanitize_utf8(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t len = utf8_sequence_length(s, i);
        if (len == 0) {
            append_byte_escape(out, static_cast<unsigned char>(s[i]));
            ++i;
        } else {
            out.append(s.substr(i, len));
            i += len;
        }
    }
    return out;
}

std::string printable(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t len = utf8_sequence_length(s, i);
        if (len == 0 || c < 0x20 || c == 0x7F) {
            append_byte_escape(out, c);
            ++i;
        } else if (len == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) {
            // C1 control characters (U+0080..U+009F) can start terminal sequences too.
            append_byte_escape(out, c);
            append_byte_escape(out, static_cast<unsigned char>(s[i + 1]));
            i += 2;
        } else if (is_bidi_control(s, i, len)) {
            // bidirectional overrides and isolates reorder what follows them on screen:
            // a file name could show as another one
            for (std::size_t k = 0; k < len; ++k) {
                append_byte_escape(out, static_cast<unsigned char>(s[i + k]));
            }
            i += len;
        } else {
            out.append(s.substr(i, len));
            i += len;
        }
    }
    return out;
}

std::string iso8601_utc(std::int64_t epoch_ms)
{
    std::int64_t secs = epoch_ms / 1000;
    std::int64_t ms = epoch_ms % 1000;
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    const std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

std::string join(const std::vector<std::string>& parts, const char* sep)
{
    std::string out;
    for (const auto& s : parts) {
        if (!out.empty()) {
            out += sep;
        }
        out += s;
    }
    return out;
}

} // namespace virtdeny::util
