// Helpers shared by the tests: paths to the project, its fixtures and test corpus, running
// the real binary, and running a pipeline in-process.
#pragma once

#include <analyzer/model/finding.hpp>

#include <string>
#include <vector>

namespace virtdeny::test {

std::string source_dir();
std::string fixtures_dir();
// tests/corpus/data: upstream test logs and expected parses (tests/corpus/data/SOURCES.md).
std::string corpus_dir();
std::string binary();

struct RunResult
{
    int status = -1;
    std::string out;
    std::string err;
};

// Runs a shell command line; stdin from /dev/null unless input is given.
RunResult run(const std::string& command, const std::string& input = {});
// Runs the virtdeny binary with arguments (already shell-quoted as needed).
RunResult virtdeny(const std::string& args, const std::string& input = {});

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);
// Appends as a log writer does (open, write, close: a rotated path is followed); throws when it
// cannot, which fails the test.
void append_file(const std::string& path, const std::string& content);
std::string temp_dir();  // a fresh directory under $TMPDIR
std::string shell_quote(const std::string& s);

// A tool (or other prerequisite scripts/deps --test installs) a test needs. With
// VIRTDENY_REQUIRE_TOOLS=1 (set by scripts/test, so CI) a missing one FAILS the test; a
// developer running ctest by hand gets a visible skip (WARN "SKIPPED: ...") instead. Returns
// whether the test can go on:
//   if (!test::require_tool("apparmor_parser", "apparmor")) { return; }
bool tools_required();
// `command -v name` finds it; else fails or skips, naming the Debian package.
bool require_tool(const std::string& name, const std::string& package);
// For what is not a command (a policy file, a Python module): present, or fails or skips with
// `what` (which says what is missing and the package that has it).
bool require_present(bool present, const std::string& what);

// Findings of an explain over one input text, in-process.
std::vector<model::Finding> explain_text(const std::string& log, const std::vector<std::string>& xml_dirs = {});

} // namespace virtdeny::test
