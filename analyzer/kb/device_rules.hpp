// Device classification from rules/devices/*.yaml (RE2 patterns over the object path,
// exact class matches). Domain XML takes precedence when it knows the path.
#pragma once

#include <analyzer/correlate/domain_xml.hpp>
#include <analyzer/model/device.hpp>
#include <analyzer/model/finding.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace re2 {
class RE2;
}

namespace YAML {
class Node;
}

namespace virtdeny::kb {

struct DeviceRule
{
    std::string id;
    std::string device;
    std::string desc;
    std::string path_pattern;
    std::vector<std::string> tclasses;
    std::vector<std::string> samples;
    std::shared_ptr<re2::RE2> path_re;
    std::string file;
};

// The *.yaml / *.yml files of dir, sorted by name (empty when dir is none): the rule files
// of rules/devices and rules/causes.
std::vector<std::string> yaml_files(const std::filesystem::path& dir);

class DeviceRules
{
public:
    // Loads every *.yaml under dir/devices (a list of rules, or a map with `kinds` and
    // `rules`); appends "file: why" to errors. A kind or rule whose name or id exists
    // already replaces it (so --rules DIR can override). A rule must name a known kind.
    // kinds_only: only the vocabulary (the bundled kinds under --rules-replace).
    void load(const std::string& rules_dir, std::vector<std::string>& errors, bool kinds_only = false);
    // Checks every rule's samples against the rules (a sample must be classified by its rule).
    void validate(std::vector<std::string>& errors) const;

    // The kind, and in via what decided it ("xml", "class", "path"; "" for the unknown kind).
    std::string classify(const model::Finding& finding, const correlate::DomainXmlIndex* xml,
                         std::string* via = nullptr) const;
    std::string classify_path(const std::string& path, const std::string& tclass, std::string* via = nullptr) const;
    const std::vector<DeviceRule>& rules() const { return m_rules; }

    // The device vocabulary (devices.yaml `kinds`), in file order.
    const std::vector<model::DeviceKind>& kinds() const { return m_kinds; }
    bool is_kind(const std::string& name) const;
    const model::DeviceKind* find_kind(const std::string& name) const;
    // The writer hints of a kind (all false for an unknown one).
    model::DeviceHints hints(const std::string& kind) const;

private:
    void load_rules(const std::string& file, const YAML::Node& list, std::vector<std::string>& errors);

    std::vector<model::DeviceKind> m_kinds;
    std::vector<DeviceRule> m_rules;
};

} // namespace virtdeny::kb
