#include <analyzer/ingest/record_parser.hpp>

#include <analyzer/util/text.hpp>

#include <cstring>
#include <ctime>

namespace virtdeny::ingest {

using util::find;
using util::is_digit;
using util::starts_with;

namespace {

bool eq(std::string_view a, const char* b)
{
    return a == std::string_view(b);
}

RecordType classify_number(std::string_view name)
{
    auto n = name;
    auto v = util::parse_uint(n);
    if (!v || !n.empty()) {
        return RecordType::other;
    }
    switch (*v) {
    case 1400: return RecordType::avc;
    case 1107: return RecordType::user_avc;
    case 1401:
    case 1122: return RecordType::selinux_err;
    case 1300: return RecordType::syscall;
    case 1307: return RecordType::cwd;
    case 1302: return RecordType::path;
    case 1327: return RecordType::proctitle;
    case 1309: return RecordType::execve;
    case 1402: return RecordType::avc_path;
    case 1306: return RecordType::sockaddr;
    case 1320: return RecordType::eoe;
    case 2500: return RecordType::virt_control;
    case 2501: return RecordType::virt_resource;
    case 2502: return RecordType::virt_machine_id;
    default: break;
    }
    if (*v >= 1500 && *v <= 1507) {
        return RecordType::apparmor_legacy;
    }
    return RecordType::other;
}

} // namespace

RecordType classify_type(std::string_view name)
{
    if (name.empty()) {
        return RecordType::other;
    }
    const char c = name.front();
    if (is_digit(c)) {
        return classify_number(name);
    }
    switch (c) {
    case 'A':
        if (eq(name, "AVC")) {
            return RecordType::avc;
        }
        if (eq(name, "AVC_PATH")) {
            return RecordType::avc_path;
        }
        if (starts_with(name, "APPARMOR")) {
            return RecordType::apparmor_legacy;
        }
        break;
    case 'C':
        if (eq(name, "CWD")) {
            return RecordType::cwd;
        }
        break;
    case 'E':
        if (eq(name, "EOE")) {
            return RecordType::eoe;
        }
        if (eq(name, "EXECVE")) {
            return RecordType::execve;
        }
        break;
    case 'P':
        if (eq(name, "PATH")) {
            return RecordType::path;
        }
        if (eq(name, "PROCTITLE")) {
            return RecordType::proctitle;
        }
        break;
    case 'S':
        if (eq(name, "SYSCALL")) {
            return RecordType::syscall;
        }
        if (eq(name, "SELINUX_ERR")) {
            return RecordType::selinux_err;
        }
        if (eq(name, "SOCKADDR")) {
            return RecordType::sockaddr;
        }
        break;
    case 'U':
        if (eq(name, "USER_AVC")) {
            return RecordType::user_avc;
        }
        if (eq(name, "USER_SELINUX_ERR")) {
            return RecordType::selinux_err;
        }
        if (starts_with(name, "UNKNOWN[") && name.back() == ']') {
            return classify_number(name.substr(8, name.size() - 9));
        }
        break;
    case 'V':
        if (eq(name, "VIRT_CONTROL")) {
            return RecordType::virt_control;
        }
        if (eq(name, "VIRT_RESOURCE")) {
            return RecordType::virt_resource;
        }
        if (eq(name, "VIRT_MACHINE_ID")) {
            return RecordType::virt_machine_id;
        }
        break;
    default: break;
    }
    return RecordType::other;
}

namespace {

// n decimal digits at p (n known at the call, so the loop unrolls); false on a non-digit.
template <int n>
inline bool fixed_digits(const char* p, std::uint64_t& v)
{
    std::uint64_t r = 0;
    for (int i = 0; i < n; ++i) {
        const unsigned d = static_cast<unsigned char>(p[i]) - static_cast<unsigned>('0');
        if (d > 9) {
            return false;
        }
        r = r * 10 + d;
    }
    v = r;
    return true;
}

// Eight ASCII digits at p as a number, or false (SWAR: all eight checked and combined in a few
// multiplications, as simdjson's parse_eight_digits_unrolled).
inline bool eight_digits(const char* p, std::uint64_t& v)
{
    std::uint64_t x;
    std::memcpy(&x, p, 8);
    if ((x & 0xF0F0F0F0F0F0F0F0ULL) != 0x3030303030303030ULL ||
        ((x + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) != 0x3030303030303030ULL) {
        return false;
    }
    x = ((x & 0x0F0F0F0F0F0F0F0FULL) * 2561) >> 8;
    x = ((x & 0x00FF00FF00FF00FFULL) * 6553601) >> 16;
    v = ((x & 0x0000FFFF0000FFFFULL) * 42949672960001ULL) >> 32;
    return true;
}

} // namespace

bool parse_stamp(std::string_view& s, std::int64_t& time_ms, std::uint64_t& serial)
{
    // Fast path, every stamp auditd writes today: ten digits of seconds, three of millis,
    // then the serial ("1710382510.143:76609)"). Anything else takes the general path.
    if (s.size() >= 17 && s[10] == '.' && s[14] == ':') {
        std::uint64_t secs = 0;
        std::uint64_t ms = 0;
        std::uint64_t high = 0;
        std::uint64_t low = 0;
        if (eight_digits(s.data(), high) && fixed_digits<2>(s.data() + 8, low) && fixed_digits<3>(s.data() + 11, ms)) {
            secs = high * 100 + low;
            std::uint64_t ser = 0;
            std::size_t i = 15;
            const std::size_t first = i;
            while (i < s.size() && i - first < 20) {
                const unsigned d = static_cast<unsigned char>(s[i]) - static_cast<unsigned>('0');
                if (d > 9) {
                    break;
                }
                ser = ser * 10 + d;
                ++i;
            }
            if (i > first && i - first < 20 && i < s.size() && s[i] == ')') {
                time_ms = static_cast<std::int64_t>(secs) * 1000 + static_cast<std::int64_t>(ms);
                serial = ser;
                s.remove_prefix(i + 1);
                return true;
            }
        }
    }
    auto secs = util::parse_uint(s);
    if (!secs || s.empty() || s.front() != '.') {
        return false;
    }
    s.remove_prefix(1);
    std::string_view frac_start = s;
    auto frac = util::parse_uint(s);
    if (!frac) {
        return false;
    }
    std::size_t frac_digits = frac_start.size() - s.size();
    std::int64_t ms = static_cast<std::int64_t>(*frac);
    while (frac_digits > 3) {
        ms /= 10;
        --frac_digits;
    }
    while (frac_digits < 3) {
        ms *= 10;
        ++frac_digits;
    }
    if (s.empty() || s.front() != ':') {
        return false;
    }
    s.remove_prefix(1);
    auto ser = util::parse_uint(s);
    if (!ser || s.empty() || s.front() != ')') {
        return false;
    }
    s.remove_prefix(1);
    if (*secs > 253402300799ULL) {  // year 9999
        return false;
    }
    time_ms = static_cast<std::int64_t>(*secs) * 1000 + ms;
    serial = *ser;
    return true;
}

namespace {

int month_index(std::string_view m)
{
    static const char* const k_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; ++i) {
        if (m == k_months[i]) {
            return i;
        }
    }
    return -1;
}

bool read_fixed(std::string_view s, std::size_t pos, std::size_t n, int& out)
{
    if (pos + n > s.size()) {
        return false;
    }
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (!is_digit(s[pos + i])) {
            return false;
        }
        v = v * 10 + (s[pos + i] - '0');
    }
    out = v;
    return true;
}

std::int64_t to_epoch_ms(int year, int mon, int day, int h, int m, int sec, int ms, int offset_minutes)
{
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = mon;
    tm.tm_mday = day;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    const std::time_t t = timegm(&tm);
    return (static_cast<std::int64_t>(t) - offset_minutes * 60) * 1000 + ms;
}

} // namespace

