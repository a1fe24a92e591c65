#include <analyzer/ingest/paste_normaliser.hpp>

#include <analyzer/ingest/record_parser.hpp>
#include <analyzer/ingest/summary_forms.hpp>
#include <analyzer/util/text.hpp>

#include <algorithm>
#include <functional>
#include <cstring>
#include <ctime>

namespace virtdeny::ingest {

using util::find;
using util::is_digit;
using util::starts_with;

namespace {

bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

bool is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-';
}

std::string_view trim_right(std::string_view s)
{
    while (!s.empty() && (is_space(s.back()) || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

// Indentation, tabs and "> " quote prefixes (mail, forums, Markdown), any mix of them.
std::string_view strip_prefix(std::string_view s)
{
    for (;;) {
        if (!s.empty() && is_space(s.front())) {
            s.remove_prefix(1);
        } else if (!s.empty() && s.front() == '>') {
            s.remove_prefix(1);
        } else {
            return s;
        }
    }
}

bool has_nbsp(std::string_view s)
{
    return find(s, "\xc2\xa0") != std::string_view::npos;
}

bool is_fence(std::string_view s)
{
    return starts_with(s, "```") || starts_with(s, "~~~");
}

// ausearch's event separator: "----" alone on its line.
bool is_separator(std::string_view s)
{
    if (s.size() < 4) {
        return false;
    }
    for (char c : s) {
        if (c != '-') {
            return false;
        }
    }
    return true;
}

// Text that begins a record, or a syslog / dmesg / journal line: never the tail of a wrapped one.
bool starts_new_line(std::string_view s)
{
    return find(s, "type=") != std::string_view::npos || find(s, "audit(") != std::string_view::npos
        || find(s, "audit[") != std::string_view::npos || find(s, "avc:") != std::string_view::npos
        || find(s, "apparmor=\"") != std::string_view::npos || find(s, "SELinux is preventing") != std::string_view::npos
        || (!s.empty() && s.front() == '[' && find(s, "] ") != std::string_view::npos);
}

// The first token is "key=" (an audit field), or the "{ perms }" / "for" of an AVC.
bool looks_like_fields(std::string_view s)
{
    if (s.empty()) {
        return false;
    }
    if (s.front() == '{' || s.front() == '}' || starts_with(s, "for ") || starts_with(s, "denied ")) {
        return true;
    }
    std::size_t i = 0;
    while (i < s.size() && is_key_char(s[i])) {
        ++i;
    }
    return i > 0 && i < s.size() && s[i] == '=';
}

// The last field opens a double quote that is not closed.
bool open_quote(std::string_view s)
{
    int quotes = 0;
    for (char c : s) {
        quotes += c == '"';
    }
    return quotes % 2 != 0;
}

// A record line that may be continued on the next line.
bool holds_record(std::string_view s)
{
    return find(s, "audit(") != std::string_view::npos || find(s, "avc:") != std::string_view::npos
        || find(s, "apparmor=") != std::string_view::npos || find(s, "audit[") != std::string_view::npos;
}

// Where a record starts at pos: "type=NAME msg=audit(", "type=NNNN audit(", or ausearch's
// "NAME msg=audit(" without "type=". Returns the length of "type=NAME " or 0.
std::size_t record_head(std::string_view s, std::size_t pos)
{
    std::size_t i = pos;
    if (s.substr(i, 5) == "type=") {
        i += 5;
    }
    const std::size_t name = i;
    while (i < s.size() && (is_key_char(s[i]) || s[i] == '[' || s[i] == ']')) {
        ++i;
    }
    if (i == name || i >= s.size() || s[i] != ' ') {
        return 0;
    }
    const std::string_view after = s.substr(i + 1);
    if (starts_with(after, "msg=audit(")) {
        // without "type=" only an upper case record name (PROCTITLE msg=audit(...))
        if (name == pos && !(s[name] >= 'A' && s[name] <= 'Z')) {
            return 0;
        }
        return i + 1 - pos;
    }
    if (name != pos && starts_with(after, "audit(")) {
        return i + 1 - pos;
    }
    return 0;
}

// Every record start in s (several when records ran together), found from their "audit(".
template <typename F>
void for_each_record_start(std::string_view s, F&& f)
{
    std::size_t from = 0;
    for (;;) {
        const std::size_t a = find(s, "audit(", from);
        if (a == std::string_view::npos) {
            return;
        }
        from = a + 6;
        // back to the start of "type=NAME " before "msg=audit(" / "audit("
        std::size_t p = a;
        if (p >= 4 && s.substr(p - 4, 4) == "msg=") {
            p -= 4;
        }
        if (p == 0 || s[p - 1] != ' ') {
            continue;
        }
        std::size_t q = p - 1;  // the space
        std::size_t t = q;
        while (t > 0 && (is_key_char(s[t - 1]) || s[t - 1] == '[' || s[t - 1] == ']')) {
            --t;
        }
        if (t >= 5 && s.substr(t - 5, 5) == "type=") {
            t -= 5;
        }
        // ("permissive=0type=SYSCALL msg=audit(": the walk back stopped at '=', "type=" is before it)
        if (record_head(s, t) == 0) {
            continue;
        }
        // a node=/host= token right before belongs to the record
        if (t >= 2 && s[t - 1] == ' ') {
            const std::size_t sp = s.rfind(' ', t - 2);
            const std::size_t tok = sp == std::string_view::npos ? 0 : sp + 1;
            if (starts_with(s.substr(tok), "node=") || starts_with(s.substr(tok), "host=")) {
                t = tok;
            }
        }
        f(t);
    }
}

bool read_num(std::string_view& s, int max_digits, int& v)
{
    int n = 0;
    v = 0;
    while (!s.empty() && is_digit(s.front()) && n < max_digits) {
        v = v * 10 + (s.front() - '0');
        s.remove_prefix(1);
        ++n;
    }
    return n > 0;
}

bool take(std::string_view& s, char c)
{
    if (s.empty() || s.front() != c) {
        return false;
    }
    s.remove_prefix(1);
    return true;
}

// "02/06/2025 12:31:15.483:1776)" and the other %x %T renderings -> epoch seconds, millis, serial.
bool parse_local_stamp(std::string_view& s, std::int64_t& secs, int& ms, std::uint64_t& serial)
{
    int a = 0;
    int b = 0;
    int c = 0;
    int year = 0;
    int mon = 0;
    int day = 0;
    std::string_view t = s;
    if (!read_num(t, 4, a) || t.empty()) {
        return false;
    }
    const char sep = t.front();
    t.remove_prefix(1);
    if (sep != '/' && sep != '.' && sep != '-') {
        return false;
    }
    if (!read_num(t, 2, b) || !take(t, sep) || !read_num(t, 4, c)) {
        return false;
    }
    if (sep == '-') {  // YYYY-MM-DD
        year = a;
        mon = b;
        day = c;
    } else if (sep == '.') {  // DD.MM.YYYY
        day = a;
        mon = b;
        year = c;
    } else if (a > 12) {  // DD/MM/YYYY
        day = a;
        mon = b;
        year = c;
    } else {  // MM/DD/YYYY, MM/DD/YY
        mon = a;
        day = b;
        year = c;
    }
    if (year < 100) {
        year += year < 70 ? 2000 : 1900;
    }
    int h = 0;
    int mi = 0;
    int sec = 0;
    if (!take(t, ' ') || !read_num(t, 2, h) || !take(t, ':') || !read_num(t, 2, mi) || !take(t, ':')
        || !read_num(t, 2, sec)) {
        return false;
    }
    ms = 0;
    if (take(t, '.')) {
        int digits = 0;
        while (!t.empty() && is_digit(t.front())) {
            if (digits < 3) {
                ms = ms * 10 + (t.front() - '0');
            }
            ++digits;
            t.remove_prefix(1);
        }
        for (; digits < 3; ++digits) {
            ms *= 10;
        }
    }
    if (!take(t, ':')) {
        return false;
    }
    auto ser = util::parse_uint(t);
    if (!ser || !take(t, ')')) {
        return false;
    }
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || h > 23 || mi > 59 || sec > 60 || year < 1969 || year > 9999) {
        return false;
    }
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    tm.tm_isdst = -1;
    const std::time_t epoch = std::mktime(&tm);
    if (epoch == static_cast<std::time_t>(-1) && !(year == 1969 || year == 1970)) {
        return false;
    }
    // a host whose clock was not set shows the epoch in its own zone (12/31/1969 19:00:08)
    secs = std::max<std::int64_t>(0, static_cast<std::int64_t>(epoch));
    serial = *ser;
    s = t;
    return true;
}

// Keys whose values ausearch -i prints as bare text, spaces and all.
bool is_text_key(std::string_view k)
{
    static constexpr std::string_view k_keys[] = {"comm", "exe", "path", "name", "cwd", "profile", "target",
                                                  "name2", "parent", "peer", "peer_addr"};
    for (auto key : k_keys) {
        if (k == key) {
            return true;
        }
    }
    return false;
}

// Position of the next " key=" in s at or after from (a space, then a key, then '='), or npos.
std::size_t next_field(std::string_view s, std::size_t from)
{
    for (std::size_t sp = s.find(' ', from); sp != std::string_view::npos; sp = s.find(' ', sp + 1)) {
        std::size_t i = sp + 1;
        while (i < s.size() && is_key_char(s[i])) {
            ++i;
        }
        if (i > sp + 1 && i < s.size() && s[i] == '=') {
            return sp;
        }
    }
    return std::string_view::npos;
}

void append_value(std::string& out, std::string_view v)
{
    if (v.find('"') == std::string_view::npos && v.find('\x1d') == std::string_view::npos) {
        out += '"';
        out += v;
        out += '"';
        return;
    }
    static const char* const k_hex = "0123456789ABCDEF";
    for (unsigned char c : v) {
        out += k_hex[c >> 4];
        out += k_hex[c & 15];
    }
}

// Body of an interpreted record with its bare text values quoted again.
void requote_body(std::string_view body, bool proctitle, std::string& out)
{
    if (proctitle && starts_with(body, "proctitle=")) {
        std::string_view v = trim_right(body.substr(10));
        out += "proctitle=";
        if (!v.empty() && v.front() == '"') {
            out += v;
        } else {
            append_value(out, v);
        }
        return;
    }
    std::size_t i = 0;
    while (i < body.size()) {
        // at a token start
        std::size_t k = i;
        while (k < body.size() && is_key_char(body[k])) {
            ++k;
        }
        if (k > i && k < body.size() && body[k] == '=' && is_text_key(body.substr(i, k - i))
            && (k + 1 >= body.size() || (body[k + 1] != '"' && body[k + 1] != '\''))) {
            const std::size_t end_value = next_field(body, k + 1);
            const std::size_t stop = end_value == std::string_view::npos ? body.size() : end_value;
            out.append(body.data() + i, k + 1 - i);
            append_value(out, trim_right(body.substr(k + 1, stop - k - 1)));
            i = stop;
            continue;
        }
        const std::size_t sp = body.find(' ', i);
        const std::size_t stop = sp == std::string_view::npos ? body.size() : sp + 1;
        out.append(body.data() + i, stop - i);
        i = stop;
    }
}

} // namespace

bool uninterpret_record(std::string_view line, std::string& out)
{
    std::string_view node;
    std::string_view s = line;
    if (starts_with(s, "node=") || starts_with(s, "host=")) {
        const std::size_t sp = s.find(' ');
        if (sp == std::string_view::npos) {
            return false;
        }
        node = s.substr(0, sp + 1);
        s.remove_prefix(sp + 1);
    }
    const std::size_t head = record_head(s, 0);
    if (head == 0) {
        return false;
    }
    std::string_view type = s.substr(0, head - 1);
    if (starts_with(type, "type=")) {
        type.remove_prefix(5);
    }
    std::string_view rest = s.substr(head);
    if (!starts_with(rest, "msg=audit(")) {
        return false;
    }
    rest.remove_prefix(10);
    std::int64_t secs = 0;
    int ms = 0;
    std::uint64_t serial = 0;
    if (!parse_local_stamp(rest, secs, ms, serial)) {
        return false;
    }
    // " : " after the stamp (": " when a paste lost a space)
    while (!rest.empty() && is_space(rest.front())) {
        rest.remove_prefix(1);
    }
    if (!take(rest, ':')) {
        return false;
    }
    while (!rest.empty() && is_space(rest.front())) {
        rest.remove_prefix(1);
    }
    out.clear();
    out += node;
    out += "type=";
    out += type;
    out += " msg=audit(";
    out += std::to_string(secs);
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%03d:", ms);
    out += frac;
    out += std::to_string(serial);
    out += "): ";
    requote_body(rest, type == "PROCTITLE", out);
    return true;
}

std::string unrecognised_note(std::string_view head)
{
    static constexpr const char* k_raw = "raw records come from `ausearch -m AVC,USER_AVC,SELINUX_ERR --raw` "
                                         "(auditd) or `journalctl -k -o cat` (kernel log)";
    if (util::trim(head).empty() || find(head, "type=") != std::string_view::npos
        || find(head, "audit(") != std::string_view::npos || find(head, "apparmor=") != std::string_view::npos
        || find(head, "avc:") != std::string_view::npos) {
        return {};
    }
    std::string what;
    if (find(head, "SELinux is preventing") != std::string_view::npos) {
        what = "setroubleshoot's summary (\"SELinux is preventing ...\"), which carries no security contexts; "
               "`sealert -l UUID` prints the raw AVC under \"Raw Audit Messages\", or ";
    } else if (find(head, "Profile:") != std::string_view::npos && find(head, "Operation:") != std::string_view::npos) {
        what = "aa-notify's summary (Profile:/Operation:/Name:), which drops fields; ";
    } else if (find(head, "AVC Report") != std::string_view::npos) {
        what = "an aureport --avc table, which drops fields; ";
    }
    std::size_t bad = 0;
    for (unsigned char c : head.substr(0, 4096)) {
        bad += c == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r');
    }
    if (bad > 0) {
        what = "binary data, not a text log; ";
    }
    return "no audit record recognised" + (what.empty() ? std::string("; ") : std::string(": it looks like ") + what) + k_raw;
}

bool looks_like_paste(std::string_view block)
{
    {
        // journalctl output with both renderings of kernel audit records: read them once
        const std::size_t a = find(block, "]: AVC ");
        if (a != std::string_view::npos && find(block.substr(a > 32 ? a - 32 : 0, 40), "audit[") != std::string_view::npos
            && find(block, "type=1400 audit(") != std::string_view::npos) {
            return true;
        }
    }
    RecordParser parser;
    bool last_record = false;
    while (!block.empty()) {
        const std::size_t nl = block.find('\n');
        if (nl == std::string_view::npos) {
            break;  // a line cut by the block's end
        }
        std::string_view line = block.substr(0, nl);
        block.remove_prefix(nl + 1);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (looks_like_journal_json(line) || is_verbose_header(line) || starts_with(line, "Profile: ")
            || starts_with(line, "AppArmor denials: ")) {
            return true;  // journalctl -o json / json-pretty / verbose, aa-notify
        }
        const LineKind kind = parser.parse(line);
        const std::string_view trimmed = trim_right(line);
        if (kind == LineKind::records) {
            if ((!trimmed.empty() && trimmed.back() == '\\') || has_nbsp(trimmed)) {
                return true;
            }
            // kernel or syslog records run together: the last record's body holds another
            bool more = false;
            for_each_record_start(parser.record(parser.record_count() - 1).body, [&](std::size_t) { more = true; });
            if (more) {
                return true;
            }
            last_record = true;
            continue;
        }
        const std::string_view s = strip_prefix(trimmed);
        if (s.size() != trimmed.size() && holds_record(s)) {
            return true;  // an indented or quoted record
        }
        if (has_nbsp(s) || is_fence(s) || find(s, "SELinux is preventing") != std::string_view::npos
            || starts_with(s, "AVC Report")) {
            return true;
        }
        if (kind == LineKind::malformed) {
            std::string raw;
            if (uninterpret_record(s, raw)) {
                return true;  // ausearch -i
            }
            if (!trimmed.empty() && trimmed.back() == '\\') {
                return true;
            }
            last_record = true;  // a record cut short: wrapped if the next line holds its tail
            continue;
        }
        if (last_record && looks_like_fields(s) && !starts_with(s, "type=") && !starts_with(s, "node=")) {
            return true;  // the tail of a wrapped record
        }
        if (record_head(s, 0) != 0 && !starts_with(s, "type=")) {
            return true;  // ausearch -i's "PROCTITLE msg=audit(...)" without "type="
        }
        if (is_separator(s) && find(block.substr(0, 4096), "msg=audit(") != std::string_view::npos) {
            return true;  // ausearch's "----" between events
        }
        {
            // a record inside prose or after a prompt: "Example: type=AVC msg=audit(...)"
            std::size_t first = std::string_view::npos;
            for_each_record_start(s, [&](std::size_t pos) { first = std::min(first, pos); });
            if (first != std::string_view::npos && first > 0 && parse_syslog_time(s, 2000) == 0 && s.front() != '['
                && starts_with(s.substr(first), "type=")
                && find(s.substr(first), "msg=audit(") != std::string_view::npos) {
                return true;
            }
        }
        last_record = false;
    }
    return false;
}

bool PasteNormaliser::seen_in_other_rendering(std::string_view line)
{
    const std::int64_t t = parse_syslog_time(line, 2000);
    if (t == 0) {
        return false;
    }
    Rendered r;
    r.second = t / 1000;
    std::string_view body;
    const std::size_t journald = find(line, "]: AVC ");
    const std::size_t kernel = find(line, "type=1400 audit(");
    if (journald != std::string_view::npos && find(line.substr(0, journald), "audit[") != std::string_view::npos) {
        body = line.substr(journald + 7);
    } else if (kernel != std::string_view::npos) {
        const std::size_t close = line.find("): ", kernel);
        if (close == std::string_view::npos) {
            return false;
        }
        body = line.substr(close + 3);
        r.kernel = true;
    } else {
        return false;
    }
    body = util::trim(body);
    r.body_hash = std::hash<std::string_view>()(body);
    for (const Rendered& o : m_recent) {
        if (o.body_hash == r.body_hash && o.kernel != r.kernel && o.second != 0
            && (o.second - r.second <= 1 && r.second - o.second <= 1)) {
            m_forms |= paste_two_renderings;
            return true;
        }
    }
    m_recent[m_recent_next] = r;
    m_recent_next = (m_recent_next + 1) % k_recent;
    return false;
}

void PasteNormaliser::feed(std::string_view raw, std::uint64_t line_number, const Emit& emit)
{
    if (feed_journal(raw, line_number, emit)) {
        return;
    }
    if (has_nbsp(raw)) {
        // a web page's no-break spaces (U+00A0) where the log had spaces
        m_forms |= paste_prefixed;
        m_nbsp.clear();
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '\xc2' && i + 1 < raw.size() && raw[i + 1] == '\xa0') {
                m_nbsp += ' ';
                ++i;
            } else {
                m_nbsp += raw[i];
            }
        }
        raw = m_nbsp;
    }
    std::string_view line = trim_right(raw);
    std::string_view s = strip_prefix(line);
    if (s.size() != line.size() && holds_record(s)) {
        m_forms |= paste_prefixed;
    }
    if (m_on_summary && feed_setroubleshoot(s, line_number, emit)) {
        return;
    }
    if (m_on_summary && (m_in_aa || starts_with(s, "Profile: "))) {
        if (!m_in_aa) {
            flush(emit);
        }
        if (feed_aa_notify(s, line_number)) {
            return;
        }
    }
    if (starts_with(s, "AppArmor denials: ") && find(s, " (since ") != std::string_view::npos) {
        m_too_little = "aa-notify -l's count (\"AppArmor denials: N (since ...)\"), which names no denial: "
                       "`aa-notify -l -v` prints each one, and `journalctl -k -o cat --grep apparmor=` or "
                       "`ausearch --raw -m AVC` the raw records";
    }
    if (is_fence(s) || is_separator(s)) {
        m_forms |= paste_fenced;
        flush(emit);
        return;
    }
    if (s.empty()) {
        flush(emit);
        return;
    }
    if (m_has_pending) {
        const bool backslash = !m_pending.empty() && m_pending.back() == '\\';
        // "type=AVC msg=audit(...) :" alone: its body is on the next line
        const bool head_only = !m_pending.empty() && m_pending.back() == ':';
        const bool continues = backslash || head_only || open_quote(m_pending)
            || (!starts_new_line(s) && looks_like_fields(s));
        if (continues) {
            m_forms |= paste_joined;
            if (backslash) {
                m_pending.pop_back();  // "a \" + "b" -> "a b"; "ab\" + "c" -> "abc"
            } else if (!m_pending.empty() && m_pending.back() != ' ') {
                m_pending += ' ';
            }
            m_pending.append(s.data(), s.size());
            return;
        }
        flush(emit);
    }
    if (holds_record(s) || s.back() == '\\') {
        m_pending.assign(s.data(), s.size());
        m_pending_line = line_number;
        m_has_pending = true;
        return;
    }
    emit_logical(s, line_number, emit);
}

