#include <analyzer/ingest/journal_source.hpp>

#include <analyzer/util/text.hpp>

#include <libaudit.h>
#include <systemd/sd-journal.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <functional>
#include <sys/stat.h>
#include <unistd.h>

namespace virtdeny::ingest {

namespace {

// "2024-03-14T02:15:10.170000+00:00", the date journalctl -o short-iso-precise --utc prints.
std::string iso_date(std::uint64_t us)
{
    const std::time_t sec = static_cast<std::time_t>(us / 1000000);
    std::tm tm{};
    ::gmtime_r(&sec, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06u+00:00", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<unsigned>(us % 1000000));
    return buf;
}

// A syslog host name is one word: anything else is left out of the line.
std::string host_word(const std::string& hostname)
{
    for (unsigned char c : hostname) {
        if (c <= ' ' || c >= 0x7f) {
            return "localhost";
        }
    }
    return hostname.empty() ? std::string("localhost") : hostname;
}

// The record type's name, as auditd writes it: journald's _AUDIT_TYPE_NAME or the first word
// of its MESSAGE, unless that is only "AUDITnnnn" (a type journald does not know) and libaudit does.
std::string audit_type_name(const JournalEntry& e, std::string_view first_word)
{
    std::string name = !e.audit_type_name.empty() ? e.audit_type_name : std::string(first_word);
    if (e.audit_type > 0 && (name.empty() || name.rfind("AUDIT", 0) == 0)) {
        if (const char* known = ::audit_msg_type_to_name(e.audit_type)) {
            return known;
        }
        if (name.empty()) {
            return "UNKNOWN[" + std::to_string(e.audit_type) + "]";
        }
    }
    return name;
}

std::string stamp_of(std::uint64_t us, std::uint64_t serial)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%llu.%03u:%llu", static_cast<unsigned long long>(us / 1000000),
                  static_cast<unsigned>((us / 1000) % 1000), static_cast<unsigned long long>(serial));
    return buf;
}

// Splits journald's audit MESSAGE "TYPE body" into its first word and the body.
void split_first_word(std::string_view message, std::string_view& first, std::string_view& rest)
{
    const std::size_t sp = message.find(' ');
    first = message.substr(0, sp);
    rest = sp == std::string_view::npos ? std::string_view() : message.substr(sp + 1);
}

bool field(sd_journal* j, const char* name, std::string& out)
{
    const void* data = nullptr;
    std::size_t length = 0;
    out.clear();
    if (sd_journal_get_data(j, name, &data, &length) < 0) {
        return false;
    }
    const std::size_t prefix = std::strlen(name) + 1;  // "NAME="
    if (length < prefix) {
        return false;
    }
    out.assign(static_cast<const char*>(data) + prefix, length - prefix);
    return true;
}

std::uint64_t number_field(sd_journal* j, const char* name)
{
    std::string value;
    if (!field(j, name, value)) {
        return 0;
    }
    auto v = util::to_int(value);
    return v && *v > 0 ? static_cast<std::uint64_t>(*v) : 0;
}

// Journal files under dir (and its machine-id subdirectories): how many, how many readable.
void count_journal_files(const std::string& dir, int depth, int& found, int& readable)
{
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
        return;
    }
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name == "." || name == "..") {
            continue;
        }
        const std::string path = dir + "/" + name;
        struct stat st{};
        if (::stat(path.c_str(), &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode) && depth > 0) {
            count_journal_files(path, depth - 1, found, readable);
        } else if (S_ISREG(st.st_mode) && (util::ends_with(name, ".journal") || util::ends_with(name, ".journal~"))) {
            ++found;
            readable += ::access(path.c_str(), R_OK) == 0 ? 1 : 0;
        }
    }
    ::closedir(d);
}

} // namespace

std::string JournalSpec::describe() const
{
    if (!files.empty()) {
        return files.size() == 1 ? "journal file " + files.front() : "journal files " + files.front() + " ...";
    }
    if (!directory.empty()) {
        return "journal directory " + directory;
    }
    if (!os_root.empty()) {
        return "the systemd journal under " + os_root;
    }
    return "the systemd journal";
}

