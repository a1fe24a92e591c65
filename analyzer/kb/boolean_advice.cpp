#include <analyzer/kb/boolean_advice.hpp>
#include <analyzer/util/text.hpp>

#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/kb/selinux_words.hpp>

#include <algorithm>

namespace virtdeny::kb {

namespace {

void add_unique(std::vector<std::string>& v, const std::string& s)
{
    if (std::find(v.begin(), v.end(), s) == v.end()) {
        v.push_back(s);
    }
}

std::string capped(const std::vector<std::string>& v, std::size_t max_names)
{
    std::vector<std::string> shown(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min(v.size(), max_names)));
    std::string out = util::join(shown, ", ");
    if (v.size() > max_names) {
        out += " and " + std::to_string(v.size() - max_names) + " more";
    }
    return out;
}

} // namespace

model::Fix boolean_fix(const std::string& boolean, bool value)
{
    model::Fix fix;
    fix.kind = "selinux-boolean";
    fix.scope = model::Scope::host;
    fix.text_parts = {{model::TextForm::literal, "setsebool -P " + boolean + (value ? " 1" : " 0")}};
    fix.grant.kind = model::GrantKind::boolean;
    fix.grant.boolean = boolean;
    fix.grant.boolean_value = value;
    return fix;
}

std::string describe_grants(const std::vector<const BooleanGrant*>& grants, std::size_t max_names)
{
    std::vector<std::string> sources;
    std::vector<std::string> targets;
    std::vector<std::string> classes;
    for (const BooleanGrant* g : grants) {
        add_unique(sources, g->source);
        add_unique(targets, g->target == "self" ? g->source + " (itself)" : g->target);
        add_unique(classes, g->tclass);
    }
    return std::to_string(grants.size()) + (grants.size() == 1 ? " rule" : " rules") + ": "
        + capped(sources, max_names) + " -> " + capped(targets, max_names) + " (" + capped(classes, max_names) + ")";
}

std::vector<model::Fix> boolean_fixes(const BooleanTable& table, const model::Finding& f)
{
    std::vector<model::Fix> out;
    const std::string stype(correlate::context_type(f.subject));
    const std::string ttype(correlate::context_type(f.tcontext));
    if (f.mac != model::Mac::selinux || !is_selinux_identifier(stype) || !is_selinux_identifier(ttype)
        || f.permissions.empty()) {
        return out;
    }
    for (const BooleanTable::Answer& answer : table.lookup(stype, ttype, f.tclass, f.permissions)) {
        if (!answer.complete) {
            continue;
        }
        const char* value = answer.required_value ? "1" : "0";
        const std::string name = answer.required_value ? answer.boolean : "!" + answer.boolean;
        model::Fix fix = boolean_fix(answer.boolean, answer.required_value);
        std::string desc = answer.desc;
        if (!desc.empty() && desc.back() != '.') {
            desc += '.';
        }
        fix.note = "Host-wide, not only this VM: " + desc + " Setting it to " + value
            + " allows all its " + describe_grants(table.grants_of(name)) + ". Default: "
            + (answer.default_value ? "on." : "off.");
        out.push_back(std::move(fix));
    }
    return out;
}

} // namespace virtdeny::kb
