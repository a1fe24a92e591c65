#include <analyzer/kb/boolean_table.hpp>

#include <analyzer/kb/tsv_table.hpp>

#include <algorithm>
#include <set>
#include <tuple>

namespace virtdeny::kb {

namespace {

constexpr std::string_view k_booleans_header = "boolean\tdefault\tdesc\tsource\ttarget\tclass\tperms";
constexpr std::string_view k_attributes_header = "type\tattributes";
constexpr std::string_view k_self = "self";
constexpr std::string_view k_process_attribute = "domain";
constexpr std::string_view k_all_perms = "*";

bool is_name(std::string_view s)
{
    if (s.empty()) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '_' || c == '.' || c == '-';
    });
}

bool fail(std::string& error, std::string_view where, std::string_view why)
{
    error = std::string(where) + ": " + std::string(why);
    return false;
}

bool parse_bool(std::string_view text, bool& out)
{
    if (text == "true") {
        out = true;
        return true;
    }
    if (text == "false") {
        out = false;
        return true;
    }
    return false;
}

bool contains(const std::vector<std::string>& words, std::string_view word)
{
    return std::find(words.begin(), words.end(), word) != words.end();
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Loading

bool BooleanTable::load(const std::string& dir, std::string& error)
{
    const std::string booleans_path = dir + "/" + std::string(k_booleans_file);
    const std::string attributes_path = dir + "/" + std::string(k_attributes_file);
    std::string text;
    if (!tsv::read_file(booleans_path, text)) {
        return fail(error, booleans_path + ":0", "cannot read file");
    }
    if (!load_booleans_text(text, booleans_path, error)) {
        return false;
    }
    if (!tsv::read_file(attributes_path, text)) {
        return fail(error, attributes_path + ":0", "cannot read file");
    }
    return load_attributes_text(text, attributes_path, error);
}

bool BooleanTable::load_booleans_text(std::string_view text, std::string_view name,
                                      std::string& error)
{
    return tsv::for_each_row(text, name, k_booleans_header, error,
                        [this](const std::vector<std::string_view>& fields, std::string_view where,
                               std::string& err) { return add_grant_row(fields, where, err); });
}

bool BooleanTable::load_attributes_text(std::string_view text, std::string_view name,
                                        std::string& error)
{
    return tsv::for_each_row(text, name, k_attributes_header, error,
                        [this](const std::vector<std::string_view>& fields, std::string_view where,
                               std::string& err) { return add_attribute_row(fields, where, err); });
}

bool BooleanTable::add_grant_row(const std::vector<std::string_view>& fields,
                                 std::string_view where, std::string& error)
{
    BooleanGrant grant;
    std::string_view boolean = fields[0];
    if (!boolean.empty() && boolean.front() == '!') {
        grant.required_value = false;
        boolean.remove_prefix(1);
    }
    if (!is_name(boolean)) {
        return fail(error, where, "bad boolean name '" + std::string(fields[0]) + "'");
    }
    grant.boolean = std::string(boolean);
    if (!parse_bool(fields[1], grant.default_value)) {
        return fail(error, where, "default must be true or false, not '" + std::string(fields[1]) + "'");
    }
    grant.desc = std::string(fields[2]);
    for (std::size_t i = 3; i < 6; ++i) {
        if (!is_name(fields[i])) {
            return fail(error, where, "bad type, attribute or class '" + std::string(fields[i]) + "'");
        }
    }
    grant.source = std::string(fields[3]);
    grant.target = std::string(fields[4]);
    grant.tclass = std::string(fields[5]);
    grant.perms = tsv::words(fields[6]);
    if (grant.perms.empty()) {
        return fail(error, where, "no permissions");
    }
    for (const std::string& perm : grant.perms) {
        if (perm != k_all_perms && !is_name(perm)) {
            return fail(error, where, "bad permission '" + perm + "'");
        }
    }
    std::sort(grant.perms.begin(), grant.perms.end());
    grant.perms.erase(std::unique(grant.perms.begin(), grant.perms.end()), grant.perms.end());

    const auto first = m_boolean_lines.find(grant.boolean);
    if (first != m_boolean_lines.end()) {
        const BooleanGrant& seen = m_grants[first->second];
        if (seen.default_value != grant.default_value || seen.desc != grant.desc) {
            return fail(error, where, "default or desc of " + grant.boolean
                                          + " differs from its earlier rows");
        }
    } else {
        m_boolean_lines.emplace(grant.boolean, m_grants.size());
    }
    m_grants.push_back(std::move(grant));
    return true;
}

bool BooleanTable::add_attribute_row(const std::vector<std::string_view>& fields,
                                     std::string_view where, std::string& error)
{
    if (!is_name(fields[0])) {
        return fail(error, where, "bad type name '" + std::string(fields[0]) + "'");
    }
    std::vector<std::string>& attrs = m_attributes[std::string(fields[0])];
    for (std::string& attr : tsv::words(fields[1])) {
        if (!is_name(attr)) {
            return fail(error, where, "bad attribute name '" + attr + "'");
        }
        if (!contains(attrs, attr)) {
            ++m_attribute_sizes[attr];
            attrs.push_back(std::move(attr));
        }
    }
    return true;
}

// ---------------------------------------------------------------------------------------
// Queries

bool BooleanTable::has_attribute(std::string_view type, std::string_view attribute) const
{
    if (type == attribute) {
        return true;
    }
    const auto it = m_attributes.find(std::string(type));
    return it != m_attributes.end() && contains(it->second, attribute);
}

bool BooleanTable::matches_source(const BooleanGrant& grant, std::string_view stype,
                                  std::string_view tclass) const
{
    if (has_attribute(stype, grant.source)) {
        return true;
    }
    // Every AVC subject is a process, hence a domain; only filesystem:associate checks
    // have a file type as the subject.
    return grant.source == k_process_attribute && tclass != "filesystem";
}

bool BooleanTable::matches_target(const BooleanGrant& grant, std::string_view stype,
                                  std::string_view ttype) const
{
    if (grant.target == k_self) {
        return ttype == stype;
    }
    return has_attribute(ttype, grant.target);
}

// How many types a rule side covers: 1 for a type (or self), the attribute's known
// member count for an attribute.
std::size_t BooleanTable::breadth(std::string_view name) const
{
    const auto it = m_attribute_sizes.find(std::string(name));
    if (it == m_attribute_sizes.end()) {
        return 1;
    }
    return std::max<std::size_t>(it->second, 1);
}

struct BooleanTable::Match
{
    const BooleanGrant* first = nullptr;
    std::set<std::string> perms;
    bool all_perms = false;
    std::size_t breadth = 0;
};

std::vector<BooleanTable::Answer> BooleanTable::lookup(std::string_view stype,
                                                       std::string_view ttype,
                                                       std::string_view tclass,
                                                       const std::vector<std::string>& perms) const
{
    // (boolean, required value) -> what its matching rows allow
    std::map<std::pair<std::string, bool>, Match> matches;
    for (const BooleanGrant& grant : m_grants) {
        if (grant.tclass != tclass || !matches_source(grant, stype, tclass)
            || !matches_target(grant, stype, ttype)) {
            continue;
        }
        Match& match = matches[{grant.boolean, grant.required_value}];
        if (match.first == nullptr) {
            match.first = &grant;
        }
        match.perms.insert(grant.perms.begin(), grant.perms.end());
        match.all_perms = match.all_perms || match.perms.count(std::string(k_all_perms)) > 0;
        match.breadth = std::max(match.breadth, breadth(grant.source) * breadth(grant.target));
    }

    std::vector<std::pair<std::size_t, Answer>> ranked;
    for (const auto& [key, match] : matches) {
        Answer answer;
        answer.boolean = key.first;
        answer.required_value = key.second;
        answer.default_value = match.first->default_value;
        answer.desc = match.first->desc;
        for (const std::string& perm : perms) {
            if (match.all_perms || match.perms.count(perm) > 0) {
                answer.granted.push_back(perm);
            }
        }
        if (answer.granted.empty() && !perms.empty()) {
            continue;
        }
        answer.complete = answer.granted.size() == perms.size();
        ranked.emplace_back(match.breadth, std::move(answer));
    }
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        const bool a_partial = !a.second.complete;
        const bool b_partial = !b.second.complete;
        return std::tie(a_partial, a.first, a.second.boolean)
            < std::tie(b_partial, b.first, b.second.boolean);
    });

    std::vector<Answer> out;
    out.reserve(ranked.size());
    for (auto& entry : ranked) {
        out.push_back(std::move(entry.second));
    }
    return out;
}

std::vector<const BooleanGrant*> BooleanTable::grants_of(std::string_view boolean) const
{
    // "name" lists every row of the boolean, "!name" only those that apply while it is off.
    bool only_off_rows = false;
    if (!boolean.empty() && boolean.front() == '!') {
        only_off_rows = true;
        boolean.remove_prefix(1);
    }
    std::vector<const BooleanGrant*> out;
    for (const BooleanGrant& grant : m_grants) {
        if (grant.boolean == boolean && (!only_off_rows || !grant.required_value)) {
            out.push_back(&grant);
        }
    }
    return out;
}

}  // namespace virtdeny::kb
