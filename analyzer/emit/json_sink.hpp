// JSON Lines exactly as docs/json.md: one object per finding, then a summary. Every record
// is built once as a JSON value (the functions *_record below; commands add their own
// members to it: replay's baseline, follow's serial) and serialised in one place (serialize).
#pragma once

#include <analyzer/emit/sink.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace virtdeny::emit {

using Json = nlohmann::ordered_json;

// A finding: its facts (finding_facts: node ... last_seen), then its advice
// (finding_advice: explanation, fixes).
Json finding_record(const model::Finding& finding);
Json finding_facts(const model::Finding& finding);
Json finding_advice(const model::Finding& finding);
// {"summary":{...}}
Json summary_record(const RunStats& stats);

// The one serialiser: a single line (no trailing newline), valid UTF-8, and safe to print on
// a terminal (see terminal_safe in json_sink.cpp).
std::string serialize(const Json& record);

// The members of an object, serialised once and kept (follow: a finding's advice is the same
// for every event of it, so it is not rebuilt and serialised again per denial).
class SerializedMembers
{
public:
    SerializedMembers() = default;
    // object: a JSON object.
    static SerializedMembers of(const Json& object);
    bool empty() const { return m_text.empty(); }

private:
    friend std::string serialize(const Json& head, const SerializedMembers& middle, const Json& tail);
    std::string m_text;  // "\"a\":1,\"b\":2": the serialised object without its braces
};

// The object with head's members, then middle's, then tail's (each a JSON object), exactly
// as serialize would write it merged.
std::string serialize(const Json& head, const SerializedMembers& middle, const Json& tail);

// serialize(finding_record(finding)), serialize(summary_record(stats))
std::string finding_json(const model::Finding& finding);
std::string summary_json(const RunStats& stats);

class JsonSink : public FindingSink
{
public:
    explicit JsonSink(std::FILE* out) : m_out(out) {}
    void finding(const model::Finding& finding) override;
    void end(const RunStats& stats) override;

private:
    std::FILE* m_out;
};

} // namespace virtdeny::emit