std::string render_journal_line(const JournalEntry& e)
{
    if (e.message.empty()) {
        return {};
    }
    const std::uint64_t when = e.realtime_us != 0 ? e.realtime_us : e.source_realtime_us;
    const std::string node = e.node ? "node=" + host_word(e.hostname) + " " : std::string();
    if (e.transport == "audit") {
        std::string_view first;
        std::string_view rest;
        split_first_word(e.message, first, rest);
        const std::string type = audit_type_name(e, first);
        if (e.audit_id != 0 && e.source_realtime_us != 0) {
            // auditd's raw form, stamp and all: joined with its siblings like audit.log
            std::string line = node + "type=" + type + " msg=audit(" + stamp_of(e.source_realtime_us, e.audit_id) + "): ";
            line.append(rest.data(), rest.size());
            return line;
        }
        // no stamp: journald's own rendering, an event of its own
        std::string line = iso_date(when) + " " + host_word(e.hostname) + " audit[0]: " + type + " ";
        line.append(rest.data(), rest.size());
        return line;
    }
    if (e.node) {
        // several machines: the kernel's record in auditd's raw form, which carries node=
        JournalEntry one = e;
        one.node = false;
        const std::string key = journal_record_key(one);
        const std::size_t sp1 = key.find(' ');
        const std::size_t sp2 = key.find(' ', sp1 + 1);
        if (sp2 != std::string::npos) {
            const int number = std::atoi(key.c_str());
            const char* name = ::audit_msg_type_to_name(number);
            return node + "type=" + (name ? std::string(name) : "UNKNOWN[" + key.substr(0, sp1) + "]") + " msg=audit(" +
                   key.substr(sp1 + 1, sp2 - sp1 - 1) + "): " + key.substr(sp2 + 1);
        }
    }
    return iso_date(when) + " " + host_word(e.hostname) + " kernel: " + e.message;
}

std::string journal_record_key(const JournalEntry& e)
{
    if (e.node) {
        // one host's record is not another's
        JournalEntry one = e;
        one.node = false;
        std::string key = journal_record_key(one);
        return key.empty() ? key : host_word(e.hostname) + " " + key;
    }
    if (e.transport == "audit") {
        if (e.audit_id == 0 || e.source_realtime_us == 0 || e.audit_type == 0) {
            return {};
        }
        std::string_view first;
        std::string_view rest;
        split_first_word(e.message, first, rest);
        std::string key = std::to_string(e.audit_type) + " " + stamp_of(e.source_realtime_us, e.audit_id) + " ";
        key.append(rest.data(), rest.size());
        return key;
    }
    // the kernel's "audit: type=1400 audit(S.MS:N): body"
    std::string_view m = e.message;
    const std::size_t t = m.find("type=");
    if (t == std::string_view::npos) {
        return {};
    }
    std::string_view after = m.substr(t + 5);
    const std::size_t sp = after.find(' ');
    if (sp == std::string_view::npos || after.substr(sp, 7) != " audit(") {
        return {};
    }
    const std::string_view type = after.substr(0, sp);
    if (type.empty() || type.find_first_not_of("0123456789") != std::string_view::npos) {
        return {};
    }
    after.remove_prefix(sp + 7);
    const std::size_t close = after.find("): ");
    if (close == std::string_view::npos) {
        return {};
    }
    std::string key(type);
    key += ' ';
    key.append(after.data(), close);
    key += ' ';
    key.append(after.data() + close + 3, after.size() - close - 3);
    return key;
}