bool PasteNormaliser::feed_setroubleshoot(std::string_view s, std::uint64_t line_number, const Emit& emit)
{
    if (!m_sr.empty()) {
        if (s.empty() || starts_new_line(s) || m_sr_parts >= 6) {
            flush_setroubleshoot(emit);
            return false;
        }
        m_sr += ' ';
        m_sr.append(s.data(), s.size());
        ++m_sr_parts;
        if (find(s, "sealert -l") != std::string_view::npos) {
            m_forms |= paste_joined;
            std::string line;
            line.swap(m_sr);
            emit_logical(line, m_sr_line, emit);
        }
        return true;
    }
    if (find(s, "SELinux is preventing ") != std::string_view::npos) {
        if (find(s, "sealert -l") != std::string_view::npos) {
            return false;  // whole on its line
        }
        flush(emit);
        m_sr.clear();
        if (!m_sr_prefix.empty() && m_sr_prefix_line + 1 == line_number) {
            m_sr = m_sr_prefix + ' ';
        }
        m_sr.append(s.data(), s.size());
        m_sr_line = line_number;
        m_sr_parts = 1;
        return true;
    }
    if (!s.empty() && s.back() == ':' && find(s, "setroubleshoot") != std::string_view::npos && s.size() < 256) {
        m_sr_prefix.assign(s.data(), s.size());  // the date and host of the wrapped one-liner that follows
        m_sr_prefix_line = line_number;
    }
    return false;
}

