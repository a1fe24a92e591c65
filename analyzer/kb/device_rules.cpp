#include <analyzer/kb/device_rules.hpp>

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>

namespace virtdeny::kb {

namespace fs = std::filesystem;

bool is_device_kind(const std::string& kind)
{
    static const char* const k_kinds[] = {
        "nvdimm", "memfd", "hugepages", "memory-backing", "disk-image", "cdrom-image", "nvram",
        "kernel-image", "share-9p", "virtiofs", "vfio", "vhost", "tap", "usb", "tpm", "monitor-socket",
        "chardev", "log", "audio", "graphics", "migration", "helper", "capability", "network", "other",
    };
    return std::any_of(std::begin(k_kinds), std::end(k_kinds), [&](const char* k) { return kind == k; });
}

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

void DeviceRules::load(const std::string& rules_dir, std::vector<std::string>& errors)
{
    for (const std::string& file : yaml_files(fs::path(rules_dir) / "devices")) {
        YAML::Node doc;
        try {
            doc = YAML::LoadFile(file);
        } catch (const YAML::Exception& e) {
            errors.push_back(file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
            continue;
        }
        if (!doc.IsSequence()) {
            errors.push_back(file + ": expected a list of device rules");
            continue;
        }
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
            if (!is_device_kind(rule.device)) {
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

std::string DeviceRules::classify_path(const std::string& path, const std::string& tclass) const
{
    for (const auto& rule : m_rules) {
        if (!rule.tclasses.empty()) {
            if (std::find(rule.tclasses.begin(), rule.tclasses.end(), tclass) != rule.tclasses.end()) {
                return rule.device;
            }
            continue;
        }
        if (!path.empty() && rule.path_re && RE2::PartialMatch(path, *rule.path_re)) {
            return rule.device;
        }
    }
    return "other";
}

std::string DeviceRules::classify(const model::Finding& f, const correlate::DomainXmlIndex* xml) const
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
                return dev->kind;
            }
        }
    }
    return classify_path(f.path, f.tclass);
}

} // namespace virtdeny::kb
