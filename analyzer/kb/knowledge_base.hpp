// The knowledge base: everything in rules/ (device patterns, known causes, SELinux
// booleans), loaded at start from the installed rules and any --rules DIR.
#pragma once

#include <analyzer/kb/device_rules.hpp>

#include <string>
#include <vector>

namespace virtdeny::kb {

// Where the bundled rules are: $VIRTDENY_RULES, the installed share dir, or the source tree.
std::string default_rules_dir();

struct KnowledgeBase
{
    DeviceRules devices;

    // Loads dirs in order (later ones override rules with the same id).
    bool load(const std::vector<std::string>& dirs, std::vector<std::string>& errors);
};

} // namespace virtdeny::kb
