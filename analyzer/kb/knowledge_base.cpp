#include <analyzer/kb/knowledge_base.hpp>

#include <analyzer/kb/sample_findings.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#ifndef VIRTDENY_RULES_INSTALL_DIR
#define VIRTDENY_RULES_INSTALL_DIR "/usr/share/virtdeny/rules"
#endif

namespace virtdeny::kb {

std::string default_rules_dir()
{
    if (const char* env = std::getenv("VIRTDENY_RULES")) {
        if (*env) {
            return env;
        }
    }
    std::error_code ec;
    // Relocatable installs (a package unpacked under another root): PREFIX/bin/virtdeny
    // finds PREFIX/share/virtdeny/rules beside it.
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const std::filesystem::path beside = exe.parent_path().parent_path() / "share" / "virtdeny" / "rules";
        if (std::filesystem::is_directory(beside, ec)) {
            return beside.string();
        }
    }
    if (std::filesystem::is_directory(VIRTDENY_RULES_INSTALL_DIR, ec)) {
        return VIRTDENY_RULES_INSTALL_DIR;
    }
    return std::string(VIRTDENY_SOURCE_DIR) + "/rules";
}

namespace {

// Loads a table from dir when its file (first_file) is there: a --rules DIR may hold only some.
// False when the file is not there.
template <class Table>
bool load_if_present(Table& table, const std::string& dir, std::string_view first_file, std::vector<std::string>& errors)
{
    std::error_code ec;
    if (!std::filesystem::exists(dir + "/" + std::string(first_file), ec)) {
        return false;
    }
    std::string error;
    if (!table.load(dir, error)) {
        errors.push_back(error);
    }
    return true;
}

} // namespace

bool KnowledgeBase::load(const std::vector<std::string>& dirs, std::vector<std::string>& errors)
{
    const std::size_t before = errors.size();
    // The device vocabulary is the program's (docs/json.md): the bundled kinds even when the
    // bundled rules are replaced (--rules-replace); a --rules DIR may add kinds.
    const std::string bundled = default_rules_dir();
    std::error_code same_ec;
    if (std::none_of(dirs.begin(), dirs.end(), [&](const std::string& d) {
            return std::filesystem::equivalent(d, bundled, same_ec);
        })) {
        devices.load(bundled, errors, true);
    }
    for (const auto& dir : dirs) {
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec)) {
            errors.push_back(dir + ": rules directory not found");
            continue;
        }
        devices.load(dir, errors);
        causes.load(dir, devices, errors);
        load_booleans(dir, errors);
        load_if_present(profile_fixes, dir + "/apparmor", ProfileFixes::k_file, errors);
    }
    validate_cause_samples(errors);
    return errors.size() == before;
}

void KnowledgeBase::load_booleans(const std::string& dir, std::vector<std::string>& errors)
{
    const std::string selinux_dir = dir + "/selinux";
    if (!load_if_present(booleans, selinux_dir, BooleanTable::k_booleans_file, errors)) {
        return;  // no SELinux tables in this directory
    }
    load_if_present(virt_allow, selinux_dir, VirtAllowTable::k_allow_file, errors);
    load_if_present(policy_fixes, selinux_dir, PolicyFixes::k_file, errors);
}

TeLookup KnowledgeBase::te_lookup() const
{
    if (virt_allow.rule_count() == 0) {
        return {};
    }
    const VirtAllowTable* table = &virt_allow;
    return [table](std::string_view s, std::string_view t, std::string_view c, std::string_view p) -> std::optional<bool> {
        const VirtAllowTable::Verdict v = table->lookup(s, t, c, p);
        if (!v.known_source) {
            return std::nullopt;
        }
        return v.allowed;
    };
}

void KnowledgeBase::validate_cause_samples(std::vector<std::string>& errors) const
{
    for (const CauseRule& rule : causes.rules()) {
        const std::string where = rule.file + ":" + std::to_string(rule.line) + ": rule " + rule.id + ": ";
        for (const std::string& sample : rule.samples) {
            std::uint64_t bad_lines = 0;
            std::vector<model::Finding> findings = sample_findings(sample, bad_lines);
            if (bad_lines > 0 || findings.empty()) {
                errors.push_back(where + "sample is not a denial the parser reads: " + sample);
                continue;
            }
            model::Finding& f = findings.front();
            f.device = devices.classify(f, nullptr);
            if (rule.match.in_xml.value_or(false)) {
                f.xml_source = f.path;  // a sample stands for a path its domain XML names
            }
            const CauseRule* winner = causes.match(f);
            if (winner == nullptr || !cause_matches(rule, f)) {
                errors.push_back(where + "sample does not match the rule: " + sample);
            } else if (winner != &rule) {
                errors.push_back(where + "sample is taken by the earlier rule " + winner->id + ": " + sample);
            }
        }
    }
}

} // namespace virtdeny::kb
