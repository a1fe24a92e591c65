// JSON Lines as virtdeny prints them (--format json), parsed for the tests.
#pragma once

#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

namespace virtdeny::test {

// Each non-empty line of text as a JSON value (a line that is not JSON throws).
inline std::vector<nlohmann::json> json_lines(const std::string& text)
{
    std::vector<nlohmann::json> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty()) {
            out.push_back(nlohmann::json::parse(line));
        }
    }
    return out;
}

} // namespace virtdeny::test
