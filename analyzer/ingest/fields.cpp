#include <analyzer/ingest/fields.hpp>

#include <analyzer/util/text.hpp>

namespace virtdeny::ingest {

namespace {

// "KEY=" at the start of text: an audit field name ([A-Za-z0-9_-]+) and its '='.
bool starts_with_key(std::string_view text)
{
    std::size_t i = 0;
    while (i < text.size() && i < 64) {
        const char c = text[i];
        if (c == '=') {
            return i > 0;
        }
        const bool key_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                              c == '_' || c == '-';
        if (!key_char) {
            return false;
        }
        ++i;
    }
    return false;
}

} // namespace

bool FieldScanner::next(Field& field)
{
    for (;;) {
        std::size_t i = 0;
        while (i < m_rest.size() && (m_rest[i] == ' ' || m_rest[i] == '\t')) {
            ++i;
        }
        m_rest.remove_prefix(i);
        if (m_rest.empty()) {
            return false;
        }
        std::size_t k = 0;
        while (k < m_rest.size() && m_rest[k] != '=' && m_rest[k] != ' ') {
            ++k;
        }
        if (k == m_rest.size() || m_rest[k] == ' ' || k == 0) {
            // a token without value ("avc:", "for", "{", ...): skip it
            m_rest.remove_prefix(k == 0 ? 1 : k);
            continue;
        }
        field.key = m_rest.substr(0, k);
        m_rest.remove_prefix(k + 1);
        if (!m_rest.empty() && (m_rest.front() == '"' || m_rest.front() == '\'')) {
            const char q = m_rest.front();
            const std::size_t close = m_rest.find(q, 1);
            field.quote = q;
            if (close == std::string_view::npos) {
                field.value = m_rest.substr(1);
                m_rest = {};
                m_unterminated = true;
            } else {
                field.value = m_rest.substr(1, close - 1);
                m_rest.remove_prefix(close + 1);
                // a closing quote is followed by a space, the end, or the ENRICHED separator;
                // anything else means a quote inside the value was lost (a cut or mangled line)
                // (libapparmor's test logs also hold ENRICHED lines whose separator was lost:
                // `target="/x"FSUID="portage"`, a key right after the quote, which is fine)
                if (!m_rest.empty() && m_rest.front() != ' ' && m_rest.front() != '\x1d' && q == '"' &&
                    !starts_with_key(m_rest)) {
                    m_unterminated = true;
                }
            }
        } else {
            field.quote = 0;
            const std::size_t end = m_rest.find(' ');
            field.value = m_rest.substr(0, end);
            m_rest.remove_prefix(end == std::string_view::npos ? m_rest.size() : end);
        }
        return true;
    }
}

std::string decode_value(const Field& field)
{
    if (field.quote == 0 && util::is_hex_encoded(field.value)) {
        return util::hex_decode(field.value);
    }
    return std::string(field.value);
}

std::string find_field(std::string_view text, std::string_view key)
{
    FieldScanner scanner(text);
    Field f;
    while (scanner.next(f)) {
        if (f.key == key) {
            return decode_value(f);
        }
    }
    return {};
}

} // namespace virtdeny::ingest
