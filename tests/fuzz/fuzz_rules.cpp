// libFuzzer target: the rules loader (a rules directory holding the fuzzed YAML).
#include <analyzer/kb/knowledge_base.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
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
    virtdeny::kb::KnowledgeBase kb;
    std::vector<std::string> errors;
    kb.load({dir}, errors);
    kb.devices.validate(errors);
    return 0;
}
