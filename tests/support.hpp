// Helpers shared by the tests: paths to the project, its fixtures and ../shared, running
// the real binary, and running a pipeline in-process.
#pragma once

#include <analyzer/model/finding.hpp>

#include <string>
#include <vector>

namespace virtdeny::test {

std::string source_dir();
std::string fixtures_dir();
// ../shared beside the checkout, or empty when absent (a user's clone).
std::string shared_dir();
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

// Findings of an explain over one input text, in-process.
std::vector<model::Finding> explain_text(const std::string& log, const std::vector<std::string>& xml_dirs = {});

} // namespace virtdeny::test

// Skips the current test visibly when ../shared is absent.
#define REQUIRE_SHARED()                                                                 \
    do {                                                                                 \
        if (virtdeny::test::shared_dir().empty()) {                                      \
            WARN("SKIPPED: ../shared is absent (a user's clone); corpus test not run");  \
            return;                                                                      \
        }                                                                                \
    } while (0)
