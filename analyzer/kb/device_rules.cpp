#include <analyzer/kb/device_rules.hpp>

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <stdexcept>

namespace virtdeny::kb {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_alternatives(const std::string& s)
{
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        const std::size_t bar = s.find('|', start);
        out.push_back(s.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
        if (bar == std::string::npos) {
            break;
        }
        start = bar + 1;
    }
    return out;
}


} // namespace

std::vector<std::string> yaml_files(const std::filesystem::path& dir)
{
    std::vector<std::string> files;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        return files;
    }
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const auto ext = entry.path().extension();
        if (ext == ".yaml" || ext == ".yml") {
            files.push_back(entry.path().string());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

namespace {

const std::set<std::string>& hint_keys()
{
    static const std::set<std::string> k_keys = {"shared_tree", "share_root", "read_only_content",
                                                 "guest_image", "shareable_disk", "mkstemp_name"};
    return k_keys;
}

model::DeviceKind read_kind(const YAML::Node& node, const std::string& where)
{
    if (!node.IsMap()) {
        throw std::runtime_error(where + ": a kind is a map (name, desc, hints)");
    }
    for (const auto& entry : node) {
        const std::string key = entry.first.as<std::string>();
        if (key != "name" && key != "desc" && key != "hints") {
            throw std::runtime_error(where + ": unknown kind key '" + key + "'");
        }
    }
    model::DeviceKind kind;
    kind.name = node["name"].as<std::string>("");
    kind.desc = node["desc"].as<std::string>("");
    if (!RE2::FullMatch(kind.name, "[a-z0-9]+(-[a-z0-9]+)*")) {
        throw std::runtime_error(where + ": kind name '" + kind.name + "' is not lower-case words joined by '-'");
    }
    if (kind.desc.empty()) {
        throw std::runtime_error(where + ": kind " + kind.name + ": desc is missing");
    }
    if (const YAML::Node hints = node["hints"]) {
        if (!hints.IsMap()) {
            throw std::runtime_error(where + ": kind " + kind.name + ": hints is a map of booleans");
        }
        for (const auto& entry : hints) {
            const std::string key = entry.first.as<std::string>();
            if (hint_keys().count(key) == 0) {
                throw std::runtime_error(where + ": kind " + kind.name + ": unknown hint '" + key + "'");
            }
        }
        const auto flag = [&](const char* key) { return hints[key] ? hints[key].as<bool>() : false; };
        kind.hints.shared_tree = flag("shared_tree");
        kind.hints.share_root = flag("share_root");
        kind.hints.read_only_content = flag("read_only_content");
        kind.hints.guest_image = flag("guest_image");
        kind.hints.shareable_disk = flag("shareable_disk");
        kind.hints.mkstemp_name = flag("mkstemp_name");
    }
    return kind;
}

} // namespace

void DeviceRules::load(const std::string& rules_dir, std::vector<std::string>& errors, bool kinds_only)
{
    // every file of the directory first (its kinds), then the rules, which may name a kind
    // of any file of this or an earlier directory
    std::vector<std::pair<std::string, YAML::Node>> rule_lists;
    for (const std::string& file : yaml_files(fs::path(rules_dir) / "devices")) {
        YAML::Node doc;
        try {
            doc = YAML::LoadFile(file);
        } catch (const YAML::Exception& e) {
            errors.push_back(file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
            continue;
        }
        if (doc.IsSequence()) {
            rule_lists.emplace_back(file, doc);
            continue;
        }
        if (!doc.IsMap()) {
            errors.push_back(file + ": expected a list of device rules, or a map with kinds and rules");
            continue;
        }
        bool ok = true;
        for (const auto& entry : doc) {
            const std::string key = entry.first.as<std::string>("");
            if (key != "kinds" && key != "rules") {
                errors.push_back(file + ":" + std::to_string(entry.first.Mark().line + 1) + ": unknown key '" + key
                                 + "' (expected kinds and rules)");
                ok = false;
            }
        }
        if (!ok) {
            continue;
        }
        if (const YAML::Node kinds = doc["kinds"]) {
            if (!kinds.IsSequence()) {
                errors.push_back(file + ":" + std::to_string(kinds.Mark().line + 1) + ": kinds is a list");
            } else {
                for (const auto& node : kinds) {
                    try {
                        model::DeviceKind kind = read_kind(node, file + ":" + std::to_string(node.Mark().line + 1));
                        auto same = std::find_if(m_kinds.begin(), m_kinds.end(),
                                                 [&](const model::DeviceKind& k) { return k.name == kind.name; });
                        if (same != m_kinds.end()) {
                            *same = std::move(kind);
                        } else {
                            m_kinds.push_back(std::move(kind));
                        }
                    } catch (const YAML::Exception& e) {
                        errors.push_back(file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
                    } catch (const std::runtime_error& e) {
                        errors.push_back(e.what());
                    }
                }
            }
        }
        if (const YAML::Node rules = doc["rules"]) {
            if (!rules.IsSequence()) {
                errors.push_back(file + ":" + std::to_string(rules.Mark().line + 1) + ": rules is a list");
            } else {
                rule_lists.emplace_back(file, rules);
            }
        }
    }
    if (kinds_only) {
        return;
    }
    for (const auto& [file, list] : rule_lists) {
        load_rules(file, list, errors);
    }
}

bool DeviceRules::is_kind(const std::string& name) const
{
    return find_kind(name) != nullptr;
}

const model::DeviceKind* DeviceRules::find_kind(const std::string& name) const
{
    const auto it = std::find_if(m_kinds.begin(), m_kinds.end(), [&](const model::DeviceKind& k) { return k.name == name; });
    return it == m_kinds.end() ? nullptr : &*it;
}

model::DeviceHints DeviceRules::hints(const std::string& kind) const
{
    const model::DeviceKind* k = find_kind(kind);
    return k ? k->hints : model::DeviceHints{};
}

void DeviceRules::load_rules(const std::string& file, const YAML::Node& doc, std::vector<std::string>& errors)
{
    for (const auto& node : doc) {
        DeviceRule rule;
        rule.file = file;
        const std::string where = file + ":" + std::to_string(node.Mark().line + 1);
        try {
            rule.id = node["id"].as<std::string>("");
            rule.device = node["device"].as<std::string>("");
            rule.desc = node["desc"].as<std::string>("");
            if (auto m = node["match"]) {
                rule.path_pattern = m["path"].as<std::string>("");
                if (m["tclass"]) {
                    rule.tclasses = split_alternatives(m["tclass"].as<std::string>());
                }
            }
            if (auto s = node["samples"]) {
                for (const auto& sample : s) {
                    rule.samples.push_back(sample.as<std::string>());
                }
            }
        } catch (const YAML::Exception& e) {
            errors.push_back(where + ": " + e.msg);
            continue;
        }
        if (rule.id.empty()) {
            errors.push_back(where + ": device rule without id");
            continue;
        }
        if (!is_kind(rule.device)) {
            errors.push_back(where + ": rule " + rule.id + ": unknown device kind '" + rule.device + "'");
            continue;
        }
        if (!rule.path_pattern.empty()) {
            RE2::Options options;
            options.set_log_errors(false);
            rule.path_re = std::make_shared<RE2>(rule.path_pattern, options);
            if (!rule.path_re->ok()) {
                errors.push_back(where + ": rule " + rule.id + ": bad pattern: " + rule.path_re->error());
                continue;
            }
        } else if (rule.tclasses.empty()) {
            errors.push_back(where + ": rule " + rule.id + ": match needs path or tclass");
            continue;
        }
        auto same = std::find_if(m_rules.begin(), m_rules.end(), [&](const DeviceRule& r) { return r.id == rule.id; });
        if (same != m_rules.end()) {
            *same = std::move(rule);
        } else {
            m_rules.push_back(std::move(rule));
        }
    }
}

void DeviceRules::validate(std::vector<std::string>& errors) const
{
    for (const auto& rule : m_rules) {
        if (!rule.path_re) {
            continue;  // tclass rules: samples (if any) are not paths (as cli/rules.cpp checks)
        }
        if (rule.samples.empty()) {
            errors.push_back(rule.file + ": rule " + rule.id + ": a path rule needs samples");
        }
        for (const auto& sample : rule.samples) {
            if (!RE2::PartialMatch(sample, *rule.path_re)) {
                errors.push_back(rule.file + ": rule " + rule.id + ": sample '" + sample + "' does not match its pattern");
            }
        }
    }
}

std::string DeviceRules::classify_path(const std::string& path, const std::string& tclass, std::string* via) const
{
    const auto decided = [via](const std::string& device, const char* how) {
        if (via) {
            *via = how;
        }
        return device;
    };
    for (const auto& rule : m_rules) {
        if (!rule.tclasses.empty()) {
            if (std::find(rule.tclasses.begin(), rule.tclasses.end(), tclass) != rule.tclasses.end()) {
                return decided(rule.device, "class");
            }
            continue;
        }
        if (!path.empty() && rule.path_re && RE2::PartialMatch(path, *rule.path_re)) {
            return decided(rule.device, "path");
        }
    }
    return decided(model::k_unknown_device, "");
}

std::string DeviceRules::classify(const model::Finding& f, const correlate::DomainXmlIndex* xml, std::string* via) const
{
    if (xml && !f.path.empty()) {
        const correlate::DomainInfo* dom = nullptr;
        if (f.domain && !f.domain->uuid.empty()) {
            dom = xml->by_uuid(f.domain->uuid);
        }
        if (!dom && f.domain && !f.domain->name.empty()) {
            dom = xml->by_name(f.domain->name);
        }
        if (!dom) {
            dom = xml->by_path(f.path);
        }
        if (dom) {
            if (const auto* dev = correlate::DomainXmlIndex::device_at(*dom, f.path)) {
                if (via) {
                    *via = "xml";
                }
                return dev->kind;
            }
        }
    }
    return classify_path(f.path, f.tclass, via);
}

} // namespace virtdeny::kb
