#include <analyzer/kb/knowledge_base.hpp>

#include <cstdlib>
#include <filesystem>

#ifndef VIRTDENY_RULES_INSTALL_DIR
#define VIRTDENY_RULES_INSTALL_DIR "/usr/share/virtdeny/rules"
#endif

namespace virtdeny::kb {

std::string default_rules_dir()
{
    if (const char* env = std::getenv("VIRTDENY_RULES")) {
        if (*env) {
            return env;
        }
    }
    std::error_code ec;
    if (std::filesystem::is_directory(VIRTDENY_RULES_INSTALL_DIR, ec)) {
        return VIRTDENY_RULES_INSTALL_DIR;
    }
    return std::string(VIRTDENY_SOURCE_DIR) + "/rules";
}

bool KnowledgeBase::load(const std::vector<std::string>& dirs, std::vector<std::string>& errors)
{
    const std::size_t before = errors.size();
    for (const auto& dir : dirs) {
        std::error_code ec;
        if (!std::filesystem::is_directory(dir, ec)) {
            errors.push_back(dir + ": rules directory not found");
            continue;
        }
        devices.load(dir, errors);
    }
    return errors.size() == before;
}

} // namespace virtdeny::kb
