// libFuzzer target: the AppArmor writer on fuzzed file names. Any name must come out as one
// quoted AppArmor path literal whose escapes decode back to exactly that name (no byte of
// it can end the string, start a glob or add a rule), the file rule must be that literal
// and its permissions only, and a comment must stay one line.
//
// With VIRTDENY_FUZZ_APPARMOR_PARSER=1 (scripts/fuzz replays the corpus so), each rule is
// also compiled by the real `apparmor_parser -QK -D expr-tree` in a test profile: it must be
// accepted and its expression tree must print as the literal path, nothing more (no glob,
// no second rule).
#include "../apparmor_tree.hpp"
#include "fuzz_support.hpp"

#include <analyzer/emit/apparmor_writer.hpp>
#include <analyzer/kb/apparmor_glob.hpp>
#include <analyzer/kb/apparmor_grant.hpp>
#include <analyzer/util/escape.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <unistd.h>

namespace virtdeny::fuzz::writers {

std::string decode(const std::string& quoted)
{
    std::string out;
    for (std::size_t i = 1; i + 1 < quoted.size(); ++i) {
        const char c = quoted[i];
        if (c != '\\') {
            out.push_back(c);
            continue;
        }
        const char n = quoted[i + 1];
        if (n >= '0' && n <= '7') {
            out.push_back(static_cast<char>(std::strtol(quoted.substr(i + 1, 3).c_str(), nullptr, 8)));
            i += 3;
        } else {
            out.push_back(n);
            i += 1;
        }
    }
    return out;
}

void check_literal(const std::string& name, const std::string& quoted)
{
    FUZZ_CHECK(quoted.size() >= 2 && quoted.front() == '"' && quoted.back() == '"');
    for (std::size_t i = 1; i + 1 < quoted.size(); ++i) {
        const auto c = static_cast<unsigned char>(quoted[i]);
        FUZZ_CHECK(c >= 0x20 && c < 0x7f);  // no raw control or non-ASCII byte in a rule
        if (c == '\\') {
            FUZZ_CHECK(i + 2 < quoted.size());  // an escape never eats the closing quote
            ++i;  // the next byte is literal (or starts an octal escape)
            continue;
        }
        FUZZ_CHECK(c != '"' && c != '*' && c != '?' && c != '[' && c != ']' && c != '{' && c != '}' && c != '^');
    }
    FUZZ_CHECK(decode(quoted) == name);
}

// How apparmor_parser (3.0) prints a literal path in its expression tree (-D expr-tree):
// \a \e \f \n \r \t, other control and non-ASCII bytes as \x<hex>, space ( ) * + . [ ] |
// escaped, everything else (backslash, ^ { } ? " included) as it is; the parser folds
// repeated slashes, as the kernel's path names never hold them. A rule that compiles to
// this text is that literal path: a glob or alternation prints its operators unescaped.
std::string tree_literal(const std::string& path)
{
    static const char k_hex[] = "0123456789abcdef";
    std::string out;
    char previous = 0;
    for (char ch : path) {
        const auto c = static_cast<unsigned char>(ch);
        if (ch == '/' && previous == '/') {
            continue;
        }
        previous = ch;
        switch (ch) {
        case '\a': out += "\\a"; continue;
        case '\x1b': out += "\\e"; continue;
        case '\f': out += "\\f"; continue;
        case '\n': out += "\\n"; continue;
        case '\r': out += "\\r"; continue;
        case '\t': out += "\\t"; continue;
        default: break;
        }
        if (std::string_view(" ()*+.[]|").find(ch) != std::string_view::npos) {
            out.push_back('\\');
            out.push_back(ch);
        } else if (c < 0x20 || c >= 0x7f) {
            out += "\\x";
            if (c >= 16) {
                out.push_back(k_hex[c >> 4]);
            }
            out.push_back(k_hex[c & 15]);
        } else {
            out.push_back(ch);
        }
    }
    return out;
}

std::string read_all(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Compiles one rule in a test profile; true when accepted and its one pattern is the path.
void check_with_parser(const std::string& path, const std::string& rule)
{
    static const std::string dir = [] {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/virtdeny-fuzz-aa-XXXXXX";
        std::vector<char> buf(tmpl.begin(), tmpl.end());
        buf.push_back('\0');
        const char* d = ::mkdtemp(buf.data());
        return std::string(d ? d : "/tmp");
    }();
    const std::string profile = dir + "/profile";
    const std::string out = dir + "/out";
    {
        std::ofstream f(profile, std::ios::binary | std::ios::trunc);
        f << test::apparmor_test_profile("  " + rule);
    }
    const std::string cmd = "apparmor_parser -QK -D expr-tree '" + profile + "' >'" + out + "' 2>&1";
    const int status = std::system(cmd.c_str());
    const std::string text = read_all(out);
    if (status != 0) {
        std::fprintf(stderr, "apparmor_parser rejected: %s\n%s\n", rule.c_str(), text.c_str());
    }
    FUZZ_CHECK(status == 0);
    const std::vector<std::string> patterns = test::expr_tree_patterns(text);
    if (patterns.size() != 1) {
        std::fprintf(stderr, "rule %s compiled to %zu patterns:\n%s\n", rule.c_str(), patterns.size(), text.c_str());
    }
    FUZZ_CHECK(patterns.size() == 1);  // the name added no rule
    if (kb::apparmor_file_glob(path) != kb::apparmor_quote_file_path(path)) {
        // a /proc process path written with @{pid}/@{tid}: the parser's pattern matches the path
        // (checked for plain names only: the expr-tree dump is not an unambiguous syntax for
        // every byte, e.g. a name holding "< 0x1>" itself; the literal check above covers those)
        const bool plain = std::all_of(path.begin(), path.end(), [](unsigned char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '.'
                || c == '_' || c == '-';
        });
        if (!plain) {
            return;
        }
        const std::regex parsed(test::expr_tree_ecma(patterns.front()), std::regex::ECMAScript);
        std::string kernel_path = path;  // the parser folds "//" in the rule as the kernel never reports one
        for (std::size_t i = kernel_path.find("//"); i != std::string::npos; i = kernel_path.find("//", i)) {
            kernel_path.erase(i, 1);
        }
        FUZZ_CHECK(std::regex_match(kernel_path, parsed));
        return;
    }
    const std::string expected = tree_literal(path);
    if (patterns.front() != expected) {
        std::fprintf(stderr, "rule %s compiled to pattern %s, not %s\n", rule.c_str(), patterns.front().c_str(),
                     expected.c_str());
    }
    FUZZ_CHECK(patterns.front() == expected);
}

bool parser_wanted()
{
    static const bool wanted = [] {
        const char* v = std::getenv("VIRTDENY_FUZZ_APPARMOR_PARSER");
        return v && *v && std::string(v) != "0";
    }();
    return wanted;
}

int one_input(const std::uint8_t* data, std::size_t size)
{
    const std::string name(reinterpret_cast<const char*>(data), size);
    const std::string quoted = util::apparmor_path(name);
    check_literal(name, quoted);

    const std::string comment = emit::apparmor_comment(name);
    FUZZ_CHECK(comment.rfind("# ", 0) == 0 || comment.rfind("#", 0) == 0);
    for (unsigned char c : comment) {
        FUZZ_CHECK(c != '\n' && c != '\r' && c != '\0');
    }

    // a denied file of a VM with that name
    const std::string path = (!name.empty() && name.front() == '/') ? name : "/var/lib/libvirt/images/" + name;
    model::Finding f;
    f.mac = model::Mac::apparmor;
    f.subject = "libvirt-2afa1131-bc8c-43d2-9c4a-962c1bf7723e";
    f.domain = model::DomainRef{"vm1", "2afa1131-bc8c-43d2-9c4a-962c1bf7723e", "apparmor-profile"};
    f.tclass = "file";
    f.path = path;
    f.permissions = {"read", "write"};
    f.sample.fsuid = 107;
    f.sample.ouid = 0;
    const std::string rule = emit::apparmor_rule(f);
    // the path as a literal, or for a /proc process path the @{pid}/@{tid} glob of the next start
    FUZZ_CHECK(rule == kb::apparmor_file_glob(path) + " rw,");
    FUZZ_CHECK(kb::apparmor_glob_matches(kb::apparmor_file_glob(path), path) || path.find('\0') != std::string::npos
               || path.find("//") != std::string::npos);
    if (parser_wanted() && path.find('\0') == std::string::npos && path.size() < 4096) {
        // a file name never holds NUL; PATH_MAX bounds it
        check_with_parser(path, rule);
    }
    return 0;
}

} // namespace virtdeny::fuzz::writers

VIRTDENY_FUZZ_MAIN(writers)
