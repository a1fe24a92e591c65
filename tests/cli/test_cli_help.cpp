// The CLI surface an admin reads: --version, help COMMAND, the man page (every option of
// --help, every command), the bash and zsh completion, and `rules list|show|validate|schema`.
#include "../support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>

using namespace virtdeny;

namespace {

const char* const k_commands[] = {"explain", "suggest", "follow", "replay", "rules", "help"};

bool have(const std::string& tool)
{
    return test::run("command -v " + tool + " >/dev/null 2>&1").status == 0;
}

// Every long and short option the --help output lists.
std::set<std::string> help_options()
{
    const auto r = test::virtdeny("--help");
    REQUIRE(r.status == 0);
    std::set<std::string> options;
    const std::regex option_re(R"((^|[\s,])(--[a-z][a-z0-9-]*|-[a-zA-Z])\b)");
    std::istringstream in(r.out);
    std::string line;
    bool in_options = false;
    while (std::getline(in, line)) {
        if (line.rfind("options:", 0) == 0) {
            in_options = true;
            continue;
        }
        if (!in_options || line.size() < 3 || line[2] != '-') {
            continue;  // only the option column, not words in descriptions
        }
        const std::string column = line.substr(0, line.find("  ", 2));
        for (std::sregex_iterator it(column.begin(), column.end(), option_re), end; it != end; ++it) {
            options.insert((*it)[2]);
        }
    }
    return options;
}

std::string man_source()
{
    return test::source_dir() + "/docs/virtdeny.1";
}

// The man page as a reader sees it (plain ASCII, no hyphenation surprises).
std::string rendered_man_page(const std::string& path)
{
    if (have("man")) {
        const auto r = test::run("MANWIDTH=200 LC_ALL=C MAN_KEEP_FORMATTING= man -l " + test::shell_quote(path) +
                                 " | col -b");
        REQUIRE(r.status == 0);
        return r.out;
    }
    if (have("groff")) {
        const auto r = test::run("zcat -f " + test::shell_quote(path) + " | groff -man -Tascii -P-cbu -rLL=200n");
        REQUIRE(r.status == 0);
        return r.out;
    }
    test::require_present(false, "man (man-db) or groff (groff-base) to render the man page; checking the roff source");
    return std::regex_replace(test::read_file(path), std::regex(R"(\\-)"), "-");
}

std::string completion(const std::string& name)
{
    return test::source_dir() + "/dist/completion/" + name;
}

// What the bash completion offers for a command line (the last word is being completed).
std::string bash_complete(const std::string& words)
{
    const std::string script = "source " + test::shell_quote(completion("virtdeny.bash")) +
                               "; COMP_WORDS=(" + words + "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));"
                               " _virtdeny; printf '%s\\n' \"${COMPREPLY[@]}\"";
    const auto r = test::run("bash -c " + test::shell_quote(script));
    INFO(r.err);
    REQUIRE(r.status == 0);
    return r.out;
}

} // namespace

TEST_CASE("version option prints the project version", "[cli][help]")
{
    const auto r = test::virtdeny("--version");
    CHECK(r.status == 0);
    CHECK(r.out == std::string("virtdeny ") + VIRTDENY_VERSION + "\n");
}

TEST_CASE("help COMMAND prints that command's page", "[cli][help]")
{
    for (const char* command : k_commands) {
        INFO(command);
        const auto r = test::virtdeny(std::string("help ") + command);
        CHECK(r.status == 0);
        CHECK(r.out.find(std::string("usage: virtdeny ") + command) != std::string::npos);
        CHECK(r.out.find("Exit status") != std::string::npos);
    }
    const auto rules = test::virtdeny("help rules");
    for (const char* sub : {"list", "show ID", "validate DIR", "schema"}) {
        CHECK(rules.out.find(sub) != std::string::npos);
    }
    const auto general = test::virtdeny("help");
    CHECK(general.status == 0);
    CHECK(general.out.find("--format") != std::string::npos);

    const auto bad = test::virtdeny("help frobnicate");
    CHECK(bad.status == 2);
    CHECK(bad.err.find("unknown command 'frobnicate'") != std::string::npos);
    CHECK(test::virtdeny("help explain rules").status == 2);
}

TEST_CASE("the options help lists are the ones the parser knows", "[cli][help]")
{
    const auto options = help_options();
    CHECK(options.size() >= 20);
    for (const char* expected : {"--help", "-h", "--version", "--format", "-f", "--rules", "--rules-replace",
                                 "--libvirt-xml", "--baseline", "--audisp", "--no-progress"}) {
        CHECK(options.count(expected) == 1);
    }
}

