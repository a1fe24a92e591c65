#include <analyzer/ingest/summary_forms.hpp>

#include <analyzer/util/text.hpp>

#include <algorithm>
#include <ctime>

namespace virtdeny::ingest {

using util::find;
using util::starts_with;

namespace {

constexpr std::string_view k_preventing = "SELinux is preventing ";
// " For complete SELinux messages run: sealert -l UUID" (setroubleshoot 3), " For complete
// SELinux messages. run sealert -l UUID" (older releases)
constexpr std::string_view k_complete = " For complete SELinux messages";
constexpr std::string_view k_sealert = "sealert -l ";

bool ends_with(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "read" / "read, write" / "'read, write'" / "'read'" -> permissions
void add_accesses(std::string_view a, model::Denial& d)
{
    a = util::trim(a);
    if (a.size() >= 2 && a.front() == '\'' && a.back() == '\'') {
        a = a.substr(1, a.size() - 2);
    }
    while (!a.empty()) {
        const std::size_t cut = a.find_first_of(", ");
        const std::string_view p = a.substr(0, cut);
        if (!p.empty()) {
            d.permissions.emplace_back(p);
        }
        if (cut == std::string_view::npos) {
            break;
        }
        a.remove_prefix(cut + 1);
    }
}

// setroubleshoot's translate_class(): the words it prints for some classes, back to the class
std::string class_of_words(std::string_view w)
{
    static constexpr std::pair<std::string_view, std::string_view> k_words[] = {
        {"directory", "dir"}, {"semaphore", "sem"}, {"shared memory", "shm"}, {"message queue", "msgq"},
        {"message", "msg"},
    };
    for (const auto& [words, cls] : k_words) {
        if (w == words) {
            return std::string(cls);
        }
    }
    return std::string(w);
}

bool valid_class(std::string_view c)
{
    return !c.empty() && c.size() < 40 && std::all_of(c.begin(), c.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
    });
}

bool valid_permissions(const model::Denial& d)
{
    return !d.permissions.empty() && std::all_of(d.permissions.begin(), d.permissions.end(), [](const std::string& p) {
        return valid_class(p);
    });
}

// aureport's "%x %T" date: "03/13/2024 11:10:08", "03/13/24 ...", "2024-03-13 ..."; the local
// time of the host that ran aureport, read in this host's zone (TZ) as ausearch -i dates are.
std::int64_t local_date_ms(std::string_view date, std::string_view time)
{
    int a = 0, b = 0, c = 0, h = 0, m = 0, sec = 0;
    char sep = 0;
    const std::string d(date);
    const std::string t(time);
    if (std::sscanf(d.c_str(), "%d%c%d%*c%d", &a, &sep, &b, &c) != 4 || std::sscanf(t.c_str(), "%d:%d:%d", &h, &m, &sec) != 3) {
        return 0;
    }
    std::tm tm{};
    if (sep == '-') {
        tm.tm_year = a - 1900;
        tm.tm_mon = b - 1;
        tm.tm_mday = c;
    } else {
        tm.tm_year = (c < 100 ? c + 2000 : c) - 1900;
        tm.tm_mon = a - 1;
        tm.tm_mday = b;
    }
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || h > 23 || m > 59 || sec > 60
        || tm.tm_year < 70 || tm.tm_year > 8000) {
        return 0;
    }
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    tm.tm_isdst = -1;
    const std::time_t e = std::mktime(&tm);
    return e <= 0 ? 0 : static_cast<std::int64_t>(e) * 1000;
}

} // namespace

bool parse_setroubleshoot(std::string_view line, model::Denial& d)
{
    const std::size_t at = find(line, k_preventing);
    if (at == std::string_view::npos) {
        return false;
    }
    std::string_view s = line.substr(at + k_preventing.size());
    const std::size_t complete = find(s, k_complete);
    const std::size_t sealert = complete == std::string_view::npos ? complete : find(s, k_sealert, complete);
    if (sealert == std::string_view::npos || sealert > complete + k_complete.size() + 8) {
        return false;  // a sealert report's first line, or a multi-line journal message: not the one-liner
    }
    std::string_view id = util::trim(s.substr(sealert + k_sealert.size()));
    id = id.substr(0, id.find(' '));
    const std::string uuid(id);
    s = s.substr(0, complete);
    if (s.empty() || s.back() != '.') {
        return false;
    }
    s.remove_suffix(1);
    const std::size_t from = find(s, " from ");
    if (from == std::string_view::npos || from == 0) {
        return false;
    }
    const std::string_view source = s.substr(0, from);
    std::string_view rest = s.substr(from + 6);
    model::Denial out;
    out.mac = model::Mac::selinux;
    out.record_type = "SETROUBLESHOOT";
    out.summary = std::string(k_summary_setroubleshoot);
    if (starts_with(rest, "using the ")) {
        rest.remove_prefix(10);
        for (std::string_view tail : {" access on a process", " accesses on a process"}) {
            if (ends_with(rest, tail)) {
                add_accesses(rest.substr(0, rest.size() - tail.size()), out);
                out.tclass = "process";
            }
        }
        for (std::string_view tail : {" capability", " capabilities"}) {
            if (out.tclass.empty() && ends_with(rest, tail)) {
                add_accesses(rest.substr(0, rest.size() - tail.size()), out);
                out.tclass = "capability";
            }
        }
        if (out.tclass.empty()) {
            return false;
        }
    } else {
        std::size_t on = find(rest, " access on the ");
        std::size_t skip = 15;
        if (on == std::string_view::npos) {
            on = find(rest, " accesses on the ");
            skip = 17;
        }
        if (on == std::string_view::npos) {
            return false;
        }
        add_accesses(rest.substr(0, on), out);
        rest.remove_prefix(on + skip);
        // CLASS (one word, or setroubleshoot's two words for shm and msgq) then the target
        std::size_t sp = rest.find(' ');
        if (sp == std::string_view::npos) {
            return false;
        }
        std::string_view words = rest.substr(0, sp);
        if ((words == "shared" || words == "message") && (starts_with(rest.substr(sp), " memory ") || starts_with(rest.substr(sp), " queue "))) {
            sp = rest.find(' ', sp + 1);
            words = rest.substr(0, sp);
        }
        out.tclass = class_of_words(words);
        std::string_view target = rest.substr(sp + 1);
        if (starts_with(target, "labeled ")) {
            target = {};  // "on the file labeled user_home_t": no path, the type only
        }
        if (!target.empty() && target.front() == '/') {
            out.path = std::string(target);
        } else {
            out.name = std::string(target);
        }
    }
    if (!valid_class(out.tclass) || !valid_permissions(out)) {
        return false;
    }
    if (!source.empty() && source.front() == '/') {
        out.exe = std::string(source);
    } else {
        out.comm = std::string(source);
    }
    out.raw_command = util::is_uuid(uuid) ? "sealert -l " + uuid : std::string("ausearch -m AVC -ts recent");
    d = std::move(out);
    return true;
}