std::int64_t parse_syslog_time(std::string_view line, int default_year)
{
    int y = 0;
    int mo = 0;
    int d = 0;
    int h = 0;
    int mi = 0;
    int s = 0;
    // RFC 3339 / ISO 8601: 2024-03-14T02:15:10[.frac][Z|+hh:mm]
    if (read_fixed(line, 0, 4, y) && line.size() >= 19 && line[4] == '-' && read_fixed(line, 5, 2, mo)
        && line[7] == '-' && read_fixed(line, 8, 2, d) && (line[10] == 'T' || line[10] == ' ')
        && read_fixed(line, 11, 2, h) && line[13] == ':' && read_fixed(line, 14, 2, mi) && line[16] == ':'
        && read_fixed(line, 17, 2, s)) {
        std::size_t pos = 19;
        int ms = 0;
        if (pos < line.size() && (line[pos] == '.' || line[pos] == ',')) {
            ++pos;
            int digits = 0;
            while (pos < line.size() && is_digit(line[pos])) {
                if (digits < 3) {
                    ms = ms * 10 + (line[pos] - '0');
                }
                ++digits;
                ++pos;
            }
            for (; digits < 3; ++digits) {
                ms *= 10;
            }
        }
        int offset = 0;
        if (pos < line.size() && (line[pos] == '+' || line[pos] == '-')) {
            int oh = 0;
            int om = 0;
            const int sign = line[pos] == '-' ? -1 : 1;
            if (read_fixed(line, pos + 1, 2, oh)) {
                std::size_t mpos = pos + 3;
                if (mpos < line.size() && line[mpos] == ':') {
                    ++mpos;
                }
                read_fixed(line, mpos, 2, om);
                offset = sign * (oh * 60 + om);
            }
        }
        return to_epoch_ms(y, mo - 1, d, h, mi, s, ms, offset);
    }
    // Classic: "Mar 14 02:15:10" (day may be space padded)
    if (line.size() >= 15 && line[3] == ' ') {
        const int mon = month_index(line.substr(0, 3));
        if (mon < 0) {
            return 0;
        }
        std::size_t pos = 4;
        if (line[pos] == ' ') {
            ++pos;
        }
        d = 0;
        while (pos < line.size() && is_digit(line[pos])) {
            d = d * 10 + (line[pos] - '0');
            ++pos;
        }
        if (pos >= line.size() || line[pos] != ' ') {
            return 0;
        }
        ++pos;
        if (!read_fixed(line, pos, 2, h) || line.size() < pos + 8 || line[pos + 2] != ':'
            || !read_fixed(line, pos + 3, 2, mi) || line[pos + 5] != ':' || !read_fixed(line, pos + 6, 2, s)) {
            return 0;
        }
        return to_epoch_ms(default_year, mon, d, h, mi, s, 0, 0);
    }
    return 0;
}

