#include <analyzer/ingest/journal_text.hpp>

#include <analyzer/util/text.hpp>

#include <nlohmann/json.hpp>

#include <ctime>

namespace virtdeny::ingest {

using util::find;
using util::is_digit;
using util::starts_with;

namespace {

std::string* field_slot(std::string_view key, JournalTextEntry& e)
{
    if (key == "MESSAGE") {
        e.has_message = true;
        return &e.message;
    }
    if (key == "_TRANSPORT") {
        return &e.transport;
    }
    if (key == "_AUDIT_TYPE_NAME") {
        return &e.audit_type_name;
    }
    if (key == "_AUDIT_TYPE") {
        return &e.audit_type;
    }
    if (key == "_AUDIT_ID") {
        return &e.audit_id;
    }
    if (key == "_SOURCE_REALTIME_TIMESTAMP") {
        return &e.source_realtime;
    }
    if (key == "__REALTIME_TIMESTAMP") {
        return &e.realtime;
    }
    if (key == "_HOSTNAME") {
        return &e.hostname;
    }
    if (key == "SYSLOG_IDENTIFIER") {
        return &e.identifier;
    }
    if (key == "_PID" || (key == "SYSLOG_PID")) {
        return &e.pid;
    }
    return nullptr;
}

bool all_digits(std::string_view s)
{
    if (s.empty() || s.size() > 20) {
        return false;
    }
    for (char c : s) {
        if (!is_digit(c)) {
            return false;
        }
    }
    return true;
}

// One line of a message: a journal MESSAGE may hold newlines (setroubleshoot's long form);
// only its first line is read, as journalctl's short output shows it.
std::string first_line(const std::string& m)
{
    const std::size_t nl = m.find('\n');
    return nl == std::string::npos ? m : m.substr(0, nl);
}

// usec since the epoch -> "2024-03-14T02:15:10.170123+00:00"
bool iso_date(const std::string& usec, std::string& out)
{
    if (!all_digits(usec) || usec.size() > 17) {
        return false;
    }
    const unsigned long long us = std::stoull(usec);
    const std::time_t secs = static_cast<std::time_t>(us / 1000000);
    std::tm tm{};
    if (!gmtime_r(&secs, &tm)) {
        return false;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06llu+00:00", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us % 1000000);
    out = buf;
    return true;
}

bool safe_token(const std::string& s)
{
    if (s.empty() || s.size() > 256) {
        return false;
    }
    for (char c : s) {
        if (static_cast<unsigned char>(c) <= ' ' || c == '(' || c == ')' || c == '[' || c == ']' || c == '=') {
            return false;
        }
    }
    return true;
}

} // namespace

bool looks_like_journal_json(std::string_view line)
{
    line = util::trim(line);
    if (line.empty() || line.front() != '{') {
        return false;
    }
    return find(line, "\"__CURSOR\"") != std::string_view::npos || find(line, "\"MESSAGE\"") != std::string_view::npos
        || find(line, "\"__REALTIME_TIMESTAMP\"") != std::string_view::npos
        || (line.size() == 1);  // json-pretty's "{" alone on its line
}

bool parse_journal_json(std::string_view text, JournalTextEntry& e)
{
    e.clear();
    const nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (!j.is_object()) {
        return false;
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
        std::string* slot = field_slot(it.key(), e);
        if (!slot) {
            continue;
        }
        const auto& v = it.value();
        if (v.is_string()) {
            *slot = v.get<std::string>();
        } else if (v.is_array()) {
            // a value that is not valid UTF-8 (or holds control bytes): an array of byte values
            slot->clear();
            for (const auto& b : v) {
                if (b.is_number_unsigned() && b.get<unsigned>() < 256) {
                    slot->push_back(static_cast<char>(b.get<unsigned>()));
                }
            }
        } else if (v.is_number_unsigned()) {
            *slot = std::to_string(v.get<unsigned long long>());
        } else if (slot == &e.message) {
            e.has_message = false;  // MESSAGE null: not a message
        }
    }
    return e.has_message;
}

bool is_verbose_header(std::string_view line)
{
    // "Sun 2024-03-14 02:15:10.170123 UTC [s=" (the day name, date, time, zone, cursor)
    if (line.size() < 30 || line[3] != ' ' || !(line[0] >= 'A' && line[0] <= 'Z')) {
        return false;
    }
    const std::string_view d = line.substr(4);
    if (!(is_digit(d[0]) && is_digit(d[1]) && is_digit(d[2]) && is_digit(d[3]) && d[4] == '-' && d[7] == '-'
          && d[10] == ' ' && d[13] == ':' && d[16] == ':')) {
        return false;
    }
    return find(line, " [s=") != std::string_view::npos;
}

bool add_verbose_field(std::string_view line, JournalTextEntry& e)
{
    if (line.empty() || (line.front() != ' ' && line.front() != '\t')) {
        return false;
    }
    line = util::trim(line);
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        return false;
    }
    for (char c : line.substr(0, eq)) {
        if (!((c >= 'A' && c <= 'Z') || is_digit(c) || c == '_')) {
            return false;
        }
    }
    if (std::string* slot = field_slot(line.substr(0, eq), e)) {
        *slot = std::string(line.substr(eq + 1));
    }
    return true;
}

bool journal_entry_line(const JournalTextEntry& e, std::string& out)
{
    if (!e.has_message) {
        return false;
    }
    const std::string message = first_line(e.message);
    if (util::trim(message).empty()) {
        return false;
    }
    out.clear();
    if (e.transport == "audit" && all_digits(e.audit_id) && all_digits(e.source_realtime)) {
        // MESSAGE is "TYPE_NAME BODY" (journald-audit.c); the stamp is in the fields
        std::string type = e.audit_type_name;
        std::string_view body = message;
        const std::size_t sp = body.find(' ');
        if (sp != std::string_view::npos && (type.empty() || body.substr(0, sp) == type)) {
            if (type.empty()) {
                type = std::string(body.substr(0, sp));
            }
            body.remove_prefix(sp + 1);
        }
        if (!safe_token(type)) {
            return false;
        }
        const unsigned long long us = std::stoull(e.source_realtime);
        char stamp[64];
        std::snprintf(stamp, sizeof stamp, "%llu.%03llu:", us / 1000000, (us / 1000) % 1000);
        out = "type=" + type + " msg=audit(" + stamp + e.audit_id + "): ";
        out.append(util::trim(body));
        return true;
    }
    std::string date;
    if (!iso_date(e.realtime, date) && !iso_date(e.source_realtime, date)) {
        out = message;  // no date: the message alone
        return true;
    }
    out = date;
    out += ' ';
    out += safe_token(e.hostname) ? e.hostname : std::string("localhost");
    out += ' ';
    out += e.transport == "kernel" ? std::string("kernel") : (safe_token(e.identifier) ? e.identifier : std::string("journal"));
    if (e.transport != "kernel" && all_digits(e.pid)) {
        out += '[' + e.pid + ']';
    }
    out += ": ";
    out += message;
    return true;
}

} // namespace virtdeny::ingest
