// apparmor_parser -QK -D expr-tree on a test profile: what a rule compiles to. Header-only and
// standard C++ only: the unit tests and the writers' fuzz target both use it.
#pragma once

#include <string>
#include <vector>

namespace virtdeny::test {

// A profile holding rules (one per line), attached to /usr/bin/test_vd.
inline std::string apparmor_test_profile(const std::string& rules)
{
    return "abi <abi/3.0>,\nprofile test_vd /usr/bin/test_vd {\n" + rules + "\n}\n";
}

// The patterns of apparmor_parser's expr-tree dump (lines "pattern< 0xNN>"), one per rule, the
// profile's attachment left out.
inline std::vector<std::string> expr_tree_patterns(const std::string& dump)
{
    std::vector<std::string> patterns;
    std::size_t pos = 0;
    while (pos < dump.size()) {
        std::size_t nl = dump.find('\n', pos);
        if (nl == std::string::npos) {
            nl = dump.size();
        }
        const std::string line = dump.substr(pos, nl - pos);
        const std::size_t mark = line.rfind("< 0x");
        if (mark != std::string::npos && line.substr(0, mark) != "/usr/bin/test_vd") {
            patterns.push_back(line.substr(0, mark));
        }
        pos = nl + 1;
    }
    return patterns;
}

} // namespace virtdeny::test