std::unique_ptr<JournalReader> JournalReader::open(const JournalSpec& spec, std::string& error)
{
    sd_journal* j = nullptr;
    int r = 0;
    std::vector<std::string> dirs;  // where journal files would be, to explain an empty journal
    if (!spec.files.empty()) {
        for (const auto& f : spec.files) {
            struct stat st{};
            if (::stat(f.c_str(), &st) != 0) {
                error = f + ": " + std::strerror(errno);
                return nullptr;
            }
            if (S_ISDIR(st.st_mode)) {
                error = f + ": is a directory (--journal-dir reads a directory)";
                return nullptr;
            }
            if (::access(f.c_str(), R_OK) != 0) {
                error = f + ": " + std::strerror(errno);
                return nullptr;
            }
        }
        std::vector<const char*> paths;
        for (const auto& f : spec.files) {
            paths.push_back(f.c_str());
        }
        paths.push_back(nullptr);
        r = sd_journal_open_files(&j, paths.data(), 0);
    } else if (!spec.directory.empty()) {
        struct stat st{};
        if (::stat(spec.directory.c_str(), &st) != 0) {
            error = spec.directory + ": " + std::strerror(errno);
            return nullptr;
        }
        if (!S_ISDIR(st.st_mode)) {
            error = spec.directory + ": not a directory (--journal-file reads a journal file)";
            return nullptr;
        }
        dirs.push_back(spec.directory);
        r = sd_journal_open_directory(&j, spec.directory.c_str(), 0);
    } else if (!spec.os_root.empty()) {
        dirs = {spec.os_root + "/var/log/journal", spec.os_root + "/run/log/journal"};
        r = sd_journal_open_directory(&j, spec.os_root.c_str(), SD_JOURNAL_OS_ROOT | SD_JOURNAL_SYSTEM);
    } else {
        dirs = {"/var/log/journal", "/run/log/journal"};
        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
    }
    if (r < 0) {
        error = spec.describe() + ": " + (spec.files.empty() ? std::string() : "not a journal file we can read: ") +
                std::strerror(-r);
        return nullptr;
    }
    std::unique_ptr<JournalReader> reader(new JournalReader(j, spec.describe()));
    std::uint64_t usage = 0;
    if (spec.files.empty() && sd_journal_get_usage(j, &usage) >= 0 && usage == 0) {
        // sd-journal opens an empty set without a word: say which it was
        int found = 0;
        int readable = 0;
        for (const auto& d : dirs) {
            count_journal_files(d, 1, found, readable);
        }
        if (found > readable) {
            error = spec.describe() + ": permission denied (cannot read " + std::to_string(found - readable) + " of " +
                    std::to_string(found) + " journal files; root and the systemd-journal group can)";
        } else {
            std::string where;
            for (const auto& d : dirs) {
                where += (where.empty() ? "" : ", ") + d;
            }
            error = spec.describe() + ": no journal files (looked in " + where + ")";
        }
        return nullptr;
    }
    {
        // entries of several machines (a collector's directory): their records name their host
        const void* data = nullptr;
        std::size_t length = 0;
        int machines = 0;
        if (sd_journal_query_unique(j, "_MACHINE_ID") >= 0) {
            SD_JOURNAL_FOREACH_UNIQUE(j, data, length)
            {
                if (++machines > 1) {
                    break;
                }
            }
        }
        reader->m_several_machines = machines > 1;
    }
    // _TRANSPORT=kernel OR _TRANSPORT=audit
    r = sd_journal_add_match(j, "_TRANSPORT=kernel", 0);
    if (r >= 0) {
        r = sd_journal_add_disjunction(j);
    }
    if (r >= 0) {
        r = sd_journal_add_match(j, "_TRANSPORT=audit", 0);
    }
    if (r < 0) {
        error = spec.describe() + ": " + std::strerror(-r);
        return nullptr;
    }
    return reader;
}

JournalReader::JournalReader(sd_journal* j, std::string name) : m_j(j), m_name(std::move(name)) {}

JournalReader::~JournalReader()
{
    sd_journal_close(m_j);
}

void JournalReader::seek_head()
{
    sd_journal_seek_head(m_j);
}

void JournalReader::seek_tail()
{
    sd_journal_seek_tail(m_j);
    // on the last entry (if any), so that next() returns what comes after it
    if (sd_journal_previous(m_j) > 0) {
        char* c = nullptr;
        if (sd_journal_get_cursor(m_j, &c) >= 0) {
            m_cursor = c;
            std::free(c);
        }
    }
}

