#include <analyzer/kb/cause_rules.hpp>

#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/kb/cause_template.hpp>
#include <analyzer/kb/device_rules.hpp>
#include <analyzer/kb/selinux_words.hpp>

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace virtdeny::kb {

namespace fs = std::filesystem;

bool is_fix_kind(std::string_view kind)
{
    static const char* const k_kinds[] = {
        "apparmor-rule", "selinux-allow", "selinux-fcontext", "selinux-boolean", "libvirt-xml", "host-change",
    };
    return std::any_of(std::begin(k_kinds), std::end(k_kinds), [&](const char* k) { return kind == k; });
}

std::optional<model::Scope> parse_scope(std::string_view scope)
{
    if (scope == "domain") {
        return model::Scope::domain;
    }
    if (scope == "daemon") {
        return model::Scope::daemon;
    }
    if (scope == "host") {
        return model::Scope::host;
    }
    return std::nullopt;
}

namespace {

// A problem with one rule; thrown inside the loader, caught per rule.
struct RuleError
{
    std::size_t line;
    std::string message;
};

const std::set<std::string>& rule_keys()
{
    static const std::set<std::string> k_keys = {
        "id", "desc", "match", "device", "explanation", "fixes", "needs", "samples", "severity", "tags",
    };
    return k_keys;
}

const std::set<std::string>& match_keys()
{
    static const std::set<std::string> k_keys = {
        "lsm", "path", "tclass", "permissions", "operation", "subject_type", "target_type",
        "profile", "host_level", "device", "family", "peer", "in_xml",
    };
    return k_keys;
}

std::size_t line_of(const YAML::Node& node)
{
    return static_cast<std::size_t>(node.Mark().line + 1);
}

std::string scalar(const YAML::Node& node, const char* key)
{
    const YAML::Node value = node[key];
    if (!value) {
        return {};
    }
    if (!value.IsScalar()) {
        throw RuleError{line_of(value), std::string(key) + " must be a string"};
    }
    return value.as<std::string>();
}

std::vector<std::string> words(const YAML::Node& node, const char* key)
{
    std::vector<std::string> out;
    const YAML::Node value = node[key];
    if (!value) {
        return out;
    }
    if (value.IsScalar()) {
        out.push_back(value.as<std::string>());
    } else if (value.IsSequence()) {
        for (const auto& item : value) {
            if (!item.IsScalar()) {
                throw RuleError{line_of(item), std::string(key) + " entries must be strings"};
            }
            out.push_back(item.as<std::string>());
        }
    } else {
        throw RuleError{line_of(value), std::string(key) + " must be a string or a list of strings"};
    }
    return out;
}

std::shared_ptr<re2::RE2> pattern(const YAML::Node& node, const char* key, bool full)
{
    const std::string text = scalar(node, key);
    if (text.empty()) {
        return nullptr;
    }
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<RE2>(full ? "(?:" + text + ")" : text, options);
    if (!re->ok()) {
        throw RuleError{line_of(node[key]), "bad " + std::string(key) + " pattern '" + text + "': " + re->error()};
    }
    return re;
}

void check_keys(const YAML::Node& node, const std::set<std::string>& allowed, const char* what)
{
    for (const auto& entry : node) {
        const std::string key = entry.first.as<std::string>();
        if (allowed.count(key) == 0) {
            throw RuleError{line_of(entry.first), "unknown " + std::string(what) + " key '" + key + "'"};
        }
    }
}

void check_device(const std::string& device, const YAML::Node& at, const DeviceRules& devices)
{
    if (!device.empty() && !devices.is_kind(device)) {
        throw RuleError{line_of(at), "unknown device kind '" + device + "'"};
    }
}

CauseMatch read_match(const YAML::Node& node)
{
    if (!node || !node.IsMap()) {
        throw RuleError{node ? line_of(node) : 0, "match must be a map"};
    }
    check_keys(node, match_keys(), "match");
    CauseMatch m;
    const std::string lsm = scalar(node, "lsm");
    if (lsm == "selinux") {
        m.lsm = model::Mac::selinux;
    } else if (lsm == "apparmor") {
        m.lsm = model::Mac::apparmor;
    } else {
        throw RuleError{line_of(node), "match.lsm must be selinux or apparmor, not '" + lsm + "'"};
    }
    m.path = pattern(node, "path", false);
    m.profile = pattern(node, "profile", false);
    m.subject_type = pattern(node, "subject_type", true);
    m.target_type = pattern(node, "target_type", true);
    m.tclasses = words(node, "tclass");
    m.operations = words(node, "operation");
    m.permissions = words(node, "permissions");
    m.families = words(node, "family");
    m.peer = pattern(node, "peer", false);
    if (node["host_level"]) {
        m.host_level = node["host_level"].as<bool>();
    }
    m.device = scalar(node, "device");  // (a known kind: checked by the loader)
    if (node["in_xml"]) {
        m.in_xml = node["in_xml"].as<bool>();
    }
    return m;
}

void check(std::string_view text, TemplateUse use, const YAML::Node& at, const char* what)
{
    std::string error;
    if (!check_template(text, use, error)) {
        throw RuleError{line_of(at), std::string(what) + ": " + error};
    }
}

CauseFix read_fix(const YAML::Node& node)
{
    if (!node.IsMap()) {
        throw RuleError{line_of(node), "each fix must be a map"};
    }
    check_keys(node, {"kind", "scope", "text", "note", "file", "relabel", "level", "libvirt_does"}, "fix");
    CauseFix fix;
    fix.kind = scalar(node, "kind");
    if (!is_fix_kind(fix.kind)) {
        throw RuleError{line_of(node), "unknown fix kind '" + fix.kind + "'"};
    }
    const std::string scope = scalar(node, "scope");
    const auto parsed = parse_scope(scope);
    if (!parsed) {
        throw RuleError{line_of(node), "fix scope must be domain, daemon or host, not '" + scope + "'"};
    }
    fix.scope = *parsed;
    fix.text = scalar(node, "text");
    fix.note = scalar(node, "note");
    fix.file = scalar(node, "file");
    fix.relabel = scalar(node, "relabel");
    if (!fix.relabel.empty() && !is_selinux_identifier(fix.relabel)) {
        throw RuleError{line_of(node["relabel"]), "relabel must be an SELinux type"};
    }
    fix.level = scalar(node, "level");
    if (!fix.level.empty() && fix.level != "vm" && fix.level != "shared") {
        throw RuleError{line_of(node["level"]), "level must be vm or shared"};
    }
    fix.libvirt_does = scalar(node, "libvirt_does");
    check(fix.libvirt_does, TemplateUse::prose, node, "fix libvirt_does");
    if (fix.text.empty() || fix.note.empty()) {
        throw RuleError{line_of(node), "a fix needs text and note"};
    }
    check(fix.text, TemplateUse::fix_text, node, "fix text");
    check(fix.file, TemplateUse::fix_file, node, "fix file");
    check(fix.note, TemplateUse::prose, node, "fix note");
    return fix;
}

bool is_rule_id(const std::string& id)
{
    static const RE2 k_id("vd-(se|aa|lv)-[a-z0-9]+(-[a-z0-9]+)*");
    return RE2::FullMatch(id, k_id);
}

CauseRule read_rule(const YAML::Node& node)
{
    if (!node.IsMap()) {
        throw RuleError{line_of(node), "each rule must be a map"};
    }
    CauseRule rule;
    rule.line = line_of(node);
    rule.id = scalar(node, "id");
    if (!is_rule_id(rule.id)) {
        throw RuleError{rule.line, "rule id '" + rule.id + "' must look like vd-se-NAME, vd-aa-NAME or vd-lv-NAME"};
    }
    check_keys(node, rule_keys(), "rule");
    rule.desc = scalar(node, "desc");
    if (rule.desc.empty()) {
        throw RuleError{rule.line, "desc is missing"};
    }
    rule.match = read_match(node["match"]);
    rule.device = scalar(node, "device");
    rule.explanation = scalar(node, "explanation");
    if (rule.explanation.empty()) {
        throw RuleError{rule.line, "explanation is missing"};
    }
    check(rule.explanation, TemplateUse::prose, node["explanation"], "explanation");
    if (node["fixes"]) {
        for (const auto& fix : node["fixes"]) {
            rule.fixes.push_back(read_fix(fix));
        }
    }
    if (const YAML::Node needs = node["needs"]) {
        if (!needs.IsMap()) {
            throw RuleError{line_of(needs), "needs must be a map (selinux: [perms], apparmor: letters)"};
        }
        check_keys(needs, {"selinux", "apparmor"}, "needs");
        rule.needs_selinux = words(needs, "selinux");
        rule.needs_apparmor = scalar(needs, "apparmor");
        if (rule.needs_apparmor.find_first_not_of("rwalkmix") != std::string::npos) {
            throw RuleError{line_of(needs), "needs.apparmor must be AppArmor file letters (rwalkm, ix)"};
        }
    }
    rule.samples = words(node, "samples");
    if (rule.samples.empty()) {
        throw RuleError{rule.line, "no samples: every rule needs at least one log line that fires it"};
    }
    rule.severity = scalar(node, "severity");
    if (!rule.severity.empty() && rule.severity != "low" && rule.severity != "medium" && rule.severity != "high") {
        throw RuleError{line_of(node["severity"]), "severity must be low, medium or high"};
    }
    rule.tags = words(node, "tags");
    return rule;
}

std::string where(const std::string& name, std::size_t line, const std::string& id)
{
    return name + ":" + std::to_string(line) + ": " + (id.empty() ? std::string() : "rule " + id + ": ");
}


bool has_all(const std::vector<std::string>& have, const std::vector<std::string>& want)
{
    return std::all_of(want.begin(), want.end(), [&](const std::string& w) {
        return std::find(have.begin(), have.end(), w) != have.end();
    });
}

bool any_of(const std::vector<std::string>& allowed, const std::string& value)
{
    return allowed.empty() || std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

bool partial(const std::shared_ptr<re2::RE2>& re, const std::string& value)
{
    return !re || RE2::PartialMatch(value, *re);
}

bool full(const std::shared_ptr<re2::RE2>& re, std::string_view value)
{
    return !re || RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *re);
}

} // namespace

bool cause_matches(const CauseRule& rule, const model::Finding& f)
{
    const CauseMatch& m = rule.match;
    if (m.lsm && *m.lsm != f.mac) {
        return false;
    }
    if (m.path && (f.path.empty() || !partial(m.path, f.path))) {
        return false;
    }
    if (m.host_level && *m.host_level != f.host_level) {
        return false;
    }
    if (!m.device.empty() && m.device != f.device) {
        return false;
    }
    if (m.in_xml && *m.in_xml != !f.xml_source.empty()) {
        return false;
    }
    if (!any_of(m.tclasses, f.tclass) || !any_of(m.operations, f.operation) || !any_of(m.families, f.sample.family)
        || !has_all(f.permissions, m.permissions)) {
        return false;
    }
    if (f.mac == model::Mac::apparmor) {
        return partial(m.profile, f.subject) && (!m.peer || partial(m.peer, f.sample.peer)) && !m.subject_type
            && !m.target_type;
    }
    return !m.profile && !m.peer && full(m.subject_type, correlate::context_type(f.subject))
        && full(m.target_type, correlate::context_type(f.tcontext));
}

void CauseRules::load(const std::string& rules_dir, const DeviceRules& devices, std::vector<std::string>& errors)
{
    for (const std::string& file : yaml_files(fs::path(rules_dir) / "causes")) {
        std::ifstream in(file, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        load_text(text.str(), file, devices, errors);
    }
}

void CauseRules::load_text(std::string_view text, const std::string& name, const DeviceRules& devices,
                           std::vector<std::string>& errors)
{
    YAML::Node doc;
    try {
        doc = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        errors.push_back(where(name, static_cast<std::size_t>(e.mark.line + 1), "") + e.msg);
        return;
    }
    if (!doc.IsSequence()) {
        errors.push_back(where(name, 1, "") + "expected a list of cause rules");
        return;
    }
    std::set<std::string> ids;
    for (const auto& node : doc) {
        const std::string id = node.IsMap() && node["id"] && node["id"].IsScalar() ? node["id"].as<std::string>() : "";
        try {
            CauseRule rule = read_rule(node);
            check_device(rule.match.device, node["match"]["device"], devices);
            check_device(rule.device, node["device"], devices);
            rule.file = name;
            if (!ids.insert(rule.id).second) {
                throw RuleError{rule.line, "duplicate id in the same file"};
            }
            add(std::move(rule));
        } catch (const RuleError& e) {
            errors.push_back(where(name, e.line, id) + e.message);
        } catch (const YAML::Exception& e) {
            errors.push_back(where(name, static_cast<std::size_t>(e.mark.line + 1), id) + e.msg);
        }
    }
}

void CauseRules::add(CauseRule&& rule)
{
    auto same = std::find_if(m_rules.begin(), m_rules.end(), [&](const CauseRule& r) { return r.id == rule.id; });
    if (same != m_rules.end()) {
        *same = std::move(rule);
    } else {
        m_rules.push_back(std::move(rule));
    }
}

const CauseRule* CauseRules::match(const model::Finding& finding) const
{
    for (const auto& rule : m_rules) {
        if (cause_matches(rule, finding)) {
            return &rule;
        }
    }
    return nullptr;
}

const CauseRule* CauseRules::find(std::string_view id) const
{
    for (const auto& rule : m_rules) {
        if (rule.id == id) {
            return &rule;
        }
    }
    return nullptr;
}

} // namespace virtdeny::kb
