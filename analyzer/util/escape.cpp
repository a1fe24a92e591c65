#include <analyzer/util/escape.hpp>

#include <cstdint>
#include <cstdio>

namespace virtdeny::util {

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


std::string shell_quote(std::string_view s)
{
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out.push_back(c);
        }
    }
    out.push_back('\'');
    return out;
}

std::string apparmor_glob_escape(std::string_view text)
{
    std::string out;
    for (unsigned char c : text) {
        switch (c) {
        case '*':
        case '?':
        case '[':
        case ']':
        case '{':
        case '}':
        case '^':
        case '"':
        case '\\':
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
            break;
        default:
            if (c < 0x20 || c == 0x7f || c >= 0x80) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\%03o", c);
                out += buf;
            } else {
                out.push_back(static_cast<char>(c));
            }
        }
    }
    return out;
}

std::string apparmor_path(std::string_view path)
{
    return "\"" + apparmor_glob_escape(path) + "\"";
}

std::string selinux_fcontext_regex(std::string_view path, bool tree)
{
    while (path.size() > 1 && path.back() == '/') {
        path.remove_suffix(1);
    }
    if (path.empty() || path.front() != '/') {
        return {};
    }
    std::string out;
    for (unsigned char c : path) {
        if (std::string_view(".^$*+?()[]{}|\\").find(static_cast<char>(c)) != std::string_view::npos) {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else if (c <= 0x20 || c >= 0x7f) {
            // whitespace would split the file_contexts line; bytes >= 0x80 are matched as
            // \xNN (never wider: in UTF mode it could only fail to match)
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    if (tree) {
        out += "(/.*)?";
    }
    return out;
}

std::string xml_escape(std::string_view s)
{
    std::string out;
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '\'': out += "&apos;"; break;
        case '"': out += "&quot;"; break;
        default: out.push_back(c);
        }
    }
    return out;
}

bool xml_representable(std::string_view s)
{
    for (unsigned char c : s) {
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            return false;
        }
    }
    return true;
}

std::string xml_comment(std::string_view s)
{
    std::string out;
    for (unsigned char c : s) {
        if (c == '-' && !out.empty() && out.back() == '-') {
            out.push_back(' ');
        }
        out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
    }
    if (!out.empty() && out.back() == '-') {
        out.push_back(' ');
    }
    return out;
}

std::string markdown_cell(std::string_view s)
{
    std::string out;
    for (char c : printable(s)) {
        if (c == '|') {
            out += "\\|";
        } else if (c == '`') {
            out += "'";
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string json_terminal_safe(std::string json)
{
    if (json.find_first_of("\x7f\xc2\xd8\xe2") == std::string::npos) {
        return json;
    }
    static const char k_hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(json.size() + 16);
    const auto at = [&](std::size_t i) { return i < json.size() ? static_cast<unsigned char>(json[i]) : 0u; };
    for (std::size_t i = 0; i < json.size(); ++i) {
        const unsigned c = at(i);
        unsigned code = 0;
        std::size_t len = 1;
        if (c == 0x7f) {
            code = 0x7f;
        } else if (c == 0xc2 && at(i + 1) >= 0x80 && at(i + 1) < 0xa0) {
            code = at(i + 1);
            len = 2;
        } else if (c == 0xd8 && at(i + 1) == 0x9c) {
            code = 0x061c;
            len = 2;
        } else if (c == 0xe2 && ((at(i + 1) == 0x80 && (at(i + 2) == 0x8e || at(i + 2) == 0x8f
                                                        || (at(i + 2) >= 0xaa && at(i + 2) <= 0xae)))
                                 || (at(i + 1) == 0x81 && at(i + 2) >= 0xa6 && at(i + 2) <= 0xa9))) {
            code = 0x2000 | ((at(i + 1) & 0x3f) << 6) | (at(i + 2) & 0x3f);
            len = 3;
        } else {
            out.push_back(static_cast<char>(c));
            continue;
        }
        out += "\\u";
        for (int shift = 12; shift >= 0; shift -= 4) {
            out.push_back(k_hex[(code >> shift) & 0xf]);
        }
        i += len - 1;
    }
    return out;
}

} // namespace virtdeny::util
