// virtdeny: which VM, which device, why, and the narrowest fix.
#include <analyzer/cli/commands.hpp>
#include <analyzer/cli/config.hpp>

#include <csignal>
#include <cstdio>
#include <exception>

int main(int argc, char** argv)
{
    std::signal(SIGPIPE, SIG_DFL);  // a closed pipe (| head) ends the run quietly
    try {
        auto parsed = virtdeny::cli::parse_command_line(argc, argv);
        if (!parsed.config) {
            return parsed.exit_code;
        }
        return virtdeny::cli::run_command(*parsed.config);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "virtdeny: fatal: %s\n", e.what());
        return 3;
    }
}