LineKind RecordParser::fail(std::string reason)
{
    m_binary = false;
    m_reason = std::move(reason);
    m_count = 0;
    return LineKind::malformed;
}

namespace {

// Splits off a trailing ENRICHED section (after 0x1d).
void split_enriched(Record& r)
{
    const void* gs = std::memchr(r.body.data(), 0x1d, r.body.size());
    if (gs) {
        const std::size_t pos = static_cast<std::size_t>(static_cast<const char*>(gs) - r.body.data());
        r.enriched = r.body.substr(pos + 1);
        r.body = r.body.substr(0, pos);
    }
}

// Where the next "[node=X ]type=T msg=audit(" record starts inside s, or npos: the first
// " type=T msg=audit(" (T without spaces). Found from its '(' (rare in audit records, so
// memchr skips far) rather than from " type=", whose leading space is everywhere.
std::size_t find_next_record(std::string_view s)
{
    static constexpr std::string_view k_msg = " msg=audit";  // then '('
    std::size_t from = 0;
    for (;;) {
        const void* hit = from < s.size() ? std::memchr(s.data() + from, '(', s.size() - from) : nullptr;
        if (!hit) {
            return std::string_view::npos;
        }
        const std::size_t paren = static_cast<std::size_t>(static_cast<const char*>(hit) - s.data());
        from = paren + 1;
        if (paren < k_msg.size() + 6 || s.substr(paren - k_msg.size(), k_msg.size()) != k_msg) {
            continue;
        }
        const std::size_t p = paren - k_msg.size();  // the space before msg=audit(
        // the type token ends at p and has no spaces: its start is after the last space before p
        const std::size_t t = p == 0 ? std::string_view::npos : s.rfind(' ', p - 1);
        if (t == std::string_view::npos || p < t + 6 || s.substr(t, 6) != " type=") {
            continue;
        }
        // include a directly preceding node=/host= token
        std::size_t start = t + 1;
        const std::size_t prev_space = t == 0 ? std::string_view::npos : s.rfind(' ', t - 1);
        const std::size_t tok = prev_space == std::string_view::npos ? 0 : prev_space + 1;
        const std::string_view token = s.substr(tok, t - tok);
        if (starts_with(token, "node=") || starts_with(token, "host=")) {
            start = tok;
        }
        return start;
    }
}

} // namespace

