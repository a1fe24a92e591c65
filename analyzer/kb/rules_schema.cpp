#include <analyzer/kb/rules_schema.hpp>

#include <analyzer/generated/rules_schema.hpp>

#include <nlohmann/json.hpp>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <memory>
#include <map>

namespace virtdeny::kb {

using nlohmann::json;

std::string_view rules_schema_text()
{
    return generated::k_rules_schema;
}

const json& rules_schema()
{
    static const json k_schema = json::parse(rules_schema_text());
    return k_schema;
}

const std::vector<std::string>& supported_schema_keywords()
{
    static const std::vector<std::string> k_keywords = {
        "$ref", "type", "enum", "required", "properties", "additionalProperties", "items", "minItems",
        "minLength", "pattern", "oneOf", "anyOf",
    };
    return k_keywords;
}

namespace {

class Checker
{
public:
    Checker(const json& root, const std::function<bool(const std::string&)>& is_kind)
        : m_root(root), m_is_kind(is_kind)
    {
    }

    // Appends the problems of node against schema; returns true when there are none.
    bool check(const YAML::Node& node, const json& schema, const std::string& where, std::vector<SchemaProblem>& out)
    {
        const std::size_t before = out.size();
        const auto problem = [&](std::string message) {
            out.push_back({static_cast<std::size_t>(node.Mark().line + 1), where.empty() ? "/" : where, std::move(message)});
        };
        if (!schema.is_object()) {
            return true;
        }
        if (auto ref = schema.find("$ref"); ref != schema.end()) {
            const std::string target = ref->get<std::string>();
            if (m_is_kind && target == "#/$defs/deviceKind") {
                if (!node.IsScalar() || !m_is_kind(node.Scalar())) {
                    problem("not a device kind: '" + (node.IsScalar() ? node.Scalar() : std::string("(not a word)")) + "'");
                }
            } else {
                check(node, resolve(target), where, out);
            }
        }
        if (auto type = schema.find("type"); type != schema.end()) {
            if (!has_type(node, type->get<std::string>())) {
                problem("expected " + article(type->get<std::string>()));
                return false;  // the other keywords would only repeat it
            }
        }
        if (auto values = schema.find("enum"); values != schema.end()) {
            const bool ok = node.IsScalar() && std::any_of(values->begin(), values->end(), [&](const json& v) {
                return v.is_string() && v.get<std::string>() == node.Scalar();
            });
            if (!ok) {
                problem("'" + (node.IsScalar() ? node.Scalar() : std::string()) + "' is not one of " + list(*values));
            }
        }
        if (node.IsScalar()) {
            if (auto min = schema.find("minLength"); min != schema.end() && node.Scalar().size() < min->get<std::size_t>()) {
                problem("must not be empty");
            }
            if (auto pattern = schema.find("pattern"); pattern != schema.end()) {
                const RE2& re = regex(pattern->get<std::string>());
                if (!RE2::PartialMatch(node.Scalar(), re)) {
                    problem("'" + node.Scalar() + "' does not match " + pattern->get<std::string>());
                }
            }
        }
        if (node.IsMap()) {
            check_map(node, schema, where, out, problem);
        }
        if (node.IsSequence()) {
            if (auto min = schema.find("minItems"); min != schema.end() && node.size() < min->get<std::size_t>()) {
                problem("needs at least " + std::to_string(min->get<std::size_t>()) + " item(s)");
            }
            if (auto items = schema.find("items"); items != schema.end()) {
                for (std::size_t i = 0; i < node.size(); ++i) {
                    check(node[i], *items, where + "/" + std::to_string(i), out);
                }
            }
        }
        if (auto any = schema.find("anyOf"); any != schema.end()) {
            check_alternatives(node, *any, where, out, false, problem);
        }
        if (auto one = schema.find("oneOf"); one != schema.end()) {
            check_alternatives(node, *one, where, out, true, problem);
        }
        return out.size() == before;
    }

private:
    template <typename Problem>
    void check_map(const YAML::Node& node, const json& schema, const std::string& where, std::vector<SchemaProblem>& out,
                   const Problem& problem)
    {
        static const json k_empty = json::object();
        const auto props_it = schema.find("properties");
        const json& props = props_it != schema.end() ? *props_it : k_empty;
        if (auto required = schema.find("required"); required != schema.end()) {
            for (const auto& key : *required) {
                if (!node[key.get<std::string>()]) {
                    problem("missing '" + key.get<std::string>() + "'");
                }
            }
        }
        const auto extra = schema.find("additionalProperties");
        for (const auto& entry : node) {
            const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
            const std::string at = where + "/" + key;
            if (auto p = props.find(key); p != props.end()) {
                check(entry.second, *p, at, out);
            } else if (extra != schema.end()) {
                if (extra->is_boolean() && !extra->get<bool>()) {
                    out.push_back({static_cast<std::size_t>(entry.first.Mark().line + 1), at,
                                   "unknown key '" + key + "' (allowed: " + keys(props) + ")"});
                } else if (extra->is_object()) {
                    check(entry.second, *extra, at, out);
                }
            }
        }
    }