bool add_aa_notify_line(std::string_view line, model::Denial& d, bool& ends_block)
{
    line = util::trim(line);
    const std::size_t colon = line.find(": ");
    ends_block = false;
    if (colon == std::string_view::npos) {
        return false;
    }
    const std::string_view key = line.substr(0, colon);
    const std::string value(util::trim(line.substr(colon + 2)));
    if (key == "Profile") {
        d.profile = value;
    } else if (key == "Operation") {
        d.operation = value;
    } else if (key == "Name") {
        d.name = value;
    } else if (key == "Denied") {
        d.denied_mask = value;
    } else if (key == "Family") {
        d.family = value;
    } else if (key == "Socket") {
        d.sock_type = value;
    } else if (key == "Logfile") {
        ends_block = true;  // the last line aa-notify prints for an event
    } else {
        return false;
    }
    return true;
}

bool finish_aa_notify(model::Denial& d)
{
    if (d.profile.empty() || d.operation.empty() || (d.name.empty() && d.family.empty() && d.denied_mask.empty())) {
        return false;
    }
    d.mac = model::Mac::apparmor;
    d.apparmor = "DENIED";  // aa-notify shows DENIED events only
    d.enforced = true;
    d.record_type = "AA-NOTIFY";
    d.summary = std::string(k_summary_aa_notify);
    d.raw_command = "journalctl -k -o cat --grep apparmor=";
    if (d.operation == "capable" && !d.name.empty()) {
        d.capname = d.name;
    }
    return true;
}

bool parse_aureport_avc(std::string_view line, model::Denial& d)
{
    // "1. 03/14/2024 02:15:10 qemu-kvm system_u:system_r:svirt_t:s0:c1,c2 9 file map
    //  unconfined_u:object_r:user_home_t:s0 denied 76609"
    std::string_view tok[12];
    std::size_t n = 0;
    std::string_view s = util::trim(line);
    while (!s.empty() && n < 12) {
        const std::size_t sp = s.find_first_of(" \t");
        tok[n++] = s.substr(0, sp);
        if (sp == std::string_view::npos) {
            s = {};
            break;
        }
        s = util::trim(s.substr(sp));
    }
    if (n != 11 || !s.empty()) {
        return false;
    }
    const std::string_view index = tok[0];
    if (index.size() < 2 || index.back() != '.' || !std::all_of(index.begin(), index.end() - 1, util::is_digit)) {
        return false;
    }
    auto is_context = [](std::string_view c) { return std::count(c.begin(), c.end(), ':') >= 3; };
    if (!is_context(tok[4]) || !is_context(tok[8]) || (tok[9] != "denied" && tok[9] != "granted")) {
        return false;
    }
    if (tok[9] != "denied" || !valid_class(tok[6]) || !valid_class(tok[7])) {
        return false;
    }
    auto serial = tok[10];
    auto v = util::parse_uint(serial);
    if (!v || !serial.empty()) {
        return false;
    }
    model::Denial out;
    out.mac = model::Mac::selinux;
    out.record_type = "AUREPORT";
    out.summary = std::string(k_summary_aureport);
    out.comm = std::string(tok[3]);
    out.scontext = std::string(tok[4]);
    out.tclass = std::string(tok[6]);
    out.permissions.emplace_back(tok[7]);
    out.tcontext = std::string(tok[8]);
    out.serial = *v;
    out.time_ms = local_date_ms(tok[1], tok[2]);
    out.raw_command = "ausearch --raw -m AVC -a " + std::to_string(*v);
    d = std::move(out);
    return true;
}

} // namespace virtdeny::ingest
