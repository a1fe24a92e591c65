// util/escape: each escaper against the program that reads its output. Inputs are adversarial
// file names written for these tests (spaces, quotes, glob and regex metacharacters, control
// and non-UTF-8 bytes), no third-party data.
//   shell_quote            sh -c 'printf %s <quoted>' prints the bytes back
//   apparmor_path / _glob  apparmor_parser -QK -D expr-tree: the rule compiles to that literal
//   selinux_fcontext_regex libselinux's own file-contexts backend (selabel_open with a
//                          file_contexts file, selabel_lookup): matches the path and nothing else
//   xml_escape/xml_comment pugixml reads the value back / the comment stays one comment
//   json_terminal_safe     nlohmann's parser reads the same value back
#include <analyzer/util/escape.hpp>

#include "../apparmor_tree.hpp"
#include "../support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>
#include <selinux/label.h>
#include <selinux/selinux.h>

#include <string>
#include <vector>

using namespace virtdeny;

namespace {

const std::vector<std::string>& adversarial()
{
    static const std::vector<std::string> k_names = {
        "/srv/plain.qcow2",
        "/home/u/My VMs/x",
        "/srv/quote\"d and 'single'",
        "/srv/star*/q?.img",
        "/srv/brace{a,b}/{,**}",
        "/srv/bracket[0-9]/[!x]",
        "/srv/caret^dollar$.img",
        "/srv/back\\slash",  // (not "\\n": the expr-tree dump prints a backslash as is, so "\\n" would read as a newline)
        "/srv/paren(1)|+.img",
        "/srv/dot.any",
        "/srv/tab\there",
        "/srv/new\nline",
        "/srv/dollar$(id)`id`",
        std::string("/srv/non-utf8-\xff\xfe-\xc3(.img"),
        "/srv/ünïcode/κ",
        "/srv/-dash--double---triple",
        "/srv/@{HOME}",
        "/srv/#comment",
    };
    return k_names;
}

// The expr-tree patterns of a test profile holding rules (the attachment left out).
std::vector<std::string> compiled_patterns(const std::string& rules)
{
    const std::string dir = test::temp_dir();
    test::write_file(dir + "/profile", test::apparmor_test_profile(rules));
    const auto r = test::run("apparmor_parser -QK -D expr-tree " + test::shell_quote(dir + "/profile"));
    INFO(r.err);
    REQUIRE(r.status == 0);
    return test::expr_tree_patterns(r.out + "\n" + r.err);
}

} // namespace

TEST_CASE("shell_quote: sh reads every byte back", "[util][escape]")
{
    std::vector<std::string> inputs = adversarial();
    inputs.push_back("");
    inputs.push_back("'");
    inputs.push_back("''\\''");
    inputs.push_back("-n");
    inputs.push_back("a\\");
    for (const auto& s : inputs) {
        const std::string q = util::shell_quote(s);
        // the quoted word is pasted into the command line as a shell would see it in a script
        const auto r = test::run("sh -c " + test::shell_quote("printf %s " + q));
        INFO(q);
        CHECK(r.status == 0);
        CHECK(r.out == s);
    }
}

TEST_CASE("apparmor_path: apparmor_parser compiles it to the literal path only", "[util][escape][apparmor]")
{
    if (!test::require_tool("apparmor_parser", "apparmor")) {
        return;
    }
    // one profile per name: apparmor_parser merges rules with the same permissions
    for (const auto& s : adversarial()) {
        const auto patterns = compiled_patterns("  " + util::apparmor_path(s) + " r,\n");
        INFO(s);
        REQUIRE(patterns.size() == 1);
        std::string literal;
        INFO(patterns.front());
        CHECK(test::decode_literal(patterns.front(), literal));  // no glob construct
        CHECK(literal == s);
    }
}

