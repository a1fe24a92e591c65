#include <analyzer/cli/commands.hpp>

#include <cstdio>

namespace virtdeny::cli {

int run_suggest(const Config&)
{
    std::fprintf(stderr, "virtdeny: 'suggest' is not implemented yet\n");
    return k_exit_usage;
}

} // namespace virtdeny::cli
