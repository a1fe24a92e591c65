// libFuzzer target: the AppArmor path writer. Any file name must come out as one quoted
// AppArmor path literal whose escapes decode back to exactly that name: no byte of the
// name can end the string, start a glob, or add a rule.
#include <analyzer/emit/apparmor_writer.hpp>

#include <cstdlib>
#include <string>

namespace {

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

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string name(reinterpret_cast<const char*>(data), size);
    const std::string quoted = virtdeny::emit::apparmor_quote_path(name);
    if (quoted.size() < 2 || quoted.front() != '"' || quoted.back() != '"') {
        std::abort();
    }
    for (std::size_t i = 1; i + 1 < quoted.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(quoted[i]);
        if (c < 0x20 || c >= 0x7f) {
            std::abort();  // raw control or non-ASCII byte in a rule
        }
        if (c == '\\') {
            ++i;  // an escape: the next byte is literal (or starts an octal escape)
            continue;
        }
        if (c == '"' || c == '*' || c == '?' || c == '[' || c == ']' || c == '{' || c == '}' || c == '^') {
            std::abort();  // unescaped special character
        }
    }
    if (decode(quoted) != name) {
        std::abort();
    }
    return 0;
}