    template <typename Problem>
    void check_alternatives(const YAML::Node& node, const json& alternatives, const std::string& where,
                            std::vector<SchemaProblem>& out, bool exactly_one, const Problem& problem)
    {
        std::size_t passing = 0;
        std::vector<SchemaProblem> best;
        bool have_best = false;
        bool best_type_ok = false;
        for (const auto& alternative : alternatives) {
            std::vector<SchemaProblem> problems;
            // an alternative of the node's own type (a list for a list) explains best
            const auto type = alternative.find("type");
            const bool type_ok = type == alternative.end() || has_type(node, type->get<std::string>());
            if (check(node, alternative, where, problems)) {
                ++passing;
            } else if (!have_best || (type_ok && !best_type_ok)
                       || (type_ok == best_type_ok && problems.size() < best.size())) {
                best = std::move(problems);
                have_best = true;
                best_type_ok = type_ok;
            }
        }
        if (passing == 0) {
            // the problems of the alternative that came closest
            out.insert(out.end(), best.begin(), best.end());
            if (best.empty()) {
                problem("matches none of the allowed forms");
            }
        } else if (exactly_one && passing > 1) {
            problem("matches more than one of the allowed forms");
        }
    }

    const json& resolve(const std::string& ref)
    {
        static const json k_any = json::object();
        const std::string prefix = "#/$defs/";
        if (ref.rfind(prefix, 0) != 0) {
            return k_any;
        }
        const auto& defs = m_root.at("$defs");
        const auto it = defs.find(ref.substr(prefix.size()));
        return it == defs.end() ? k_any : *it;
    }

    const RE2& regex(const std::string& pattern)
    {
        auto& slot = m_regexes[pattern];
        if (!slot) {
            slot = std::make_unique<RE2>(pattern);
        }
        return *slot;
    }

    static bool has_type(const YAML::Node& node, const std::string& type)
    {
        if (type == "object") {
            return node.IsMap();
        }
        if (type == "array") {
            return node.IsSequence();
        }
        if (type == "string") {
            return node.IsScalar();
        }
        if (type == "boolean") {
            bool b = false;
            return node.IsScalar() && YAML::convert<bool>::decode(node, b);
        }
        return true;
    }

    static std::string article(const std::string& type)
    {
        if (type == "object") {
            return "a map";
        }
        if (type == "array") {
            return "a list";
        }
        if (type == "string") {
            return "a string";
        }
        return "a " + type;
    }

    static std::string list(const json& values)
    {
        std::string out;
        for (const auto& v : values) {
            out += (out.empty() ? "" : ", ") + (v.is_string() ? v.get<std::string>() : v.dump());
        }
        return out;
    }

    static std::string keys(const json& props)
    {
        std::string out;
        for (auto it = props.begin(); it != props.end(); ++it) {
            out += (out.empty() ? "" : ", ") + it.key();
        }
        return out;
    }

    const json& m_root;
    const std::function<bool(const std::string&)>& m_is_kind;
    std::map<std::string, std::unique_ptr<RE2>> m_regexes;
};

} // namespace

std::vector<SchemaProblem> check_against_schema(const YAML::Node& doc, const std::string& def,
                                                const std::function<bool(const std::string&)>& is_kind)
{
    std::vector<SchemaProblem> out;
    const json& schema = rules_schema();
    const auto& defs = schema.at("$defs");
    const auto it = defs.find(def);
    if (it == defs.end()) {
        out.push_back({1, "/", "no $defs/" + def + " in the schema"});
        return out;
    }
    Checker checker(schema, is_kind);
    checker.check(doc, *it, "", out);
    return out;
}

} // namespace virtdeny::kb
