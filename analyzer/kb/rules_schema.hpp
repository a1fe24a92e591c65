// rules/schema.json, embedded at build time, and a check of a rule file against it. The
// loaders (device_rules, cause_rules) stay the authority on meaning (patterns compile,
// samples fire, kinds exist); the schema checks the shape, with the YAML line of each problem.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace YAML {
class Node;
}

namespace virtdeny::kb {

// The schema's text, as built into the binary.
std::string_view rules_schema_text();
// The schema, parsed once.
const nlohmann::json& rules_schema();

// The JSON Schema keywords check_against_schema evaluates; every other key of a schema
// object must be an annotation (title, description, $schema, $id, $defs).
const std::vector<std::string>& supported_schema_keywords();

struct SchemaProblem
{
    std::size_t line = 0;  // 1-based line in the YAML file
    std::string where;     // JSON pointer of the value ("/3/match/pathh")
    std::string message;
};

// Checks a YAML document against the schema's $defs/<def> ("deviceFile", "causeFile").
// is_kind, when given, stands for $defs/deviceKind's enum (so a kind a --rules DIR adds
// is accepted).
std::vector<SchemaProblem> check_against_schema(const YAML::Node& doc, const std::string& def,
                                                const std::function<bool(const std::string&)>& is_kind = {});

} // namespace virtdeny::kb
