// virtdeny rules list|show ID|validate DIR|schema: lets admins see the knowledge base and
// test their own rules before they put them in production.
//
// Exit status: 0 success; 1 `validate` found invalid rules; 2 usage error (no or unknown
// subcommand, missing argument, unknown rule id); 3 the DIR given to `validate` is not a
// readable directory. `list` and `show` report rules that fail to load on stderr and still
// show the rest.
#include <analyzer/cli/commands.hpp>

#include <analyzer/kb/knowledge_base.hpp>
#include <analyzer/kb/rules_schema.hpp>

#include <nlohmann/json.hpp>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace virtdeny::cli {

namespace {

namespace fs = std::filesystem;

const char* const k_rules_usage = R"(usage: virtdeny rules list
       virtdeny rules show ID
       virtdeny rules validate DIR
       virtdeny rules schema
)";

// Device rules do not record their line: find "id: ID" in the file (1 when not found).
std::size_t line_of_id(const std::string& file, const std::string& id)
{
    std::ifstream in(file);
    std::string line;
    std::size_t n = 0;
    const RE2 re("^\\s*(?:-\\s*)?id:\\s*['\"]?" + RE2::QuoteMeta(id) + "['\"]?\\s*(?:#.*)?$");
    while (std::getline(in, line)) {
        ++n;
        if (RE2::FullMatch(line, re)) {
            return n;
        }
    }
    return 1;
}

std::string device_where(const kb::DeviceRule& rule)
{
    return rule.file + ":" + std::to_string(line_of_id(rule.file, rule.id)) + ": rule " + rule.id + ": ";
}

// Like kb::DeviceRules::validate, with file:line, safe for tclass-only rules, and also
// catching samples that an earlier rule classifies as another device.
void validate_devices(const kb::DeviceRules& devices, std::vector<std::string>& errors)
{
    const auto& rules = devices.rules();
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const kb::DeviceRule& rule = rules[i];
        if (!rule.path_re) {
            continue;  // tclass rules: samples (if any) are not paths
        }
        if (rule.samples.empty()) {
            errors.push_back(device_where(rule) + "a path rule needs samples");
        }
        for (const auto& sample : rule.samples) {
            if (!RE2::PartialMatch(sample, *rule.path_re)) {
                errors.push_back(device_where(rule) + "sample '" + sample + "' does not match its pattern");
                continue;
            }
            for (std::size_t j = 0; j < i; ++j) {
                const kb::DeviceRule& earlier = rules[j];
                if (earlier.path_re && RE2::PartialMatch(sample, *earlier.path_re)) {
                    if (earlier.device != rule.device) {
                        errors.push_back(device_where(rule) + "sample '" + sample + "' is taken by the earlier rule " +
                                         earlier.id + " (device " + earlier.device + ")");
                    }
                    break;
                }
            }
        }
    }
}

// Each devices/*.yaml and causes/*.yaml of dir against the embedded rules/schema.json:
// "file:line: schema: /pointer: why".
void validate_schema(const std::string& dir, const kb::DeviceRules& devices, std::vector<std::string>& errors)
{
    const auto is_kind = [&](const std::string& kind) { return devices.is_kind(kind); };
    for (const auto& [sub, def] : {std::pair<const char*, const char*>{"devices", "deviceFile"}, {"causes", "causeFile"}}) {
        for (const std::string& file : kb::yaml_files(fs::path(dir) / sub)) {
            YAML::Node doc;
            try {
                doc = YAML::LoadFile(file);
            } catch (const YAML::Exception&) {
                continue;  // the loader reports it
            }
            for (const auto& p : kb::check_against_schema(doc, def, is_kind)) {
                errors.push_back(file + ":" + std::to_string(p.line) + ": schema: " + p.where + ": " + p.message);
            }
        }
    }
}

std::string cause_device(const kb::CauseRule& rule)
{
    if (!rule.device.empty()) {
        return rule.device;
    }
    if (!rule.match.device.empty()) {
        return rule.match.device;
    }
    return "-";
}

// Loads the knowledge base of the config; load problems go to stderr.
kb::KnowledgeBase load_for_listing(const Config& config)
{
    kb::KnowledgeBase kb;
    std::vector<std::string> errors;
    kb.load(config.rules_dirs, errors);
    for (const auto& e : errors) {
        std::fprintf(stderr, "virtdeny: rules: %s\n", e.c_str());
    }
    return kb;
}

int rules_list(const Config& config)
{
    const kb::KnowledgeBase kb = load_for_listing(config);
    struct Row
    {
        std::string id, kind, device, desc, file;
        std::size_t line;
    };
    std::vector<Row> rows;
    for (const auto& r : kb.devices.rules()) {
        rows.push_back({r.id, "device", r.device, r.desc, r.file, line_of_id(r.file, r.id)});
    }
    for (const auto& r : kb.causes.rules()) {
        rows.push_back({r.id, "cause", cause_device(r), r.desc, r.file, r.line});
    }
    if (config.format == emit::Format::json) {
        for (const auto& row : rows) {
            nlohmann::json j = {{"id", row.id}, {"kind", row.kind}, {"device", row.device},
                                {"desc", row.desc}, {"file", row.file}, {"line", row.line}};
            std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        }
        return k_exit_ok;
    }
    std::size_t id_w = 2;
    std::size_t dev_w = 6;
    for (const auto& row : rows) {
        id_w = std::max(id_w, row.id.size());
        dev_w = std::max(dev_w, row.device.size());
    }
    const int iw = static_cast<int>(id_w);
    const int dw = static_cast<int>(dev_w);
    std::printf("%-*s  %-6s  %-*s  %s\n", iw, "ID", "KIND", dw, "DEVICE", "DESC");
    for (const auto& row : rows) {
        std::printf("%-*s  %-6s  %-*s  %s\n", iw, row.id.c_str(), row.kind.c_str(), dw, row.device.c_str(),
                    row.desc.c_str());
    }
    return k_exit_ok;
}

