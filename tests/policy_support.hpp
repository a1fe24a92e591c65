// The binary policy of Debian's selinux-policy-default (the reference policy), for the
// audit2why tests; where the package is not installed they fail with VIRTDENY_REQUIRE_TOOLS=1
// and skip visibly without it.
#pragma once

#include "support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

namespace virtdeny::test {

// /etc/selinux/default/policy/policy.NN with the highest NN, or empty when absent.
inline std::string debian_policy_file()
{
    namespace fs = std::filesystem;
    static const std::string found = [] {
        std::string best;
        int best_version = -1;
        std::error_code ec;
        for (const auto& e : fs::directory_iterator("/etc/selinux/default/policy", ec)) {
            const std::string name = e.path().filename().string();
            if (name.rfind("policy.", 0) != 0 || name.size() == 7
                || name.find_first_not_of("0123456789", 7) != std::string::npos) {
                continue;
            }
            const int version = std::stoi(name.substr(7));
            if (version > best_version) {
                best_version = version;
                best = e.path().string();
            }
        }
        return best;
    }();
    return found;
}

} // namespace virtdeny::test

#define REQUIRE_DEBIAN_POLICY()                                                                          \
    do {                                                                                                 \
        if (!virtdeny::test::require_present(!virtdeny::test::debian_policy_file().empty(),                 \
                                             "no /etc/selinux/default/policy/policy.NN (Debian package "      \
                                             "selinux-policy-default)")) {                                    \
            return;                                                                                      \
        }                                                                                                \
    } while (0)