LineKind RecordParser::parse(std::string_view line)
{
    m_count = 0;
    if (line.size() > 5 && line[4] == '=' && (starts_with(line, "type=") || starts_with(line, "node=")
                                              || starts_with(line, "host="))) {
        return parse_raw(line);
    }
    return parse_other(line);
}

LineKind RecordParser::parse_raw(std::string_view line)
{
    std::string_view rest = line;
    while (!rest.empty() && m_count < k_max_records_per_line) {
        Record r;
        if (starts_with(rest, "node=") || starts_with(rest, "host=")) {
            const std::size_t sp = rest.find(' ');
            if (sp == std::string_view::npos) {
                return m_count > 0 ? LineKind::records : fail("node= prefix without a record");
            }
            r.node = rest.substr(5, sp - 5);
            rest.remove_prefix(sp + 1);
        }
        if (!starts_with(rest, "type=")) {
            return m_count > 0 ? LineKind::records : fail("no type= field");
        }
        rest.remove_prefix(5);
        std::size_t sp = rest.find(' ');
        r.type_name = rest.substr(0, sp);
        r.type = classify_type(r.type_name);
        if (r.type == RecordType::other) {
            // Irrelevant record: nothing else on this line matters unless a second record follows.
            if (m_count == 0) {
                return LineKind::irrelevant;
            }
            break;
        }
        if (sp == std::string_view::npos) {
            return fail("record cut after its type");
        }
        rest.remove_prefix(sp + 1);
        if (!starts_with(rest, "msg=audit(")) {
            return fail("type=" + std::string(r.type_name) + " without msg=audit(...) stamp");
        }
        rest.remove_prefix(10);
        if (!parse_stamp(rest, r.time_ms, r.serial)) {
            return fail("malformed msg=audit(...) stamp");
        }
        r.has_stamp = true;
        if (!rest.empty() && rest.front() == ':') {
            rest.remove_prefix(1);
        }
        while (!rest.empty() && rest.front() == ' ') {
            rest.remove_prefix(1);
        }
        const std::size_t next = find_next_record(rest);
        r.body = next == std::string_view::npos ? rest : rest.substr(0, next);
        rest = next == std::string_view::npos ? std::string_view() : rest.substr(next);
        split_enriched(r);
        m_records[m_count++] = r;
    }
    return m_count > 0 ? LineKind::records : LineKind::irrelevant;
}

namespace {

bool looks_binary(std::string_view line)
{
    int bad = 0;
    for (unsigned char c : line) {
        if (c == 0 || (c < 0x20 && c != '\t' && c != 0x1d)) {
            ++bad;
        }
    }
    return bad > 0;
}

} // namespace

std::int64_t RecordParser::syslog_time(std::string_view line) const
{
    const std::int64_t t = parse_syslog_time(line, m_default_year);
    constexpr std::int64_t k_day_ms = 86400000;
    if (!m_year_fixed && m_now_ms > 0 && t > m_now_ms + k_day_ms) {
        return parse_syslog_time(line, m_default_year - 1);
    }
    return t;
}

