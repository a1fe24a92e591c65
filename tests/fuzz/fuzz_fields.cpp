// libFuzzer target: the field decoder (key=value, "double" and 'single' quotes, bare and
// hex-encoded values, unterminated quotes, the ENRICHED separator) and the text escapes
// every output goes through. Checks: fields are views of the text in order, keys never hold
// '=' or ' ', a bare hex value decodes to bytes that encode back to it, find_field finds
// the first field of a key, sanitize_utf8 is valid UTF-8 and leaves valid UTF-8 alone,
// printable is terminal-safe and its \xNN escapes decode back to the text.
#include "fuzz_support.hpp"

#include <analyzer/ingest/fields.hpp>
#include <analyzer/util/text.hpp>

#include <set>
#include <string>

namespace virtdeny::fuzz::fields {

std::string hex_encode(std::string_view bytes)
{
    static const char k_hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : bytes) {
        out.push_back(k_hex[c >> 4]);
        out.push_back(k_hex[c & 15]);
    }
    return out;
}

std::string upper(std::string_view s)
{
    std::string out(s);
    for (char& c : out) {
        if (c >= 'a' && c <= 'f') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return out;
}

// Undoes printable()'s \xNN escapes (for text without backslashes of its own).
std::string unescape(std::string_view s)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && util::hex_value(s[i + 2]) >= 0
            && util::hex_value(s[i + 3]) >= 0) {
            out.push_back(static_cast<char>(util::hex_value(s[i + 2]) * 16 + util::hex_value(s[i + 3])));
            i += 3;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

void check_escapes(std::string_view s)
{
    const std::string clean = util::sanitize_utf8(s);
    FUZZ_CHECK(fuzz::valid_utf8(clean));
    if (fuzz::valid_utf8(s)) {
        FUZZ_CHECK(clean == s);
    }
    const std::string shown = util::printable(s);
    FUZZ_CHECK(fuzz::terminal_safe(shown));
    if (s.find('\\') == std::string_view::npos) {
        FUZZ_CHECK(unescape(shown) == s);
        FUZZ_CHECK(unescape(clean) == s);
    }
}

int one_input(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_escapes(text);

    ingest::FieldScanner scanner(text);
    ingest::Field f;
    const char* cursor = text.data();
    std::set<std::string_view> seen;
    std::size_t count = 0;
    while (scanner.next(f)) {
        ++count;
        FUZZ_CHECK(count <= text.size());
        FUZZ_CHECK(!f.key.empty());
        FUZZ_CHECK(f.key.find('=') == std::string_view::npos);
        FUZZ_CHECK(f.key.find(' ') == std::string_view::npos);
        // in order, inside the text, the value right after "key=" (and its quote)
        FUZZ_CHECK(f.key.data() >= cursor);
        FUZZ_CHECK(f.key.data() + f.key.size() < text.data() + text.size());
        FUZZ_CHECK(f.key.data()[f.key.size()] == '=');
        const char* value_at = f.key.data() + f.key.size() + 1 + (f.quote != 0 ? 1 : 0);
        FUZZ_CHECK(f.value.data() == value_at || f.value.empty());
        FUZZ_CHECK(f.value.empty() || f.value.data() + f.value.size() <= text.data() + text.size());
        if (f.quote != 0) {
            FUZZ_CHECK(f.quote == '"' || f.quote == '\'');
            FUZZ_CHECK(value_at[-1] == f.quote);
            FUZZ_CHECK(f.value.find(f.quote) == std::string_view::npos);
        } else {
            FUZZ_CHECK(f.value.find(' ') == std::string_view::npos);
        }
        cursor = f.value.empty() ? value_at : f.value.data() + f.value.size();

        const std::string decoded = ingest::decode_value(f);
        if (f.quote == 0 && util::is_hex_encoded(f.value)) {
            FUZZ_CHECK(decoded.size() * 2 == f.value.size());
            FUZZ_CHECK(hex_encode(decoded) == upper(f.value));
        } else {
            FUZZ_CHECK(decoded == f.value);
        }
        check_escapes(decoded);
        if (seen.insert(f.key).second && seen.size() <= 8) {
            // the first field of this key
            FUZZ_CHECK(ingest::find_field(text, f.key) == decoded);
        }
    }
    return 0;
}

} // namespace virtdeny::fuzz::fields

VIRTDENY_FUZZ_MAIN(fields)
