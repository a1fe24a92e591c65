#include <analyzer/kb/access_model.hpp>

#include <analyzer/kb/mcs_expression.hpp>

#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/util/text.hpp>

#include <algorithm>
#include <charconv>

namespace virtdeny::kb {

namespace {

bool parse_categories(std::string_view text, std::vector<unsigned>& out)
{
    while (!text.empty()) {
        const std::size_t comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        const std::size_t dot = item.find('.');
        auto number = [](std::string_view c, unsigned& n) {
            if (c.size() < 2 || c.front() != 'c') {
                return false;
            }
            const auto r = std::from_chars(c.data() + 1, c.data() + c.size(), n);
            return r.ec == std::errc() && r.ptr == c.data() + c.size() && n < 65536;
        };
        unsigned lo = 0;
        unsigned hi = 0;
        if (dot == std::string_view::npos) {
            if (!number(item, lo)) {
                return false;
            }
            hi = lo;
        } else if (!number(item.substr(0, dot), lo) || !number(item.substr(dot + 1), hi) || hi < lo) {
            return false;
        }
        for (unsigned c = lo; c <= hi; ++c) {
            out.push_back(c);
        }
        if (comma == std::string_view::npos) {
            break;
        }
        text.remove_prefix(comma + 1);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return true;
}

McsLevel parse_level(std::string_view level)
{
    McsLevel out;
    const std::size_t colon = level.find(':');
    out.sensitivity = std::string(level.substr(0, colon));
    if (out.sensitivity.size() < 2 || out.sensitivity.front() != 's') {
        return out;
    }
    if (colon != std::string_view::npos && !parse_categories(level.substr(colon + 1), out.categories)) {
        return out;
    }
    out.valid = true;
    return out;
}


} // namespace

McsLevel parse_mcs_high(std::string_view level)
{
    const std::size_t dash = level.find('-');
    return parse_level(dash == std::string_view::npos ? level : level.substr(dash + 1));
}

McsLevel parse_mcs_low(std::string_view level)
{
    return parse_level(level.substr(0, level.find('-')));
}

bool mcs_dominates(const McsLevel& high, const McsLevel& other)
{
    if (!high.valid || !other.valid || high.sensitivity != other.sensitivity) {
        return false;
    }
    return std::includes(high.categories.begin(), high.categories.end(), other.categories.begin(),
                         other.categories.end());
}

std::optional<bool> AccessModel::te_allows(const std::string& source, const std::string& target,
                                           const std::string& tclass, const std::vector<std::string>& perms) const
{
    if (perms.empty()) {
        return std::nullopt;
    }
    if (m_policy) {
        // s0 on both sides: only type enforcement (and RBAC/bounds) can deny
        const PolicyAnswer a = m_policy->check("system_u:system_r:" + source + ":s0",
                                               "system_u:object_r:" + target + ":s0", tclass, perms);
        if (!a.evaluated()) {
            return std::nullopt;
        }
        return !a.te_denied && !a.rbac_denied && !a.bounds_denied;
    }
    if (!m_bundled) {
        return std::nullopt;
    }
    bool all = true;
    for (const std::string& p : perms) {
        const std::optional<bool> one = m_bundled(source, target, tclass, p);
        if (!one) {
            return std::nullopt;
        }
        all = all && *one;
    }
    return all;
}

bool mcs_denies(const VirtAllowTable& tables, const std::string& scontext, const std::string& tcontext,
                const std::string& tclass, const std::vector<std::string>& perms)
{
    McsSide subject;
    subject.constrained = tables.mcs_constrained_type(correlate::context_type(scontext));
    if (!subject.constrained) {
        return false;  // every constraint of the table holds for a type outside the attribute
    }
    const std::string_view slevel = correlate::mcs_level(scontext);
    const std::string_view olevel = correlate::mcs_level(tcontext);
    subject.low = parse_mcs_low(slevel);
    subject.high = parse_mcs_high(slevel);
    McsSide object;
    object.low = parse_mcs_low(olevel);
    object.high = parse_mcs_high(olevel);
    object.constrained = tables.mcs_constrained_type(correlate::context_type(tcontext));
    for (const std::string& p : perms) {
        for (const McsConstraint* c : tables.mcs_constraints(tclass, p)) {
            if (mcs_expression_holds(c->expression, subject, object) == false) {
                return true;
            }
        }
    }
    return false;
}

std::string AccessModel::source_label() const
{
    return m_policy ? "the policy " + util::printable(m_policy->path()) : std::string("the bundled policy data");
}

} // namespace virtdeny::kb
