#include <analyzer/cli/commands.hpp>

#include <cstdio>

namespace virtdeny::cli {

int run_replay(const Config&)
{
    std::fprintf(stderr, "virtdeny: 'replay' is not implemented yet\n");
    return k_exit_usage;
}

} // namespace virtdeny::cli