// The rule as written in its file (the YAML map with that id), or empty.
std::string source_of(const std::string& file, const std::string& id)
{
    try {
        const YAML::Node file_doc = YAML::LoadFile(file);
        // a devices file with kinds and rules, or a list of rules
        const YAML::Node doc = file_doc.IsMap() && file_doc["rules"] ? file_doc["rules"] : file_doc;
        if (!doc.IsSequence()) {
            return {};
        }
        for (const auto& node : doc) {
            if (node.IsMap() && node["id"] && node["id"].IsScalar() && node["id"].as<std::string>() == id) {
                YAML::Emitter out;
                out << YAML::BeginSeq << node << YAML::EndSeq;
                return out.c_str();
            }
        }
    } catch (const YAML::Exception&) {
    }
    return {};
}

int rules_show(const Config& config, const std::string& id)
{
    const kb::KnowledgeBase kb = load_for_listing(config);
    std::string file;
    std::size_t line = 0;
    std::string kind;
    std::string device;
    std::string desc;
    for (const auto& r : kb.devices.rules()) {
        if (r.id == id) {
            file = r.file;
            line = line_of_id(r.file, r.id);
            kind = "device";
            device = r.device;
            desc = r.desc;
        }
    }
    if (const kb::CauseRule* r = kb.causes.find(id)) {
        file = r->file;
        line = r->line;
        kind = "cause";
        device = cause_device(*r);
        desc = r->desc;
    }
    if (kind.empty()) {
        std::fprintf(stderr, "virtdeny: rules: no rule with id '%s' (see 'virtdeny rules list')\n", id.c_str());
        return k_exit_usage;
    }
    const std::string source = source_of(file, id);
    if (config.format == emit::Format::json) {
        nlohmann::json j = {{"id", id}, {"kind", kind}, {"device", device}, {"desc", desc},
                            {"file", file}, {"line", line}, {"source", source}};
        std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return k_exit_ok;
    }
    std::printf("# %s rule %s\n# %s:%zu\n%s\n", kind.c_str(), id.c_str(), file.c_str(), line, source.c_str());
    return k_exit_ok;
}

int rules_validate(const Config& config, const std::string& dir)
{
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        std::fprintf(stderr, "virtdeny: rules: %s: not a readable directory\n", dir.c_str());
        return k_exit_unreadable;
    }
    std::vector<std::string> errors;
    const bool has_rules = fs::is_directory(fs::path(dir) / "devices", ec) ||
                           fs::is_directory(fs::path(dir) / "causes", ec) ||
                           fs::exists(fs::path(dir) / "selinux" / "booleans.tsv", ec);
    if (!has_rules) {
        errors.push_back(dir + ": no rules here (expected devices/*.yaml, causes/*.yaml or selinux/booleans.tsv)");
    }
    // DIR is checked on top of the rules it will be used with (the bundled ones and any
    // --rules), as `--rules DIR` would load it; --rules-replace checks DIR alone.
    std::vector<std::string> dirs;
    for (const auto& d : config.rules_dirs) {
        if (!fs::equivalent(d, dir, ec)) {
            dirs.push_back(d);
        }
    }
    dirs.push_back(dir);
    kb::KnowledgeBase kb;
    kb.load(dirs, errors);
    validate_devices(kb.devices, errors);
    validate_schema(dir, kb.devices, errors);
    std::vector<std::string> seen;
    for (const auto& e : errors) {
        if (std::find(seen.begin(), seen.end(), e) == seen.end()) {
            seen.push_back(e);
            std::fprintf(stderr, "%s\n", e.c_str());
        }
    }
    errors = std::move(seen);
    std::printf("%s: %zu device rules, %zu cause rules: %s\n", dir.c_str(), kb.devices.rules().size(),
                kb.causes.rules().size(),
                errors.empty() ? "ok" : (std::to_string(errors.size()) + " error(s)").c_str());
    return errors.empty() ? k_exit_ok : k_exit_new_findings;
}

} // namespace

int run_rules(const Config& config)
{
    const std::vector<std::string>& words = config.rest;
    const std::string sub = words.empty() ? std::string() : words[0];
    if (sub == "list" && words.size() == 1) {
        return rules_list(config);
    }
    if (sub == "show" && words.size() == 2) {
        return rules_show(config, words[1]);
    }
    if (sub == "validate" && words.size() == 2) {
        return rules_validate(config, words[1]);
    }
    if (sub == "schema" && words.size() == 1) {
        // rules/schema.json as built into the binary: the one `rules validate` checks with
        const std::string_view schema = kb::rules_schema_text();
        std::fwrite(schema.data(), 1, schema.size(), stdout);
        return k_exit_ok;
    }
    if (sub.empty()) {
        std::fprintf(stderr, "virtdeny: rules needs a subcommand\n%s", k_rules_usage);
    } else if (sub == "list" || sub == "show" || sub == "validate" || sub == "schema") {
        std::fprintf(stderr, "virtdeny: rules %s: wrong number of arguments\n%s", sub.c_str(), k_rules_usage);
    } else {
        std::fprintf(stderr, "virtdeny: rules: unknown subcommand '%s'\n%s", sub.c_str(), k_rules_usage);
    }
    return k_exit_usage;
}

} // namespace virtdeny::cli