void JournalReader::seek_realtime_ms(std::int64_t since_ms)
{
    // entries are ordered by when journald received them, an audit stamp a little before:
    // a minute early, the exact window is the scanner's
    const std::int64_t us = since_ms <= 60000 ? 0 : (since_ms - 60000) * 1000;
    sd_journal_seek_realtime_usec(m_j, static_cast<std::uint64_t>(us));
}

bool JournalReader::seek_after_cursor(const std::string& cursor)
{
    m_cursor = cursor;  // until an entry is read: a restart goes back to the same place
    if (sd_journal_seek_cursor(m_j, cursor.c_str()) < 0) {
        seek_head();
        return false;
    }
    const int r = sd_journal_next(m_j);
    if (r > 0 && sd_journal_test_cursor(m_j, cursor.c_str()) > 0) {
        return true;  // on the entry read last: next() goes on after it
    }
    // not there any more: back one, so that next() returns the first entry after where it was
    if (r <= 0 || sd_journal_previous(m_j) <= 0) {
        seek_head();
    }
    return false;
}

bool JournalReader::seen(const std::string& key)
{
    const std::uint64_t h = std::hash<std::string>{}(key);
    if (m_recent.count(h) != 0) {
        return true;
    }
    m_recent.insert(h);
    m_recent_order.push_back(h);
    if (m_recent_order.size() > k_recent) {
        m_recent.erase(m_recent_order.front());
        m_recent_order.pop_front();
    }
    return false;
}

bool JournalReader::next(std::string& line, std::uint64_t* realtime_us)
{
    JournalEntry e;
    for (;;) {
        const int r = sd_journal_next(m_j);
        if (r <= 0) {
            return false;
        }
            ++m_entries;
        if (m_track_cursor) {
            char* c = nullptr;
            if (sd_journal_get_cursor(m_j, &c) >= 0) {
                m_cursor = c;
                std::free(c);
            }
        }
        field(m_j, "_TRANSPORT", e.transport);
        if (e.transport != "kernel" && e.transport != "audit") {
            continue;
        }
        if (!field(m_j, "MESSAGE", e.message)) {
            continue;
        }
        std::uint64_t rt = 0;
        sd_journal_get_realtime_usec(m_j, &rt);
        e.realtime_us = rt;
        if (e.transport == "audit") {
            e.source_realtime_us = number_field(m_j, "_SOURCE_REALTIME_TIMESTAMP");
            e.audit_id = number_field(m_j, "_AUDIT_ID");
            e.audit_type = static_cast<int>(number_field(m_j, "_AUDIT_TYPE"));
            field(m_j, "_AUDIT_TYPE_NAME", e.audit_type_name);
        } else {
            e.source_realtime_us = 0;
            e.audit_id = 0;
            e.audit_type = 0;
            e.audit_type_name.clear();
        }
        field(m_j, "_HOSTNAME", e.hostname);
        e.node = m_several_machines;
        const std::string key = journal_record_key(e);
        if (!key.empty() && seen(key)) {
            ++m_duplicates;
            continue;
        }
        line = render_journal_line(e);
        if (line.empty()) {
            continue;
        }
        if (realtime_us) {
            *realtime_us = rt;
        }
        return true;
    }
}

int JournalReader::fd()
{
    return sd_journal_get_fd(m_j);
}

int JournalReader::timeout_ms()
{
    std::uint64_t t = 0;
    if (sd_journal_get_timeout(m_j, &t) < 0 || t == UINT64_MAX) {
        return -1;
    }
    struct timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    const std::uint64_t now_us = static_cast<std::uint64_t>(now.tv_sec) * 1000000 + static_cast<std::uint64_t>(now.tv_nsec) / 1000;
    if (t <= now_us) {
        return 0;
    }
    const std::uint64_t ms = (t - now_us + 999) / 1000;
    return ms > 60000 ? 60000 : static_cast<int>(ms);
}

bool JournalReader::process()
{
    return sd_journal_process(m_j) != SD_JOURNAL_NOP;
}

} // namespace virtdeny::ingest