TEST_CASE("the man page renders and lists every command and every --help option", "[cli][help][man]")
{
    const std::string page = rendered_man_page(man_source());
    CHECK(page.find("VIRTDENY(1)") != std::string::npos);
    for (const char* section : {"NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "EXIT STATUS",
                                "ENVIRONMENT", "FILES"}) {
        CHECK(page.find(std::string("\n") + section + "\n") != std::string::npos);
    }
    for (const char* command : k_commands) {
        INFO(command);
        CHECK(page.find(std::string("virtdeny ") + command) != std::string::npos);
    }
    for (const char* sub : {"rules list", "rules show", "rules validate", "rules schema"}) {
        CHECK(page.find(sub) != std::string::npos);
    }
    for (const std::string& option : help_options()) {
        INFO(option);
        const std::regex whole("(^|[^a-z-])" + option + "([^a-z-]|$)");
        CHECK(std::regex_search(page, whole));
    }
    CHECK(page.find("VIRTDENY_RULES") != std::string::npos);
    CHECK(page.find("/usr/share/virtdeny/rules") != std::string::npos);
}

TEST_CASE("the man page has no groff warnings", "[cli][help][man]")
{
    if (!test::require_tool("man", "man-db")) {
        return;
    }
    const auto r = test::run("LC_ALL=C man --warnings -l " + test::shell_quote(man_source()) + " >/dev/null");
    CHECK(r.status == 0);
    CHECK(r.err.empty());
}

TEST_CASE("the bash completion loads and completes commands, options and values", "[cli][help][completion]")
{
    const std::string file = completion("virtdeny.bash");
    REQUIRE(std::filesystem::exists(file));
    const auto syntax = test::run("bash -n " + test::shell_quote(file));
    INFO(syntax.err);
    CHECK(syntax.status == 0);
    const auto loaded = test::run("bash -c " + test::shell_quote("source " + test::shell_quote(file) + " && complete -p virtdeny"));
    CHECK(loaded.status == 0);
    CHECK(loaded.err.empty());
    CHECK(loaded.out.find("-F _virtdeny virtdeny") != std::string::npos);

    const std::string text = test::read_file(file);
    for (const std::string& option : help_options()) {
        INFO(option);
        CHECK(text.find(option) != std::string::npos);
    }
    CHECK(bash_complete("virtdeny ''") == "explain\nsuggest\nfollow\nreplay\nrules\nhelp\n");
    CHECK(bash_complete("virtdeny rules ''") == "list\nshow\nvalidate\nschema\n");
    CHECK(bash_complete("virtdeny --format json rules s") == "show\nschema\n");
    CHECK(bash_complete("virtdeny explain --format ''") == "text\njson\nmarkdown\n");
    CHECK(bash_complete("virtdeny explain --rules-r") == "--rules-replace\n");
    CHECK(bash_complete("virtdeny help re") == "replay\n");
}

TEST_CASE("the zsh completion declares every option", "[cli][help][completion]")
{
    const std::string file = completion("_virtdeny");
    REQUIRE(std::filesystem::exists(file));
    const std::string text = test::read_file(file);
    CHECK(text.rfind("#compdef virtdeny", 0) == 0);
    for (const std::string& option : help_options()) {
        INFO(option);
        CHECK(text.find(option) != std::string::npos);
    }
    if (test::require_tool("zsh", "zsh")) {
        const auto r = test::run("zsh -n " + test::shell_quote(file));
        INFO(r.err);
        CHECK(r.status == 0);
    }
}

// ---- virtdeny rules ----

namespace {

std::string rules_dir_with(const std::string& devices_yaml, const std::string& causes_yaml = {})
{
    const std::string dir = test::temp_dir();
    std::filesystem::create_directories(dir + "/devices");
    test::write_file(dir + "/devices/local.yaml", devices_yaml);
    if (!causes_yaml.empty()) {
        std::filesystem::create_directories(dir + "/causes");
        test::write_file(dir + "/causes/local.yaml", causes_yaml);
    }
    return dir;
}

} // namespace

TEST_CASE("rules list shows id, kind, device and description", "[cli][rules]")
{
    const auto r = test::virtdeny("rules list");
    CHECK(r.status == 0);
    CHECK(r.out.rfind("ID ", 0) == 0);
    CHECK(std::regex_search(r.out, std::regex(R"(\nvd-dev-memfd +device +memfd +QEMU)")));

    const auto json = test::virtdeny("rules list --format json");
    CHECK(json.status == 0);
    std::istringstream in(json.out);
    std::string line;
    bool memfd = false;
    while (std::getline(in, line)) {
        const auto j = nlohmann::json::parse(line);
        CHECK(j.contains("kind"));
        CHECK(j.contains("file"));
        if (j["id"] == "vd-dev-memfd") {
            memfd = true;
            CHECK(j["kind"] == "device");
            CHECK(j["device"] == "memfd");
            CHECK(j["line"].get<int>() > 1);
        }
    }
    CHECK(memfd);

    const std::string mine = rules_dir_with("- id: vd-dev-local-images\n  device: disk-image\n  desc: our SAN images\n"
                                            "  match: {path: '^/san/images/'}\n  samples: ['/san/images/a.qcow2']\n");
    const auto extra = test::virtdeny("rules list --rules " + test::shell_quote(mine));
    CHECK(extra.out.find("vd-dev-memfd") != std::string::npos);
    CHECK(extra.out.find("vd-dev-local-images") != std::string::npos);
    const auto only = test::virtdeny("rules list --rules-replace --rules " + test::shell_quote(mine));
    CHECK(only.out.find("vd-dev-memfd") == std::string::npos);
    CHECK(only.out.find("vd-dev-local-images") != std::string::npos);
    std::filesystem::remove_all(mine);
}

