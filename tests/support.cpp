#include "support.hpp"

#include <analyzer/util/escape.hpp>

#include <analyzer/cli/analysis.hpp>
#include <analyzer/kb/knowledge_base.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace virtdeny::test {

namespace fs = std::filesystem;

namespace {
// The tests never ask the libvirt of the machine they run on (--connect's default there):
// results must not depend on its VMs. A test that wants libvirt passes --connect; a developer
// may still set VIRTDENY_CONNECT before running them.
const bool k_no_default_connect = ::setenv("VIRTDENY_CONNECT", "none", 0) == 0;
} // namespace

std::string source_dir()
{
    return VIRTDENY_SOURCE_DIR;
}

std::string fixtures_dir()
{
    return source_dir() + "/fixtures";
}

std::string corpus_dir()
{
    return source_dir() + "/tests/corpus/data";
}

std::string binary()
{
    return VIRTDENY_BINARY;
}

std::string shell_quote(const std::string& s)
{
    return util::shell_quote(s);
}

std::string read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const std::string& path, const std::string& content)
{
    std::ofstream out(path, std::ios::binary);
    out << content;
}

void append_file(const std::string& path, const std::string& content)
{
    std::FILE* f = std::fopen(path.c_str(), "ab");
    const bool ok = f && std::fwrite(content.data(), 1, content.size(), f) == content.size();
    if ((f && std::fclose(f) != 0) || !ok) {
        throw std::runtime_error("cannot append to " + path);
    }
}

std::string temp_dir()
{
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/virtdeny-test-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    const char* dir = mkdtemp(buf.data());
    return dir ? std::string(dir) : std::string();
}

bool tools_required()
{
    const char* v = std::getenv("VIRTDENY_REQUIRE_TOOLS");
    return v && std::string(v) == "1";
}

bool require_present(bool present, const std::string& what)
{
    if (present) {
        return true;
    }
    if (tools_required()) {
        FAIL("missing: " << what << " (VIRTDENY_REQUIRE_TOOLS=1: scripts/deps --test installs it)");
    }
    WARN("SKIPPED: " << what << " (scripts/deps --test installs it; with VIRTDENY_REQUIRE_TOOLS=1 this fails)");
    return false;
}

bool require_tool(const std::string& name, const std::string& package)
{
    const bool found = run("command -v " + shell_quote(name) + " >/dev/null 2>&1").status == 0;
    return require_present(found, name + " is not installed (Debian package " + package + ")");
}

RunResult run(const std::string& command, const std::string& input)
{
    RunResult r;
    const std::string dir = temp_dir();
    const std::string in = dir + "/stdin";
    const std::string out = dir + "/stdout";
    const std::string err = dir + "/stderr";
    write_file(in, input);
    const std::string full = "(" + command + ") <" + shell_quote(in) + " >" + shell_quote(out) + " 2>" + shell_quote(err);
    const int status = std::system(full.c_str());
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_file(out);
    r.err = read_file(err);
    std::error_code ec;
    fs::remove_all(dir, ec);
    return r;
}

RunResult virtdeny(const std::string& args, const std::string& input)
{
    return run("NO_COLOR=1 " + shell_quote(binary()) + " " + args, input);
}

std::vector<model::Finding> explain_text(const std::string& log, const std::vector<std::string>& xml_dirs)
{
    const std::string dir = temp_dir();
    const std::string path = dir + "/input.log";
    write_file(path, log);
    cli::Config config;
    config.inputs = {path};
    config.libvirt_xml = xml_dirs;
    config.rules_dirs = {kb::default_rules_dir()};
    util::Diagnostics diagnostics(nullptr);
    cli::Analysis analysis(config, diagnostics);
    analysis.setup();
    auto result = analysis.run();
    std::error_code ec;
    fs::remove_all(dir, ec);
    return result.findings;
}

} // namespace virtdeny::test
