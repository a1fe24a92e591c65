// apparmor_parser -QK -D expr-tree on a test profile: what a rule compiles to. Header-only and
// standard C++ only: the unit tests and the writers' fuzz target both use it.
#pragma once

#include <cctype>
#include <string>
#include <vector>

namespace virtdeny::test {

// A profile holding rules (one per line), attached to /usr/bin/test_vd.
inline std::string apparmor_test_profile(const std::string& rules)
{
    // tunables/global, as every libvirt profile: the kernel variables @{pid} and @{tid}
    return "abi <abi/3.0>,\n#include <tunables/global>\nprofile test_vd /usr/bin/test_vd {\n" + rules + "\n}\n";
}

// The patterns of apparmor_parser's expr-tree dump (lines "pattern< 0xNN>"), one per rule, the
// profile's attachment left out.
inline std::vector<std::string> expr_tree_patterns(const std::string& dump)
{
    std::vector<std::string> patterns;
    std::size_t pos = 0;
    while (pos < dump.size()) {
        std::size_t nl = dump.find('\n', pos);
        if (nl == std::string::npos) {
            nl = dump.size();
        }
        const std::string line = dump.substr(pos, nl - pos);
        const std::size_t mark = line.rfind("< 0x");
        if (mark != std::string::npos && line != "/usr/bin/test_vd< 0x1>") {  // the attachment (exec mark 0x1)
            patterns.push_back(line.substr(0, mark));
        }
        pos = nl + 1;
    }
    return patterns;
}

// Decodes an expr-tree literal; false when it contains any glob construct.
inline bool decode_literal(const std::string& tree, std::string& out)
{
    out.clear();
    for (std::size_t i = 0; i < tree.size(); ++i) {
        const char c = tree[i];
        if (c == '\\' && i + 1 < tree.size()) {
            const char n = tree[i + 1];
            if (std::string("()*+.[]| {}^?\"").find(n) != std::string::npos) {
                out.push_back(n);
                ++i;
                continue;
            }
            if (n == 'n' || n == 't' || n == 'r' || n == 'a' || n == 'f' || n == 'v' || n == 'e') {
                const char* from = "ntrafve";
                const char to[] = {'\n', '\t', '\r', '\a', '\f', '\v', '\x1b'};
                out.push_back(to[std::string(from).find(n)]);
                ++i;
                continue;
            }
            if (n == 'x') {
                std::size_t j = i + 2;
                int v = 0;
                int digits = 0;
                while (j < tree.size() && digits < 2 && std::isxdigit(static_cast<unsigned char>(tree[j]))) {
                    v = v * 16 + (std::isdigit(static_cast<unsigned char>(tree[j])) ? tree[j] - '0' : (std::tolower(tree[j]) - 'a' + 10));
                    ++j;
                    ++digits;
                }
                if (digits > 0) {
                    out.push_back(static_cast<char>(v));
                    i = j - 1;
                    continue;
                }
            }
            out.push_back('\\');  // the printer writes a literal backslash as is
            continue;
        }
        if (std::string("()*+[|").find(c) != std::string::npos) {
            return false;  // alternation, repetition or a character class: a glob
        }
        out.push_back(c);
    }
    return true;
}

// An expr-tree dump (one profile's rules, with their "< 0xNN>" permission marks) as an
// ECMAScript regex over the bytes of a path: what the parser's DFA will match. "[]" is the empty
// expression, "." any byte, "\\xN" a byte; the marks are dropped.
inline std::string expr_tree_ecma(const std::string& tree)
{
    std::string out;
    bool in_set = false;
    for (std::size_t i = 0; i < tree.size(); ++i) {
        const char c = tree[i];
        if (!in_set && tree.compare(i, 4, "< 0x") == 0) {
            const std::size_t end = tree.find('>', i);
            if (end == std::string::npos) {
                break;
            }
            i = end;
            continue;
        }
        if (c == '\\' && i + 1 < tree.size()) {
            const char n = tree[++i];
            if (n == 'x') {
                std::string hex;
                while (i + 1 < tree.size() && hex.size() < 2 && std::isxdigit(static_cast<unsigned char>(tree[i + 1]))) {
                    hex.push_back(tree[++i]);
                }
                out += "\\x" + std::string(hex.size() < 2 ? 2 - hex.size() : 0, '0') + hex;
            } else if (std::string("ntrafve").find(n) != std::string::npos) {
                const char* hex[] = {"0a", "09", "0d", "07", "0c", "0b", "1b"};  // the printer's C escapes
                out += "\\x" + std::string(hex[std::string("ntrafve").find(n)]);
            } else if (std::string("^$\\.*+?()[]{}|/-").find(n) != std::string::npos) {
                out += '\\';
                out += n;
            } else {
                out += n;  // an escaped space or other plain character
            }
            continue;
        }
        if (!in_set && c == '[' && i + 1 < tree.size() && tree[i + 1] == ']') {
            out += "(?:)";
            ++i;
            continue;
        }
        if (c == '[') {
            in_set = true;
        } else if (c == ']') {
            in_set = false;
        } else if (c == '.' && !in_set) {
            out += "[\\s\\S]";
            continue;
        } else if (!in_set && std::string("{}^$").find(c) != std::string::npos) {
            out += '\\';  // no operator in the tree's syntax: a literal character
        } else if (!in_set && std::string("?*+").find(c) != std::string::npos
                   && !(i >= 1 && tree[i - 1] == ')' && (i < 2 || tree[i - 2] != '\\'))) {
            out += '\\';  // the tree writes a repetition after its group's ')': else a literal
        }
        out += c;
    }
    return out;
}

} // namespace virtdeny::test
