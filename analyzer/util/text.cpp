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