void PasteNormaliser::flush_setroubleshoot(const Emit& emit)
{
    if (m_sr.empty()) {
        return;
    }
    std::string line;
    line.swap(m_sr);
    emit_logical(line, m_sr_line, emit);  // not a one-liner after all: the text as it was
}

void PasteNormaliser::finish(const Emit& emit)
{
    flush_setroubleshoot(emit);
    finish_journal(emit);
    finish_aa_notify_block();
    flush(emit);
}

std::uint64_t PasteNormaliser::summaries(std::string_view kind) const
{
    if (kind == k_summary_setroubleshoot) {
        return m_setroubleshoot;
    }
    if (kind == k_summary_aa_notify) {
        return m_aa_notify;
    }
    if (kind == k_summary_aureport) {
        return m_aureport;
    }
    return 0;
}

bool PasteNormaliser::feed_aa_notify(std::string_view s, std::uint64_t line_number)
{
    bool ends = false;
    if (!m_in_aa) {
        m_aa = model::Denial();
        m_aa_text.clear();
        m_in_aa = true;
        m_aa_line = line_number;
    }
    if (add_aa_notify_line(s, m_aa, ends)) {
        if (m_aa_text.size() < 4096) {
            m_aa_text.append(s.data(), s.size());
            m_aa_text += '\n';
        }
        if (ends) {
            finish_aa_notify_block();
        }
        return true;
    }
    finish_aa_notify_block();
    return false;
}

