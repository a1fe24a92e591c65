// One function per command; each returns the process exit status (docs/inputs.md, "Exit status").
#pragma once

#include <analyzer/cli/config.hpp>

#include <string>

namespace virtdeny::cli {

constexpr int k_exit_ok = 0;
constexpr int k_exit_new_findings = 1;
constexpr int k_exit_usage = 2;
constexpr int k_exit_unreadable = 3;

int run_explain(const Config& config);
int run_suggest(const Config& config);  // cli/suggest.cpp
int run_follow(const Config& config);   // cli/follow.cpp
int run_replay(const Config& config);   // cli/replay.cpp
int run_rules(const Config& config);    // cli/rules.cpp
// `virtdeny help COMMAND` (cli/help.cpp): prints the command's page; 2 for an unknown one.
int run_help(const std::string& command);
const char* command_help(const std::string& command);  // nullptr when unknown
int run_command(const Config& config);

} // namespace virtdeny::cli
