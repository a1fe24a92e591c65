// libFuzzer target: the SELinux writer on fuzzed file names, contexts, classes, permissions
// and VM names. Checks:
//  - shell_quote gives one shell word that a POSIX shell reads back as exactly the text;
//  - the relabel fix is two commands whose every argument a shell reads back exactly
//    (`semanage fcontext -a -t TYPE REGEX`, `restorecon [-R] -v PATH`);
//  - the file-context regex is one file_contexts token (no space, no control byte) that
//    matches the path and nothing else (one byte more, less or changed), or the path and
//    what is below it for a tree;
//  - allow rules and the .te module hold only identifiers where identifiers go: nothing
//    from the log can end a statement or add one.
#include "fuzz_support.hpp"

#include <analyzer/emit/selinux_writer.hpp>
#include <analyzer/util/escape.hpp>

#include <re2/re2.h>

#include <string>
#include <vector>

namespace virtdeny::fuzz::selinux_writer {

// Reads a shell script made of simple commands (words separated by blanks, commands by
// newlines) the way a POSIX shell does for the quoting shell_quote uses: '...' and \x.
// false when anything else the shell would interpret appears unquoted.
bool shell_words(const std::string& script, std::vector<std::vector<std::string>>& commands)
{
    commands.assign(1, {});
    std::string word;
    bool in_word = false;
    for (std::size_t i = 0; i < script.size(); ++i) {
        const char c = script[i];
        if (c == '\'') {
            const std::size_t close = script.find('\'', i + 1);
            if (close == std::string::npos) {
                return false;
            }
            word.append(script, i + 1, close - i - 1);
            in_word = true;
            i = close;
        } else if (c == '\\') {
            if (i + 1 >= script.size() || script[i + 1] == '\n') {
                return false;
            }
            word.push_back(script[++i]);
            in_word = true;
        } else if (c == ' ' || c == '\t' || c == '\n') {
            if (in_word) {
                commands.back().push_back(word);
                word.clear();
                in_word = false;
            }
            if (c == '\n') {
                commands.emplace_back();
            }
        } else if (std::string("\"$`;&|<>(){}*?[]~#=%!").find(c) != std::string::npos
                   || static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
            return false;  // would be expanded, globbed or redirected, or is not plain text
        } else {
            word.push_back(c);
            in_word = true;
        }
    }
    if (in_word) {
        commands.back().push_back(word);
    }
    return true;
}

void check_shell_quote(const std::string& s)
{
    const std::string q = util::shell_quote(s);
    // read back as a shell would: '...' holds anything literally; outside the quotes only
    // backslash escapes (\') may appear, so nothing is expanded, split or globbed
    std::string back;
    for (std::size_t i = 0; i < q.size(); ++i) {
        if (q[i] == '\'') {
            const std::size_t close = q.find('\'', i + 1);
            FUZZ_CHECK(close != std::string::npos);
            back.append(q, i + 1, close - i - 1);
            i = close;
        } else {
            FUZZ_CHECK(q[i] == '\\' && i + 1 < q.size());
            back.push_back(q[++i]);
        }
    }
    FUZZ_CHECK(back == s);
}

RE2::Options latin1()
{
    RE2::Options o;
    o.set_encoding(RE2::Options::EncodingLatin1);  // \xNN is the byte NN, as in PCRE2's non-UTF mode
    o.set_log_errors(false);
    o.set_dot_nl(false);
    return o;
}

void check_regex(const std::string& path_in, bool tree)
{
    const std::string regex = util::selinux_fcontext_regex(path_in, tree);
    if (path_in.empty() || path_in.front() != '/') {
        FUZZ_CHECK(regex.empty());
        return;
    }
    FUZZ_CHECK(!regex.empty());
    for (unsigned char c : regex) {
        FUZZ_CHECK(c > 0x20 && c < 0x7f);  // one token of a file_contexts line
    }
    std::string path = path_in;
    while (path.size() > 1 && path.back() == '/') {
        path.pop_back();
    }
    const RE2 re(regex, latin1());
    FUZZ_CHECK(re.ok());
    FUZZ_CHECK(RE2::FullMatch(path, re));
    FUZZ_CHECK(!RE2::FullMatch(path + "x", re));
    if (path.size() > 1) {
        FUZZ_CHECK(!RE2::FullMatch(path.substr(0, path.size() - 1), re));
        for (std::size_t i : {std::size_t(1), path.size() / 2, path.size() - 1}) {
            std::string other = path;
            other[i] = static_cast<char>(other[i] ^ 0x01);
            FUZZ_CHECK(!RE2::FullMatch(other, re));
        }
    }
    if (tree) {
        FUZZ_CHECK(RE2::FullMatch(path + "/child", re));
    } else {
        FUZZ_CHECK(!RE2::FullMatch(path + "/child", re));
    }
}

void check_relabel(const model::Finding& f)
{
    const auto fix = emit::selinux_relabel_fix(f);
    if (!fix) {
        return;
    }
    std::vector<std::vector<std::string>> commands;
    FUZZ_CHECK(shell_words(fix->text, commands));
    FUZZ_CHECK(commands.size() == 2);
    const auto& semanage = commands[0];
    const auto& restorecon = commands[1];
    FUZZ_CHECK(semanage.size() == 6);
    FUZZ_CHECK(semanage[0] == "semanage" && semanage[1] == "fcontext" && semanage[2] == "-a" && semanage[3] == "-t");
    FUZZ_CHECK(semanage[4] == "svirt_image_t" || semanage[4] == "virt_content_t");
    const bool tree = f.tclass == "dir" && f.device_hints.shared_tree;
    FUZZ_CHECK(semanage[5] == util::selinux_fcontext_regex(f.path, tree));
    std::string path = f.path;
    while (path.size() > 1 && path.back() == '/') {
        path.pop_back();
    }
    const std::vector<std::string> expected = tree ? std::vector<std::string>{"restorecon", "-R", "-v", path}
                                                   : std::vector<std::string>{"restorecon", "-v", path};
    FUZZ_CHECK(restorecon == expected);
}

const RE2& allow_shape()
{
    static const RE2 re(R"(allow [A-Za-z0-9_.]+ [A-Za-z0-9_.]+:[A-Za-z0-9_.]+ \{( [A-Za-z0-9_.]+)+ \};)");
    return re;
}

void check_module(const std::vector<const model::Finding*>& findings, const std::string& vm)
{
    const std::string own = emit::selinux_vm_type(vm, "");
    FUZZ_CHECK(emit::is_te_identifier(own));
    const std::string name = emit::selinux_module_name(vm, "");
    FUZZ_CHECK(emit::is_te_identifier(name));
    const auto mod = emit::selinux_module(name, own, findings);
    static const RE2 te_rule(R"(allow [A-Za-z_][A-Za-z0-9_]* [A-Za-z_][A-Za-z0-9_]*:[A-Za-z_][A-Za-z0-9_]* \{( [A-Za-z_][A-Za-z0-9_]*)+ \};)");
    for (const auto& r : mod.rules) {
        FUZZ_CHECK(RE2::FullMatch(r, te_rule));
    }
    // every line of the .te is one of the statements the writer makes
    static const RE2 te_line(
        R"((|#[^\n]*|module [a-z0-9_]+ 1\.0;|require \{|\}|    type [A-Za-z_][A-Za-z0-9_]*;|    role system_r;|)"
        R"(    attribute [a-z_]+;|    class [A-Za-z_][A-Za-z0-9_]* \{( [A-Za-z_][A-Za-z0-9_]*)+ \};|)"
        R"(type [A-Za-z_][A-Za-z0-9_]*;|typeattribute [A-Za-z_][A-Za-z0-9_]* [a-z_, ]+;|)"
        R"(role system_r types [A-Za-z_][A-Za-z0-9_]*;|)"
        R"(allow [A-Za-z_][A-Za-z0-9_]* [A-Za-z_][A-Za-z0-9_]*:[A-Za-z_][A-Za-z0-9_]* \{( [A-Za-z_][A-Za-z0-9_]*)+ \};))");
    std::size_t pos = 0;
    while (pos < mod.te.size()) {
        std::size_t nl = mod.te.find('\n', pos);
        if (nl == std::string::npos) {
            nl = mod.te.size();
        }
        const std::string line = mod.te.substr(pos, nl - pos);
        if (!RE2::FullMatch(line, te_line)) {
            std::fprintf(stderr, "unexpected .te line: %s\n", line.c_str());
        }
        FUZZ_CHECK(RE2::FullMatch(line, te_line));
        pos = nl + 1;
    }
}

int one_input(const std::uint8_t* data, std::size_t size)
{
    fuzz::Input in(data, size);
    const std::uint8_t flags = in.byte();
    // fields separated by a 0x00 byte: path, scontext, tcontext, class, permissions, vm
    std::vector<std::string> fields;
    std::string_view rest = in.rest();
    while (fields.size() < 6) {
        const std::size_t sep = rest.find('\0');
        fields.emplace_back(rest.substr(0, sep));
        rest.remove_prefix(sep == std::string_view::npos ? rest.size() : sep + 1);
    }
    const std::string& path = fields[0];
    check_shell_quote(path);
    check_regex(path, (flags & 1) != 0);
    check_regex("/var/lib/libvirt/images/" + path, (flags & 2) != 0);

    model::Finding f;
    f.mac = model::Mac::selinux;
    f.domain = model::DomainRef{fields[5], "", "vm-ctx"};
    f.subject = (flags & 4) ? fields[1] : "system_u:system_r:svirt_t:s0:c1,c2";
    f.tcontext = (flags & 8) ? fields[2] : "unconfined_u:object_r:user_home_t:s0";
    f.tclass = (flags & 16) ? fields[3] : ((flags & 32) ? "dir" : "file");
    f.device = (flags & 64) ? "share-9p" : "disk-image";
    f.device_hints.shared_tree = (flags & 64) != 0;  // (as rules/devices/devices.yaml says)
    f.path = (!path.empty() && path.front() == '/') ? path : "/home/u/" + path;
    std::string_view perms = fields[4];
    while (!perms.empty()) {
        const std::size_t sp = perms.find(' ');
        if (sp != 0) {
            f.permissions.emplace_back(perms.substr(0, sp));
        }
        perms.remove_prefix(sp == std::string_view::npos ? perms.size() : sp + 1);
    }
    if (f.permissions.empty()) {
        f.permissions = {"read", "open"};
    }
    check_relabel(f);
    const std::string allow = emit::selinux_allow_rule(f);
    if (!allow.empty()) {
        FUZZ_CHECK(RE2::FullMatch(allow, allow_shape()));
    }
    check_module({&f}, fields[5]);
    return 0;
}

} // namespace virtdeny::fuzz::selinux_writer

VIRTDENY_FUZZ_MAIN(selinux_writer)