void PasteNormaliser::finish_aa_notify_block()
{
    if (!m_in_aa) {
        return;
    }
    m_in_aa = false;
    if (finish_aa_notify(m_aa) && m_on_summary) {
        ++m_aa_notify;
        m_forms |= paste_summary;
        m_on_summary(m_aa, m_aa_text, m_aa_line);
    }
}

bool PasteNormaliser::summary(std::string_view line, std::uint64_t line_number)
{
    if (!m_on_summary) {
        return false;
    }
    model::Denial d;
    if (find(line, "SELinux is preventing ") != std::string_view::npos) {
        if (!parse_setroubleshoot(line, d)) {
            return false;
        }
        ++m_setroubleshoot;
    } else if (!line.empty() && is_digit(line.front()) && find(line, ". ") != std::string_view::npos
               && line.size() < 4096) {
        if (!parse_aureport_avc(line, d)) {
            // "N. DATE TIME ..." rows of aureport's other reports, or an --avc row it could not read
            const std::size_t dot = line.find(". ");
            bool index = dot > 0 && dot < 10;
            for (std::size_t i = 0; index && i < dot; ++i) {
                index = is_digit(line[i]);
            }
            if (index && find(line, "/") != std::string_view::npos && find(line, ":") != std::string_view::npos) {
                m_too_little = "aureport rows that are not `aureport --avc` denials with their contexts, class and "
                               "permission, which carry too little: `ausearch --raw -m AVC,USER_AVC,SELINUX_ERR` "
                               "prints the raw records";
            }
            return false;
        }
        ++m_aureport;
    } else {
        return false;
    }
    m_forms |= paste_summary;
    m_on_summary(d, line, line_number);
    return true;
}

