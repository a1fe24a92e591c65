// libFuzzer target: the rules loader (a rules directory holding the fuzzed YAML as a device
// file and as a cause file). Checks: a load that fails says why; what loads validates or
// says why not.
#include "fuzz_support.hpp"

#include <analyzer/kb/knowledge_base.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace virtdeny::fuzz::rules {

int one_input(const std::uint8_t* data, std::size_t size)
{
    namespace fs = std::filesystem;
    static const std::string dir = [] {
        std::string d = fs::temp_directory_path().string() + "/virtdeny-fuzz-rules-" + std::to_string(::getpid());
        for (const char* sub : {"/devices", "/causes"}) {
            fs::create_directories(d + sub);
        }
        return d;
    }();
    for (const char* sub : {"/devices/fuzz.yaml", "/causes/fuzz.yaml"}) {
        std::FILE* f = std::fopen((dir + sub).c_str(), "wb");
        if (!f) {
            return 0;
        }
        std::fwrite(data, 1, size, f);
        std::fclose(f);
    }
    kb::KnowledgeBase kb;
    std::vector<std::string> errors;
    const bool ok = kb.load({dir}, errors);
    FUZZ_CHECK(ok || !errors.empty());
    kb.devices.validate(errors);
    return 0;
}

} // namespace virtdeny::fuzz::rules

VIRTDENY_FUZZ_MAIN(rules)
