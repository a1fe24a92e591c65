// Rule samples -> findings, through the real pipeline (record parser, event assembly,
// aggregation, correlation without domain XML), so that a sample tests exactly what a log
// line would produce.
#pragma once

#include <analyzer/model/finding.hpp>

#include <string>
#include <vector>

namespace virtdeny::kb {

// The findings of one sample (one log line, or several records separated by newlines);
// bad_lines counts lines the parser refused.
std::vector<model::Finding> sample_findings(const std::string& sample, std::uint64_t& bad_lines);

} // namespace virtdeny::kb