bool PasteNormaliser::feed_journal(std::string_view raw, std::uint64_t line_number, const Emit& emit)
{
    if (m_in_pretty) {
        // json-pretty: "\t\"FIELD\" : value," lines, then "}"; anything else ends it (a "{" of
        // some other text), and that line is read as usual
        std::string_view field = raw;
        while (!field.empty() && is_space(field.front())) {
            field.remove_prefix(1);
        }
        if (trim_right(raw) != "}" && (field.empty() || field.front() != '"')) {
            m_in_pretty = false;
            m_pretty.clear();
            return false;
        }
        m_pretty.append(raw.data(), raw.size());
        m_pretty += '\n';
        if (trim_right(raw) == "}") {
            m_in_pretty = false;
            if (parse_journal_json(m_pretty, m_entry)) {
                emit_journal_entry(m_entry_line, emit);
            }
            m_pretty.clear();
        } else if (m_pretty.size() > (1u << 20)) {
            m_in_pretty = false;  // no end in sight: not a journal entry
            m_pretty.clear();
        }
        return true;
    }
    if (m_in_verbose) {
        if (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t')) {
            add_verbose_field(raw, m_entry);  // a field, or a value's continuation
            return true;
        }
        m_in_verbose = false;
        emit_journal_entry(m_entry_line, emit);
    }
    if (is_verbose_header(raw)) {
        flush(emit);
        m_entry.clear();
        m_in_verbose = true;
        m_entry_line = line_number;
        return true;
    }
    if (!raw.empty() && raw.front() == '{') {
        const std::string_view t = trim_right(raw);
        if (t == "{") {
            flush(emit);
            m_in_pretty = true;
            m_pretty = "{\n";
            m_entry_line = line_number;
            return true;
        }
        if (looks_like_journal_json(t) && parse_journal_json(t, m_entry)) {
            flush(emit);
            emit_journal_entry(line_number, emit);
            return true;
        }
    }
    return false;
}

