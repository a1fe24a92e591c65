#include <analyzer/kb/profile_fixes.hpp>

#include <analyzer/correlate/correlator.hpp>
#include <analyzer/kb/apparmor_glob.hpp>
#include <analyzer/kb/apparmor_grant.hpp>
#include <analyzer/kb/tsv_table.hpp>

#include <algorithm>

namespace virtdeny::kb {

namespace {

constexpr std::string_view k_header = "profile\ttopic\trule\tcommit\tdate\tfirst_tag\tsubject\tsource";

// "ix", "Px", "PUx", ...: the exec mode of a permission string ("" when it has no x), and the
// other letters.
void split_perms(std::string_view perms, std::string& exec, std::string& letters)
{
    exec.clear();
    letters.clear();
    const std::size_t x = perms.find('x');
    std::size_t mode_start = x;
    if (x != std::string_view::npos) {
        while (mode_start > 0 && std::string_view("iIpPuUcC").find(perms[mode_start - 1]) != std::string_view::npos) {
            --mode_start;
        }
        exec = std::string(perms.substr(mode_start, x + 1 - mode_start));
    }
    for (std::size_t i = 0; i < perms.size(); ++i) {
        if (x != std::string_view::npos && i >= mode_start && i <= x) {
            continue;
        }
        letters.push_back(perms[i]);
    }
}

// Does the rule's permission string hold every letter need holds, with the same exec mode?
bool perms_cover(std::string_view rule, std::string_view need)
{
    std::string rule_exec;
    std::string rule_letters;
    std::string need_exec;
    std::string need_letters;
    split_perms(rule, rule_exec, rule_letters);
    split_perms(need, need_exec, need_letters);
    if (!need_exec.empty() && need_exec != rule_exec) {
        return false;
    }
    return std::all_of(need_letters.begin(), need_letters.end(), [&](char c) {
        // w implies a (append) in AppArmor
        return rule_letters.find(c) != std::string::npos || (c == 'a' && rule_letters.find('w') != std::string::npos);
    });
}

std::vector<std::string> words_of(std::string_view rule)
{
    while (!rule.empty() && (rule.back() == ',' || rule.back() == ' ')) {
        rule.remove_suffix(1);
    }
    return tsv::words(rule);
}

bool covers(const ProfileFix& row, const model::Finding& f, const model::Grant& need)
{
    const std::vector<std::string> words = words_of(row.rule);
    if (words.empty() || words.front() == "audit" || words.front() == "deny") {
        return false;
    }
    if (need.tclass == "file") {
        // [owner] GLOB PERMS: an owner rule covers only what the process owns
        std::size_t i = 0;
        if (words[i] == "owner") {
            if (!need.owner) {
                return false;
            }
            ++i;
        }
        if (words.size() != i + 2 || need.perms.empty() || f.path.empty()) {
            return false;
        }
        return apparmor_glob_matches(words[i], f.path) && perms_cover(words[i + 1], need.perms.front());
    }
    // capability NAME..., network FAMILY TYPE: the same keyword and every word of the denial
    if (words.front() != need.tclass || (need.tclass != "capability" && need.tclass != "network")) {
        return false;
    }
    std::vector<std::string> needed;
    for (const auto& [key, value] : need.conditions) {
        needed.push_back(value);
    }
    if (need.tclass == "network") {
        return std::vector<std::string>(words.begin() + 1, words.end()) == needed;
    }
    return !needed.empty() && std::all_of(needed.begin(), needed.end(), [&](const std::string& n) {
        return std::find(words.begin() + 1, words.end(), n) != words.end();
    });
}

} // namespace

std::string libvirt_profile_file(const model::Finding& finding)
{
    if (!correlate::libvirt_profile_uuid(finding.subject).empty()) {
        return "libvirt-qemu";
    }
    const std::string file = apparmor_profile_file(finding);  // /etc/apparmor.d/usr.sbin.libvirtd
    const std::string dir = "/etc/apparmor.d/";
    return file.rfind(dir, 0) == 0 && file.find('/', dir.size()) == std::string::npos ? file.substr(dir.size())
                                                                                      : std::string();
}

bool ProfileFixes::load(const std::string& dir, std::string& error)
{
    return tsv::load_table(dir + "/" + std::string(k_file), error,
                           [this](std::string_view text, std::string_view name, std::string& err) {
                               return load_text(text, name, err);
                           });
}

bool ProfileFixes::load_text(std::string_view text, std::string_view name, std::string& error)
{
    return tsv::for_each_row(
        text, name, k_header, error,
        [this](const std::vector<std::string_view>& f, const std::string& where, std::string& err) {
            ProfileFix row{std::string(f[0]), std::string(f[1]), std::string(f[2]), std::string(f[3]),
                           std::string(f[4]), std::string(f[5]), std::string(f[6]), std::string(f[7])};
            if (row.profile.empty() || row.rule.empty() || row.first_tag.empty()) {
                err = where + ": empty profile, rule or first_tag";
                return false;
            }
            m_rows.push_back(std::move(row));
            return true;
        });
}

const ProfileFix* ProfileFixes::covering(const model::Finding& finding, const model::Grant& need) const
{
    if (need.kind != model::GrantKind::apparmor_rule) {
        return nullptr;
    }
    const std::string profile = libvirt_profile_file(finding);
    if (profile.empty()) {
        return nullptr;
    }
    for (const ProfileFix& row : m_rows) {
        if (row.profile == profile && row.first_tag != "-" && covers(row, finding, need)) {
            return &row;
        }
    }
    return nullptr;
}

} // namespace virtdeny::kb