LineKind RecordParser::parse_other(std::string_view line)
{
    // Kernel / syslog / journal form with a stamp: "type=1400 audit(SEC.MS:SERIAL): body"
    // (optionally preceded by "audit: " and any syslog/dmesg prefix).
    std::size_t t = find(line, "type=");
    while (t != std::string_view::npos) {
        std::size_t p = t + 5;
        while (p < line.size() && line[p] != ' ') {
            ++p;
        }
        std::string_view after = line.substr(p);
        if (starts_with(after, " audit(") || starts_with(after, " msg=audit(")) {
            Record r;
            r.type_name = line.substr(t + 5, p - t - 5);
            r.type = classify_type(r.type_name);
            if (r.type == RecordType::other) {
                return LineKind::irrelevant;
            }
            after.remove_prefix(starts_with(after, " audit(") ? 7 : 11);
            if (!parse_stamp(after, r.time_ms, r.serial)) {
                return fail("malformed audit(...) stamp");
            }
            r.has_stamp = true;
            if (!after.empty() && after.front() == ':') {
                after.remove_prefix(1);
            }
            while (!after.empty() && after.front() == ' ') {
                after.remove_prefix(1);
            }
            r.body = after;
            split_enriched(r);
            m_records[m_count++] = r;
            return LineKind::records;
        }
        t = find(line, "type=", t + 5);
    }
    // Old kernels: "audit(SEC.MS:SERIAL): type=1503 operation=..." (stamp first)
    std::size_t stamp = find(line, "audit(");
    if (stamp != std::string_view::npos) {
        std::string_view after = line.substr(stamp + 6);
        Record r;
        if (parse_stamp(after, r.time_ms, r.serial) && starts_with(after, ": type=")) {
            after.remove_prefix(7);
            const std::size_t sp = after.find(' ');
            r.type_name = after.substr(0, sp);
            r.type = classify_type(r.type_name);
            if (r.type == RecordType::other || sp == std::string_view::npos) {
                return LineKind::irrelevant;
            }
            r.has_stamp = true;
            r.body = after.substr(sp + 1);
            split_enriched(r);
            m_records[m_count++] = r;
            return LineKind::records;
        }
    }
    // journald's rendering: "audit[PID]: AVC apparmor=..." / "audit: AVC avc:  denied ..."
    std::size_t a = find(line, "audit[");
    if (a != std::string_view::npos) {
        std::size_t close = line.find("]: ", a);
        if (close != std::string_view::npos) {
            std::string_view rest = line.substr(close + 3);
            const std::size_t sp = rest.find(' ');
            Record r;
            r.type_name = rest.substr(0, sp);
            r.type = classify_type(r.type_name);
            if (r.type == RecordType::other || sp == std::string_view::npos) {
                return LineKind::irrelevant;
            }
            r.body = util::trim(rest.substr(sp + 1));
            r.time_ms = syslog_time(line);
            split_enriched(r);
            m_records[m_count++] = r;
            return LineKind::records;
        }
    }
    // A daemon's own syslog line (dbus, old kernels): the AppArmor or AVC text alone.
    std::size_t aa = find(line, "apparmor=\"");
    std::size_t avc = aa == std::string_view::npos ? find(line, "avc:") : std::string_view::npos;
    std::size_t start = aa != std::string_view::npos ? aa : avc;
    if (start != std::string_view::npos) {
        Record r;
        r.type_name = {};
        r.type = RecordType::syslog_denial;
        r.body = line.substr(start);
        r.time_ms = syslog_time(line);
        split_enriched(r);
        m_records[m_count++] = r;
        return LineKind::records;
    }
    if (looks_binary(line)) {
        fail("binary data, skipped");
        m_binary = true;
        return LineKind::malformed;
    }
    return LineKind::irrelevant;
}

} // namespace virtdeny::ingest