void PasteNormaliser::finish_journal(const Emit& emit)
{
    if (m_in_verbose) {
        m_in_verbose = false;
        emit_journal_entry(m_entry_line, emit);
    }
    m_in_pretty = false;
    m_pretty.clear();
}

void PasteNormaliser::emit_journal_entry(std::uint64_t line_number, const Emit& emit)
{
    if (!journal_entry_line(m_entry, m_journal_line)) {
        return;
    }
    m_forms |= paste_journal_export;
    if (seen_journal_record(m_journal_line)) {
        ++m_duplicates;
        m_forms |= paste_two_renderings;
        return;
    }
    const std::string line = std::move(m_journal_line);
    emit_logical(line, line_number, emit);
}

bool PasteNormaliser::seen_journal_record(std::string_view line)
{
    // the kernel transport's "audit: type=1400 audit(T:S): BODY" and the audit transport's
    // record made again ("type=AVC msg=audit(T:S): BODY") of one record
    const std::size_t a = find(line, "audit(");
    if (a == std::string_view::npos) {
        return false;
    }
    const std::size_t close = line.find("): ", a);
    if (close == std::string_view::npos) {
        return false;
    }
    const std::string_view stamp = line.substr(a + 6, close - a - 6);
    const std::string_view body = util::trim(line.substr(close + 3));
    const std::size_t h = std::hash<std::string_view>()(stamp) * 31 + std::hash<std::string_view>()(body);
    for (std::size_t seen : m_journal_seen) {
        if (seen == h && h != 0) {
            return true;
        }
    }
    m_journal_seen[m_journal_next] = h;
    m_journal_next = (m_journal_next + 1) % k_recent;
    return false;
}

