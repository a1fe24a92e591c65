// Human output: findings grouped by VM, most frequent first; colour only when asked
// (a terminal without NO_COLOR). Markdown shares the grouping.
#pragma once

#include <analyzer/emit/sink.hpp>

#include <string>
#include <vector>

namespace virtdeny::emit {

struct FindingGroup
{
    std::string title;
    std::uint64_t count = 0;
    std::vector<const model::Finding*> findings;
};

// Groups by node and VM (daemons and unknown subjects in groups of their own), each group
// and each group's findings ordered by count, then by first appearance.
std::vector<FindingGroup> group_findings(const std::vector<model::Finding>& findings);


class TextSink : public FindingSink
{
public:
    TextSink(std::FILE* out, bool colour) : m_out(out), m_colour(colour) {}
    void finding(const model::Finding& finding) override { m_findings.push_back(finding); }
    void end(const RunStats& stats) override;

private:
    std::string style(const char* code, const std::string& s) const;
    std::FILE* m_out;
    bool m_colour;
    std::vector<model::Finding> m_findings;
};

class MarkdownSink : public FindingSink
{
public:
    explicit MarkdownSink(std::FILE* out) : m_out(out) {}
    void finding(const model::Finding& finding) override { m_findings.push_back(finding); }
    void end(const RunStats& stats) override;

private:
    std::FILE* m_out;
    std::vector<model::Finding> m_findings;
};

} // namespace virtdeny::emit
