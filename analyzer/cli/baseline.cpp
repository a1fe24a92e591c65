#include <analyzer/cli/baseline.hpp>

#include <analyzer/correlate/correlator.hpp>
#include <analyzer/correlate/vm_registry.hpp>

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <sys/stat.h>

namespace virtdeny::cli {

namespace {

constexpr std::size_t k_min_random = 6;
constexpr std::size_t k_max_random = 16;

bool is_alnum(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

bool all_digits(const std::string& s)
{
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c))) {
            return false;
        }
    }
    return true;
}

// Looks like mkstemp/mkdtemp output: 6-16 letters and digits mixing digits and letters or
// upper and lower case ("Qw83Zk", "tNpKSj"), not a word ("qcow2" is too short, "backup" one case).
bool looks_random(const std::string& s)
{
    if (s.size() < k_min_random || s.size() > k_max_random) {
        return false;
    }
    bool digit = false;
    bool upper = false;
    bool lower = false;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isdigit(u)) {
            digit = true;
        } else if (std::isupper(u)) {
            upper = true;
        } else if (std::islower(u)) {
            lower = true;
        } else {
            return false;
        }
    }
    return (digit && (upper || lower)) || (upper && lower);
}

bool is_hex(char c)
{
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

// Replaces every 8-4-4-4-12 uuid in s with '*'.
std::string without_uuids(const std::string& s)
{
    static const int k_groups[] = {8, 4, 4, 4, 12};
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t j = i;
        bool ok = i == 0 || !is_hex(s[i - 1]);
        for (int g = 0; ok && g < 5; ++g) {
            for (int k = 0; k < k_groups[g]; ++k, ++j) {
                if (j >= s.size() || !is_hex(s[j])) {
                    ok = false;
                    break;
                }
            }
            if (ok && g < 4) {
                if (j >= s.size() || s[j] != '-') {
                    ok = false;
                } else {
                    ++j;
                }
            }
        }
        if (ok && (j == s.size() || !is_hex(s[j]))) {
            out.push_back('*');
            i = j;
        } else {
            out.push_back(s[i]);
            ++i;
        }
    }
    return out;
}

std::string stable_component(const std::string& c)
{
    if (all_digits(c)) {
        return "*";
    }
    // libvirt's per-run directories: domain-12-lab01
    if (c.rfind("domain-", 0) == 0) {
        std::size_t j = 7;
        while (j < c.size() && std::isdigit(static_cast<unsigned char>(c[j]))) {
            ++j;
        }
        if (j > 7 && j < c.size() && c[j] == '-') {
            return "domain-*" + c.substr(j);
        }
    }
    // tmpXXXXXXXX (Python tempfile and friends)
    if (c.size() > 3 + k_min_random && c.rfind("tmp", 0) == 0) {
        std::string rest = c.substr(3);
        bool plain = true;
        for (char ch : rest) {
            if (!is_alnum(ch) && ch != '_') {
                plain = false;
            }
        }
        if (plain && rest.size() <= k_max_random) {
            return "tmp*";
        }
    }
    // NAME-XXXXXX, NAME.XXXXXX, NAME_XXXXXX, or a whole random component
    const std::size_t sep = c.find_last_of("-._");
    const std::string tail = sep == std::string::npos ? c : c.substr(sep + 1);
    if (looks_random(tail)) {
        return (sep == std::string::npos ? std::string() : c.substr(0, sep + 1)) + "*";
    }
    return c;
}

std::string join_key(const BaselineEntry& e)
{
    return e.mac + " | " + e.vm + " | " + e.subject + " | " + e.tclass + " | " + e.object;
}

} // namespace

std::string stable_path(const std::string& path)
{
    const std::string p = without_uuids(path);
    std::string out;
    std::size_t i = 0;
    while (i <= p.size()) {
        const std::size_t slash = p.find('/', i);
        const std::size_t end = slash == std::string::npos ? p.size() : slash;
        out += stable_component(p.substr(i, end - i));
        if (slash == std::string::npos) {
            break;
        }
        out.push_back('/');
        i = slash + 1;
    }
    return out;
}

std::string stable_context(const std::string& context)
{
    const std::string_view type = correlate::context_type(context);
    return type.empty() ? context : std::string(type);
}