void PasteNormaliser::flush(const Emit& emit)
{
    if (!m_has_pending) {
        return;
    }
    m_has_pending = false;
    std::string line;
    line.swap(m_pending);
    emit_logical(line, m_pending_line, emit);
    line.swap(m_pending);
    m_pending.clear();
}

void PasteNormaliser::emit_logical(std::string_view line, std::uint64_t line_number, const Emit& emit)
{
    std::size_t starts[k_max_split];
    std::size_t n = 0;
    for_each_record_start(line, [&](std::size_t pos) {
        if (n < k_max_split && (n == 0 || pos > starts[n - 1])) {
            starts[n++] = pos;
        }
    });
    auto one = [&](std::string_view seg) {
        seg = trim_right(seg);
        if (seg.empty()) {
            return;
        }
        if (summary(seg, line_number)) {
            return;
        }
        if (seen_in_other_rendering(seg)) {
            ++m_duplicates;
            return;
        }
        if (uninterpret_record(seg, m_rewrite)) {
            m_forms |= paste_interpreted;
            emit(m_rewrite, line_number);
        } else if (starts_with(seg, "type=") && record_head(seg, 0) != 0
                   && starts_with(seg.substr(record_head(seg, 0)), "audit(")) {
            // a kernel record split off a line ("type=1400 audit(...)"): read in its kernel form
            m_rewrite.assign("audit: ");
            m_rewrite.append(seg.data(), seg.size());
            emit(m_rewrite, line_number);
        } else {
            emit(seg, line_number);
        }
    };
    if (n == 0) {
        one(line);
        return;
    }
    if (n > 1) {
        m_forms |= paste_split;
    }
    // Before the first record: prose ("Example of denial: ") is dropped when the record has
    // its own msg=audit( stamp; a syslog or dmesg prefix before "type=1400 audit(" stays
    // (the record parser reads it there).
    std::size_t begin = starts[0];
    if (begin > 0) {
        const std::string_view first = line.substr(begin);
        const std::size_t head = record_head(first, 0);
        if (head == 0 || !starts_with(first.substr(head), "msg=audit(")) {
            begin = 0;
        }
    }
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t end = i + 1 < n ? starts[i + 1] : line.size();
        one(line.substr(begin, end - begin));
        begin = end;
    }
}

} // namespace virtdeny::ingest
