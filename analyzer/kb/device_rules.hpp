// Device classification from rules/devices/*.yaml (RE2 patterns over the object path,
// exact class matches). Domain XML takes precedence when it knows the path.
#pragma once

#include <analyzer/correlate/domain_xml.hpp>
#include <analyzer/model/finding.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace re2 {
class RE2;
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

// The fixed device vocabulary (docs/json.md, `device`).
bool is_device_kind(const std::string& kind);

class DeviceRules
{
public:
    // Loads every *.yaml under dir/devices; appends "file: why" to errors. A rule whose
    // id exists already replaces it (so --rules DIR can override).
    void load(const std::string& rules_dir, std::vector<std::string>& errors);
    // Checks every rule's samples against the rules (a sample must be classified by its rule).
    void validate(std::vector<std::string>& errors) const;

    std::string classify(const model::Finding& finding, const correlate::DomainXmlIndex* xml) const;
    std::string classify_path(const std::string& path, const std::string& tclass) const;
    const std::vector<DeviceRule>& rules() const { return m_rules; }

private:
    std::vector<DeviceRule> m_rules;
};

} // namespace virtdeny::kb