TEST_CASE("rules show prints the rule as written, with file and line", "[cli][rules]")
{
    const auto r = test::virtdeny("rules show vd-dev-memfd");
    CHECK(r.status == 0);
    CHECK(r.out.find("# device rule vd-dev-memfd") != std::string::npos);
    CHECK(std::regex_search(r.out, std::regex(R"(# .*/devices/devices\.yaml:[0-9]+\n)")));
    CHECK(r.out.find("id: vd-dev-memfd") != std::string::npos);
    CHECK(r.out.find("device: memfd") != std::string::npos);
    CHECK(r.out.find("samples:") != std::string::npos);

    const auto missing = test::virtdeny("rules show vd-no-such-rule");
    CHECK(missing.status == 2);
    CHECK(missing.err.find("no rule with id 'vd-no-such-rule'") != std::string::npos);
    CHECK(test::virtdeny("rules show").status == 2);
}

TEST_CASE("rules validate accepts good rules and locates bad ones", "[cli][rules]")
{
    const std::string good = rules_dir_with("- id: vd-dev-local-images\n  device: disk-image\n  desc: our SAN images\n"
                                            "  match: {path: '^/san/images/'}\n  samples: ['/san/images/a.qcow2']\n");
    const auto ok = test::virtdeny("rules validate --rules-replace " + test::shell_quote(good));
    INFO(ok.err);
    CHECK(ok.status == 0);
    CHECK(ok.out.find(": 1 device rules, 0 cause rules: ok") != std::string::npos);

    const std::string bad = rules_dir_with(
        "# local rules\n"
        "- id: vd-dev-good\n  device: disk-image\n  match: {path: '^/san/'}\n  samples: ['/san/a.img']\n"
        "- id: vd-dev-wrong-sample\n  device: disk-image\n  match: {path: '^/nas/'}\n  samples: ['/elsewhere/a.img']\n"
        "- id: vd-dev-bad-kind\n  device: floppy\n  match: {path: '^/fd/'}\n  samples: ['/fd/0']\n",
        "- id: vd-aa-local-bad\n  desc: a rule with a typo\n  match: {lsm: apparmor, pathh: '^/x/'}\n"
        "  explanation: x\n  samples: ['x']\n");
    const auto r = test::virtdeny("rules validate --rules-replace " + test::shell_quote(bad));
    CHECK(r.status == 1);
    INFO(r.err);
    CHECK(r.err.find(bad + "/devices/local.yaml:6: rule vd-dev-wrong-sample: sample '/elsewhere/a.img' does not match") !=
          std::string::npos);
    CHECK(r.err.find(bad + "/devices/local.yaml:10: rule vd-dev-bad-kind: unknown device kind 'floppy'") !=
          std::string::npos);
    CHECK(std::regex_search(r.err, std::regex(std::regex_replace(bad, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                                              R"(/causes/local\.yaml:[0-9]+: rule vd-aa-local-bad: .*pathh)")));
    CHECK(r.out.find("error(s)") != std::string::npos);

    // On top of the bundled rules (no --rules-replace), a local rule is checked in context.
    const auto stacked = test::virtdeny("rules validate " + test::shell_quote(good));
    CHECK(stacked.out.find(good + ": ") != std::string::npos);

    const std::string empty = test::temp_dir();
    const auto none = test::virtdeny("rules validate " + test::shell_quote(empty));
    CHECK(none.status == 1);
    CHECK(none.err.find("no rules here") != std::string::npos);

    CHECK(test::virtdeny("rules validate " + test::shell_quote(empty + "/absent")).status == 3);
    CHECK(test::virtdeny("rules validate").status == 2);
    for (const auto& d : {good, bad, empty}) {
        std::filesystem::remove_all(d);
    }
}

TEST_CASE("the bundled knowledge base validates: every sample is classified by its own rule", "[cli][rules]")
{
    const auto r = test::virtdeny("rules validate --rules-replace " + test::shell_quote(test::source_dir() + "/rules"));
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    CHECK(r.out.find(": ok") != std::string::npos);
}

TEST_CASE("rules schema prints JSON Schema, bad subcommands are usage errors", "[cli][rules]")
{
    const auto r = test::virtdeny("rules schema");
    CHECK(r.status == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j.contains("$schema"));
    CHECK(test::virtdeny("rules").status == 2);
    const auto bad = test::virtdeny("rules frob");
    CHECK(bad.status == 2);
    CHECK(bad.err.find("unknown subcommand 'frob'") != std::string::npos);
}