TEST_CASE("apparmor_glob_escape: a glob appended to an escaped name stays the writer's only glob",
          "[util][escape][apparmor]")
{
    if (!test::require_tool("apparmor_parser", "apparmor")) {
        return;
    }
    // "<escaped root>/{,**}": the tree below a root whose name holds glob characters; the
    // escaped root compiles to the same text as the root alone as a literal path
    const std::string root = "/srv/a*b?[c]{d,e}^\"f";
    const auto tree = compiled_patterns("  \"" + util::apparmor_glob_escape(root) + "/{,**}\" r,\n");
    const auto alone = compiled_patterns("  " + util::apparmor_path(root) + " r,\n");
    REQUIRE(tree.size() == 1);
    REQUIRE(alone.size() == 1);
    std::string literal;
    REQUIRE(test::decode_literal(alone.front(), literal));
    CHECK(literal == root);
    INFO(tree.front());
    CHECK(tree.front().rfind(alone.front() + "/(", 0) == 0);  // the literal root, then the writer's glob
}

namespace {

// Looks paths up in a file_contexts holding one line "<regex> <context>", with libselinux's
// own file backend (the one semanage's file_contexts.local and matchpathcon/restorecon use).
struct FileContexts
{
    selabel_handle* handle = nullptr;
    explicit FileContexts(const std::string& line)
    {
        const std::string dir = test::temp_dir();
        test::write_file(dir + "/file_contexts", line + "\n");
        const std::string path = dir + "/file_contexts";
        selinux_opt opts[] = {{SELABEL_OPT_PATH, path.c_str()}, {SELABEL_OPT_VALIDATE, nullptr}};
        handle = selabel_open(SELABEL_CTX_FILE, opts, 2);
    }
    ~FileContexts()
    {
        if (handle) {
            selabel_close(handle);
        }
    }
    FileContexts(const FileContexts&) = delete;
    FileContexts& operator=(const FileContexts&) = delete;
    bool matches(const std::string& path) const
    {
        char* context = nullptr;
        if (selabel_lookup(handle, &context, path.c_str(), 0) != 0) {
            return false;
        }
        freecon(context);
        return true;
    }
};

const char* const k_context = "system_u:object_r:svirt_image_t:s0";

} // namespace

TEST_CASE("selinux_fcontext_regex: libselinux matches exactly the path", "[util][escape][selinux]")
{
    for (const auto& path : adversarial()) {
        const std::string regex = util::selinux_fcontext_regex(path);
        INFO(regex);
        REQUIRE(!regex.empty());
        CHECK(regex.find_first_of(" \t\n") == std::string::npos);  // one field of the line
        FileContexts fc(regex + "    " + k_context);
        REQUIRE(fc.handle != nullptr);
        CHECK(fc.matches(path));
        // nothing else: one byte more, one byte less, one byte changed, below it
        CHECK_FALSE(fc.matches(path + "x"));
        CHECK_FALSE(fc.matches(path.substr(0, path.size() - 1)));
        CHECK_FALSE(fc.matches(path + "/child"));
        for (std::size_t i = 1; i < path.size(); ++i) {
            std::string other = path;
            other[i] = other[i] == 'Z' ? 'Y' : 'Z';
            if (other != path) {
                CHECK_FALSE(fc.matches(other));
            }
        }
    }
}

TEST_CASE("selinux_fcontext_regex: a tree is the directory and what is below it", "[util][escape][selinux]")
{
    const std::string root = "/srv/My Share.d/[x]";
    const std::string regex = util::selinux_fcontext_regex(root + "/", true);
    CHECK(regex == "/srv/My\\x20Share\\.d/\\[x\\](/.*)?");
    FileContexts fc(regex + " " + k_context);
    REQUIRE(fc.handle != nullptr);
    CHECK(fc.matches(root));
    CHECK(fc.matches(root + "/a"));
    CHECK(fc.matches(root + "/a/b c"));
    CHECK_FALSE(fc.matches(root + "x"));
    CHECK_FALSE(fc.matches("/srv/My Share.d/x"));
    CHECK_FALSE(fc.matches("/srv/My ShareXd/[x]"));
}

TEST_CASE("selinux_fcontext_regex: a raw space would not be a file-contexts line", "[util][escape][selinux]")
{
    // what {path_regex_quoted} printed before: the space kept (the line has three fields and
    // libselinux reads "VMs/x" as the file type, or refuses the file)
    FileContexts fc(std::string("/home/u/My VMs/x    ") + k_context);
    CHECK((fc.handle == nullptr || !fc.matches("/home/u/My VMs/x")));
    CHECK(util::selinux_fcontext_regex("relative/x").empty());
    CHECK(util::selinux_fcontext_regex("/").empty() == false);
}

