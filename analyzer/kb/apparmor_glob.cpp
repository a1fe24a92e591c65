#include <analyzer/kb/apparmor_glob.hpp>

#include <re2/re2.h>

#include <algorithm>

namespace virtdeny::kb {

namespace {

void add_literal(std::string& out, char c)
{
    const unsigned char u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '/' || u == '_'
        || u == '-') {
        out.push_back(c);
        return;
    }
    static const char* const k_hex = "0123456789abcdef";
    out += "\\x";
    out.push_back(k_hex[u >> 4]);
    out.push_back(k_hex[u & 15]);
}

bool is_octal(char c)
{
    return c >= '0' && c <= '7';
}

} // namespace

std::string apparmor_glob_regex(std::string_view glob)
{
    if (glob.size() >= 2 && glob.front() == '"' && glob.back() == '"') {
        glob = glob.substr(1, glob.size() - 2);
    }
    std::string out = "(?s)";
    int braces = 0;
    for (std::size_t i = 0; i < glob.size(); ++i) {
        const char c = glob[i];
        if (c == '\\') {
            if (i + 1 >= glob.size()) {
                return {};
            }
            if (i + 3 < glob.size() && is_octal(glob[i + 1]) && is_octal(glob[i + 2]) && is_octal(glob[i + 3])) {
                const int v = (glob[i + 1] - '0') * 64 + (glob[i + 2] - '0') * 8 + (glob[i + 3] - '0');
                add_literal(out, static_cast<char>(v));
                i += 3;
                continue;
            }
            add_literal(out, glob[++i]);
        } else if (c == '*') {
            // right after a '/', the parser makes * and ** match at least one character (and
            // not a '/' first): "/dir/*" and "/dir/**" do not match "/dir/" itself
            const bool after_slash = out.size() > 4 && out.back() == '/';
            if (i + 1 < glob.size() && glob[i + 1] == '*') {
                out += after_slash ? "[^/].*" : ".*";
                ++i;
            } else {
                out += after_slash ? "[^/]+" : "[^/]*";
            }
        } else if (c == '@' && (glob.substr(i, 6) == "@{pid}" || glob.substr(i, 6) == "@{tid}")) {
            out += "(?:[1-9][0-9]{0,5}|[1-4][0-9]{6})";  // tunables/kernelvars: a process or thread id
            i += 5;
        } else if (c == '?') {
            out += "[^/]";
        } else if (c == '[') {
            std::string set = "[";
            std::size_t j = i + 1;
            if (j < glob.size() && glob[j] == '^') {
                set += '^';
                ++j;
            }
            bool closed = false;
            for (; j < glob.size(); ++j) {
                if (glob[j] == ']') {
                    closed = true;
                    break;
                }
                if (glob[j] == '\\' && j + 1 < glob.size()) {
                    ++j;
                }
                if (glob[j] == '-' ) {
                    set += '-';
                } else {
                    add_literal(set, glob[j]);
                }
            }
            if (!closed) {
                return {};
            }
            out += set + "]";
            i = j;
        } else if (c == '{') {
            out += "(?:";
            ++braces;
        } else if (c == '}' && braces > 0) {
            out += ")";
            --braces;
        } else if (c == ',' && braces > 0) {
            out += "|";
        } else {
            add_literal(out, c);
        }
    }
    return braces == 0 ? out : std::string();
}

bool apparmor_glob_matches(std::string_view glob, std::string_view path)
{
    const std::string pattern = apparmor_glob_regex(glob);
    if (pattern.empty()) {
        return false;
    }
    std::string normal(path);  // AppArmor matches paths with runs of '/' collapsed
    normal.erase(std::unique(normal.begin(), normal.end(), [](char a, char b) { return a == '/' && b == '/'; }),
                 normal.end());
    RE2::Options options;
    options.set_log_errors(false);
    options.set_encoding(RE2::Options::EncodingLatin1);
    const RE2 re(pattern, options);
    return re.ok() && RE2::FullMatch(normal, re);
}

} // namespace virtdeny::kb
