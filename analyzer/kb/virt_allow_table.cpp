#include <analyzer/kb/virt_allow_table.hpp>

#include <analyzer/kb/tsv_table.hpp>

#include <algorithm>

namespace virtdeny::kb {

namespace {

constexpr std::string_view k_allow_header = "source\tvia\ttarget\tclass\tperms\tcondition";
constexpr std::string_view k_attributes_header = "type\tattributes";
constexpr std::string_view k_mcs_header = "class\tperms\texpression";
constexpr std::string_view k_mcs_types_header = "type\taliases";

bool contains(const std::vector<std::string>& words, std::string_view word)
{
    return std::find(words.begin(), words.end(), word) != words.end();
}

}  // namespace

bool VirtAllowTable::load(const std::string& dir, std::string& error)
{
    const auto table = [&](std::string_view file, bool (VirtAllowTable::*load_text)(std::string_view, std::string_view,
                                                                                   std::string&)) {
        return tsv::load_table(dir + "/" + std::string(file), error,
                               [this, load_text](std::string_view text, std::string_view name, std::string& err) {
                                   return (this->*load_text)(text, name, err);
                               });
    };
    return table(k_allow_file, &VirtAllowTable::load_allow_text)
        && table(k_attributes_file, &VirtAllowTable::load_attributes_text)
        && table(k_mcs_file, &VirtAllowTable::load_mcs_text)
        && table(k_mcs_types_file, &VirtAllowTable::load_mcs_types_text);
}

bool VirtAllowTable::load_allow_text(std::string_view text, std::string_view name,
                                     std::string& error)
{
    return tsv::for_each_row(
        text, name, k_allow_header, error,
        [this](const std::vector<std::string_view>& f, const std::string& where, std::string& err) {
            VirtAllowRule rule{std::string(f[0]), std::string(f[1]), std::string(f[2]),
                               std::string(f[3]), tsv::words(f[4]), std::string(f[5])};
            if (rule.source.empty() || rule.via.empty() || rule.target.empty()
                || rule.tclass.empty() || rule.perms.empty()) {
                err = where + ": empty source, via, target, class or perms";
                return false;
            }
            m_by_source[rule.source].push_back(m_rules.size());
            m_rules.push_back(std::move(rule));
            return true;
        });
}

bool VirtAllowTable::load_attributes_text(std::string_view text, std::string_view name,
                                          std::string& error)
{
    return tsv::for_each_row(
        text, name, k_attributes_header, error,
        [this](const std::vector<std::string_view>& f, const std::string& where, std::string& err) {
            if (f[0].empty()) {
                err = where + ": empty type";
                return false;
            }
            auto& attrs = m_attributes[std::string(f[0])];
            for (auto& a : tsv::words(f[1])) {
                attrs.push_back(std::move(a));
            }
            return true;
        });
}

bool VirtAllowTable::load_mcs_text(std::string_view text, std::string_view name,
                                   std::string& error)
{
    return tsv::for_each_row(
        text, name, k_mcs_header, error,
        [this](const std::vector<std::string_view>& f, const std::string& where, std::string& err) {
            McsConstraint c{std::string(f[0]), tsv::words(f[1]), std::string(f[2])};
            if (c.tclass.empty() || c.perms.empty() || c.expression.empty()) {
                err = where + ": empty class, perms or expression";
                return false;
            }
            m_mcs.push_back(std::move(c));
            return true;
        });
}

bool VirtAllowTable::has_attribute(std::string_view type, std::string_view attribute) const
{
    if (type == attribute) {
        return true;
    }
    const auto it = m_attributes.find(std::string(type));
    return it != m_attributes.end() && contains(it->second, attribute);
}

bool VirtAllowTable::target_matches(std::string_view rule_target, std::string_view target) const
{
    return has_attribute(target, rule_target);
}

VirtAllowTable::Verdict VirtAllowTable::lookup(std::string_view source, std::string_view target,
                                               std::string_view tclass,
                                               std::string_view perm) const
{
    Verdict verdict;
    const auto it = m_by_source.find(source);
    if (it == m_by_source.end()) {
        return verdict;
    }
    verdict.known_source = true;
    std::vector<const VirtAllowRule*> conditional;
    for (const std::size_t index : it->second) {
        const VirtAllowRule& rule = m_rules[index];
        if (rule.tclass != tclass || !contains(rule.perms, perm)
            || !target_matches(rule.target, target)) {
            continue;
        }
        if (rule.condition.empty()) {
            verdict.allowed = true;
            verdict.rules.push_back(&rule);
        } else {
            conditional.push_back(&rule);
        }
    }
    for (const VirtAllowRule* rule : conditional) {
        verdict.rules.push_back(rule);
        if (!contains(verdict.conditions, rule->condition)) {
            verdict.conditions.push_back(rule->condition);
        }
    }
    return verdict;
}

bool VirtAllowTable::load_mcs_types_text(std::string_view text, std::string_view name,
                                         std::string& error)
{
    const bool ok = tsv::for_each_row(
        text, name, k_mcs_types_header, error,
        [this](const std::vector<std::string_view>& f, const std::string& where, std::string& err) {
            if (f[0].empty()) {
                err = where + ": empty type";
                return false;
            }
            m_mcs_types.emplace_back(f[0]);
            for (auto& alias : tsv::words(f[1])) {
                m_mcs_types.push_back(std::move(alias));
            }
            return true;
        });
    std::sort(m_mcs_types.begin(), m_mcs_types.end());
    return ok;
}

std::vector<const McsConstraint*> VirtAllowTable::mcs_constraints(std::string_view tclass,
                                                                  std::string_view perm) const
{
    std::vector<const McsConstraint*> out;
    for (const McsConstraint& c : m_mcs) {
        if (c.tclass == tclass && contains(c.perms, perm)) {
            out.push_back(&c);
        }
    }
    return out;
}

bool VirtAllowTable::mcs_constrained_type(std::string_view type) const
{
    return std::binary_search(m_mcs_types.begin(), m_mcs_types.end(), type, std::less<>());
}

}  // namespace virtdeny::kb