TEST_CASE("xml_escape: pugixml reads the text and attribute back", "[util][escape][xml]")
{
    std::vector<std::string> inputs = adversarial();
    inputs.push_back("<a href='x'>&amp;</a>]]>");
    for (const auto& s : inputs) {
        if (!util::xml_representable(s)) {
            continue;
        }
        const std::string doc = "<r a=\"" + util::xml_escape(s) + "\" b='" + util::xml_escape(s) + "'>"
            + util::xml_escape(s) + "</r>";
        pugi::xml_document d;
        const auto ok = d.load_string(doc.c_str(), pugi::parse_default);
        INFO(doc);
        REQUIRE(ok);
        // attribute values: XML normalises tab/LF in attributes, compare without them
        CHECK(d.child("r").text().get() == s);
        if (s.find_first_of("\t\n\r") == std::string::npos) {
            CHECK(d.child("r").attribute("a").value() == s);
            CHECK(d.child("r").attribute("b").value() == s);
        }
    }
    CHECK_FALSE(util::xml_representable(std::string("/a\x01")));
    CHECK(util::xml_representable("/a\tb\nc"));
}

TEST_CASE("xml_comment: input cannot close the comment or break it", "[util][escape][xml]")
{
    const std::vector<std::string> inputs = {"plain", "a -- b", "-->", "<!-- x -->", "ends with -", "---", "-",
                                             "x\n-->\n<evil/>"};
    for (const auto& s : inputs) {
        const std::string c = util::xml_comment(s);
        INFO(c);
        CHECK(c.find("--") == std::string::npos);
        CHECK((c.empty() || c.back() != '-'));
        CHECK(c.find('\n') == std::string::npos);
        const std::string doc = "<r><!-- " + c + " --><after/></r>";
        pugi::xml_document d;
        REQUIRE(d.load_string(doc.c_str(), pugi::parse_default | pugi::parse_comments));
        std::size_t children = 0;
        for (auto n : d.child("r").children()) {
            (void)n;
            ++children;
        }
        CHECK(children == 2);  // the comment, then <after/>: nothing escaped it
        CHECK(d.child("r").first_child().type() == pugi::node_comment);
    }
    CHECK(util::xml_comment("a -- b") == "a - - b");
    CHECK(util::xml_comment("--x-") == "- -x- ");
}

TEST_CASE("json_terminal_safe: the same JSON value, nothing a terminal acts on", "[util][escape][json]")
{
    const std::string controls = std::string("a\x7f") + "\xc2\x9b" + "31m" + "\xe2\x80\xae" + "rev" + "\xd8\x9c"
        + "\xe2\x81\xa6" + "\x1b[0m" + "ok ü κ";
    nlohmann::json j = {{"path", controls}};
    const std::string safe = util::json_terminal_safe(j.dump());
    CHECK(nlohmann::json::parse(safe) == j);
    for (unsigned char c : safe) {
        CHECK((c >= 0x20 && c != 0x7f));
    }
    CHECK(safe.find("\xc2\x9b") == std::string::npos);
    CHECK(safe.find("\xe2\x80\xae") == std::string::npos);
    CHECK(safe.find("\xd8\x9c") == std::string::npos);
    CHECK(safe.find("ü κ") != std::string::npos);  // other text is kept as it is
    // sanitize_utf8 first: invalid bytes become text, and the result is a JSON string
    const std::string bad = std::string("/a\xff\xfe");
    CHECK(nlohmann::json::parse(util::json_terminal_safe(nlohmann::json(util::sanitize_utf8(bad)).dump()))
          == "/a\\xFF\\xFE");
}

TEST_CASE("markdown_cell and printable: one cell, nothing a terminal acts on", "[util][escape][markdown]")
{
    CHECK(util::markdown_cell("a|b`c\x1b[31m") == "a\\|b'c\\x1B[31m");
    CHECK(util::printable("\xe2\x80\xae" "x") == "\\xE2\\x80\\xAEx");
    CHECK(util::printable(std::string("\xc2\x9b")) == "\\xC2\\x9B");
    CHECK(util::printable("ok ü") == "ok ü");
}
