// JSON Lines exactly as SPEC.md "JSON output": one object per finding, then a summary.
#pragma once

#include <analyzer/emit/sink.hpp>

#include <string>

namespace virtdeny::emit {

// One finding as a single-line JSON object (no trailing newline).
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
