// JSON Lines exactly as docs/json.md says: one object per finding, then a summary.
#pragma once

#include <analyzer/emit/sink.hpp>

#include <string>

namespace virtdeny::emit {

// One finding as a single-line JSON object (no trailing newline).
std::string finding_json(const model::Finding& finding);
// finding_json in two parts, for follow (whose advice for a finding is the same each event):
// the facts of the denial, and {"explanation":...,"fixes":[...]}; joined by join_objects.
std::string finding_facts_json(const model::Finding& finding);
std::string finding_advice_json(const model::Finding& finding);
std::string join_objects(const std::string& first, const std::string& second);
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