BaselineEntry baseline_entry(const model::Finding& f)
{
    BaselineEntry e;
    e.mac = model::to_string(f.mac);
    if (f.domain && !f.domain->name.empty()) {
        e.vm = f.domain->name;
    } else if (f.host_level) {
        e.vm = "host";
    } else {
        e.vm = "-";
    }
    if (f.mac == model::Mac::selinux) {
        e.subject = stable_context(f.subject);
    } else {
        // libvirt-<uuid>[//child]: the VM's profile, by name
        std::string subject = f.subject;
        if (!correlate::libvirt_profile_uuid(subject).empty()) {
            const std::size_t child = subject.find("//");
            subject = "libvirt-" + e.vm + (child == std::string::npos ? std::string() : subject.substr(child));
        }
        e.subject = without_uuids(subject);
    }
    e.tclass = f.tclass;
    std::string object = f.path.empty() ? std::string() : stable_path(f.path);
    if (!f.tcontext.empty()) {
        object += (object.empty() ? "" : " ") + stable_context(f.tcontext);
    }
    const model::Denial& d = f.sample;
    if (f.mac == model::Mac::apparmor) {
        if (!d.family.empty() || !d.sock_type.empty()) {
            object += (object.empty() ? "" : " ") + d.family + "/" + d.sock_type;
        }
        if (f.tclass == "cap" && !f.permissions.empty()) {
            object += (object.empty() ? "" : " ") + f.permissions.front();
        }
        if (!d.bus.empty()) {
            object += (object.empty() ? "" : " ") + d.bus + ":" + d.dbus_path + ":" + d.interface + "." + d.member;
        }
    }
    e.object = object.empty() ? "-" : object;
    if (!f.node.empty()) {
        e.key = f.node + " | ";
    }
    e.key += join_key(e);
    e.permissions.insert(f.permissions.begin(), f.permissions.end());
    return e;
}

bool Baseline::load(const std::string& path, std::string& error)
{
    std::ifstream in(path);
    if (!in) {
        error = path + ": cannot open baseline";
        return false;
    }
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty() || line[0] == '#') {
            continue;
        }
        const auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.contains("key") || !j["key"].is_string()) {
            error = path + ": line " + std::to_string(number) + ": not a baseline entry";
            return false;
        }
        BaselineEntry e;
        e.key = j["key"].get<std::string>();
        e.mac = j.value("mac", "");
        e.vm = j.value("vm", "");
        e.subject = j.value("subject", "");
        e.tclass = j.value("class", "");
        e.object = j.value("object", "");
        if (j.contains("permissions") && j["permissions"].is_array()) {
            for (const auto& p : j["permissions"]) {
                if (p.is_string()) {
                    e.permissions.insert(p.get<std::string>());
                }
            }
        }
        add(e);
    }
    return true;
}

bool Baseline::save(const std::string& path, std::string& error) const
{
    // A regular file (or a new one) is replaced atomically: written beside it, then renamed
    // over it, so a crash never leaves half a baseline. Anything else (/dev/null, a pipe,
    // /dev/stdout) is written in place: renaming over a device would replace the device node
    // itself, which as root on a hypervisor turns /dev/null into a file.
    struct stat st{};
    const bool exists = ::stat(path.c_str(), &st) == 0;
    const bool atomic = !exists || S_ISREG(st.st_mode);
    const std::string tmp = atomic ? path + ".tmp" : path;
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out) {
            error = tmp + ": cannot write baseline";
            return false;
        }
        out << "# virtdeny baseline v1: one known finding per line (virtdeny replay --write-baseline)\n";
        for (const auto& [key, e] : m_entries) {
            nlohmann::ordered_json j;
            j["key"] = key;
            j["mac"] = e.mac;
            j["vm"] = e.vm;
            j["subject"] = e.subject;
            j["class"] = e.tclass;
            j["object"] = e.object;
            j["permissions"] = std::vector<std::string>(e.permissions.begin(), e.permissions.end());
            out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        }
        out.flush();
        if (!out) {
            error = tmp + ": write failed";
            return false;
        }
    }
    if (atomic && std::rename(tmp.c_str(), path.c_str()) != 0) {
        error = path + ": cannot replace baseline";
        std::remove(tmp.c_str());
        return false;
    }
    return true;
}

void Baseline::add(const BaselineEntry& entry)
{
    auto it = m_entries.find(entry.key);
    if (it == m_entries.end()) {
        m_entries.emplace(entry.key, entry);
        return;
    }
    it->second.permissions.insert(entry.permissions.begin(), entry.permissions.end());
}

bool Baseline::covers(const BaselineEntry& entry) const
{
    auto it = m_entries.find(entry.key);
    if (it == m_entries.end()) {
        return false;
    }
    for (const auto& p : entry.permissions) {
        if (it->second.permissions.count(p) == 0) {
            return false;
        }
    }
    return true;
}

} // namespace virtdeny::cli
