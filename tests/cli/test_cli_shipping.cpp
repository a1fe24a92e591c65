// Issue 8, JSON Lines shipping: the field names docs/json.md promises are exactly those
// virtdeny prints (explain, replay, follow); the shipper configurations in dist/shipping/
// read only fields that exist in that real output and tail the files the systemd unit and
// the auditd plugin write; vector.toml is valid TOML; rsyslog-virtdeny.conf passes
// `rsyslogd -N1` and, run by a real rsyslogd on virtdeny's output, writes the documents and
// lines it promises.
#include "../support.hpp"
#include "../json_support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace virtdeny;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

bool have(const std::string& tool)
{
    return test::run("command -v " + tool + " >/dev/null 2>&1").status == 0;
}

// JSON values one after the other (omelasticsearch's template has no newline between them).
std::vector<json> json_values(const std::string& text)
{
    std::vector<json> out;
    std::istringstream in(text);
    while (in >> std::ws && in.peek() != EOF) {
        json j;
        in >> j;
        out.push_back(std::move(j));
    }
    return out;
}

// Every field path of an object: "domain.name", "fixes[].kind", "summary.findings".
void collect(const json& j, const std::string& prefix, std::set<std::string>& out)
{
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
        out.insert(path);
        if (it->is_object()) {
            collect(*it, path, out);
        } else if (it->is_array()) {
            for (const auto& e : *it) {
                if (e.is_object()) {
                    collect(e, path + "[]", out);
                }
            }
        }
    }
}

std::string fixture(const std::string& name)
{
    return test::shell_quote(test::fixtures_dir() + "/" + name + "/input.log");
}

// The real output of every command that prints JSON, over fixtures that have VMs,
// host-level findings (domain null), several nodes and permissive denials.
const std::vector<json>& real_output()
{
    static const std::vector<json> lines = [] {
        std::vector<json> all;
        auto add = [&all](const test::RunResult& r) {
            REQUIRE(r.status <= 1);
            for (auto& j : test::json_lines(r.out)) {
                all.push_back(std::move(j));
            }
        };
        const std::string inputs = fixture("fleet-audisp-remote") + " " + fixture("seed-003-libvirtd-profile") + " " +
                                   fixture("permissive") + " " + fixture("seed-001-memfd-tmp");
        add(test::virtdeny("explain --format json " + inputs));
        // a finding read from setroubleshoot's one-liner (from_summary)
        add(test::virtdeny("explain --format json " + fixture("paste-setroubleshoot")));
        add(test::virtdeny("follow --format json - ", test::read_file(test::fixtures_dir() + "/fleet-audisp-remote/input.log")));
        const std::string dir = test::temp_dir();
        const std::string base = test::shell_quote(dir + "/base.json");
        REQUIRE(test::virtdeny("replay --write-baseline " + base + " " + fixture("nfs-image")).status == 0);
        add(test::virtdeny("replay --format json --baseline " + base + " " + fixture("nfs-image") + " " + inputs));
        fs::remove_all(dir);
        return all;
    }();
    return lines;
}

std::set<std::string> real_fields()
{
    std::set<std::string> fields;
    for (const auto& j : real_output()) {
        collect(j, "", fields);
    }
    return fields;
}

// `a.b` exists with a non-null value in at least one object of the real output.
bool has_value(const std::string& dotted)
{
    for (const auto& j : real_output()) {
        const json* p = &j;
        std::istringstream parts(dotted);
        std::string part;
        bool ok = true;
        while (std::getline(parts, part, '.')) {
            if (!p->is_object() || !p->contains(part)) {
                ok = false;
                break;
            }
            p = &(*p)[part];
        }
        if (ok && !p->is_null()) {
            return true;
        }
    }
    return false;
}

std::string dist(const std::string& rel)
{
    return test::source_dir() + "/dist/" + rel;
}

// The fields of a VRL program (Vector remap source or condition): paths read, paths assigned.
void vrl_paths(std::string program, std::set<std::string>& read, std::set<std::string>& assigned)
{
    program = std::regex_replace(program, std::regex(R"(#[^\n]*)"), "");
    program = std::regex_replace(program, std::regex(R"("(\\.|[^"\\])*")"), "\"\"");
    const std::regex path(R"((^|[^A-Za-z0-9_!])\.([a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*))");
    const std::regex assignment(R"(^\s*\.([a-z_][a-z0-9_.]*)\s*=[^=])");
    std::istringstream in(program);
    std::string line;
    while (std::getline(in, line)) {
        std::smatch m;
        std::string rest = line;
        if (std::regex_search(line, m, assignment)) {
            assigned.insert(m[1]);
            rest = line.substr(static_cast<std::size_t>(m.position(0) + m.length(0)));
        }
        for (std::sregex_iterator it(rest.begin(), rest.end(), path), end; it != end; ++it) {
            read.insert((*it)[2]);
        }
    }
}

} // namespace

TEST_CASE("shipping: docs/json.md lists exactly the fields virtdeny prints", "[cli][shipping]")
{
    std::string doc = test::read_file(test::source_dir() + "/docs/json.md");
    const auto from = doc.find("## Finding fields");
    const auto to = doc.find("## Example");
    REQUIRE(from != std::string::npos);
    REQUIRE(to != std::string::npos);
    doc = doc.substr(from, to - from);  // the two field tables
    std::set<std::string> documented;
    const std::regex row(R"(\n\| `([a-z_\[\].]+)` \|)");
    for (std::sregex_iterator it(doc.begin(), doc.end(), row), end; it != end; ++it) {
        documented.insert((*it)[1]);
    }
    documented.insert("summary");
    const auto fields = real_fields();
    REQUIRE(fields.size() > 30);
    for (const auto& f : fields) {
        INFO("printed but not documented: " << f);
        CHECK(documented.count(f) == 1);
    }
    for (const auto& f : documented) {
        INFO("documented but never printed: " << f);
        CHECK(fields.count(f) == 1);
    }
}

TEST_CASE("shipping: the shippers tail the files that the follow unit and the auditd plugin write", "[cli][shipping]")
{
    const std::string unit = test::read_file(dist("systemd/virtdeny-follow.service"));
    std::smatch m;
    REQUIRE(std::regex_search(unit, m, std::regex(R"(StandardOutput=append:(\S+))")));
    const std::string follow_out = m[1];
    CHECK(unit.find("--format json") != std::string::npos);
    const std::string plugin = test::read_file(dist("libexec/virtdeny-audisp"));
    REQUIRE(std::regex_search(plugin, m, std::regex(R"(>>(/\S+\.jsonl))")));
    const std::string audisp_out = m[1];
    CHECK(plugin.find("--format json") != std::string::npos);
    for (const char* config : {"shipping/vector.toml", "shipping/rsyslog-virtdeny.conf"}) {
        INFO(config);
        const std::string text = test::read_file(dist(config));
        CHECK(text.find("\"" + follow_out + "\"") != std::string::npos);
        CHECK(text.find("\"" + audisp_out + "\"") != std::string::npos);
    }
}

TEST_CASE("shipping: vector.toml is valid TOML and reads only fields virtdeny prints", "[cli][shipping]")
{
    const std::string file = dist("shipping/vector.toml");
    const std::string text = test::read_file(file);
    if (have("python3") && test::run("python3 -c 'import tomllib'").status == 0) {
        const auto parsed = test::run(
            "python3 -c 'import json, sys, tomllib; print(json.dumps(tomllib.load(open(sys.argv[1], \"rb\"))))' " +
            test::shell_quote(file));
        INFO(parsed.err);
        REQUIRE(parsed.status == 0);
        const auto config = json::parse(parsed.out);
        // the pipeline is connected: every input names a source or transform
        std::set<std::string> names;
        for (const char* section : {"sources", "transforms"}) {
            for (auto it = config[section].begin(); it != config[section].end(); ++it) {
                names.insert(it.key());
            }
        }
        CHECK(config["sources"]["virtdeny"]["type"] == "file");
        for (const char* section : {"transforms", "sinks"}) {
            for (auto it = config[section].begin(); it != config[section].end(); ++it) {
                for (const auto& input : (*it)["inputs"]) {
                    INFO(it.key() << " <- " << input);
                    CHECK(names.count(input.get<std::string>()) == 1);
                }
            }
        }
        CHECK(config["sinks"].contains("loki"));
        CHECK(config["sinks"].contains("elasticsearch"));
    } else {
        test::require_present(false, "python3 with tomllib (3.11, Debian package python3) for the TOML parse");
    }

    std::set<std::string> read;
    std::set<std::string> assigned;
    const std::regex source(R"(source = '''([\s\S]*?)''')");
    const std::regex condition(R"(condition = '([^']*)')");
    int programs = 0;
    for (const auto* re : {&source, &condition}) {
        for (std::sregex_iterator it(text.begin(), text.end(), *re), end; it != end; ++it) {
            vrl_paths((*it)[1], read, assigned);
            ++programs;
        }
    }
    CHECK(programs >= 3);
    const std::regex templ(R"(\{\{ *([a-z_.]+) *\}\})");
    for (std::sregex_iterator it(text.begin(), text.end(), templ), end; it != end; ++it) {
        read.insert((*it)[1]);
    }
    std::smatch m;
    REQUIRE(std::regex_search(text, m, std::regex(R"re(id_key = "([a-z_]+)")re")));
    read.insert(m[1]);
    for (const char* expected : {"node", "mac", "device", "domain.name", "last_seen", "summary", "serial"}) {
        CHECK(read.count(expected) == 1);
    }
    for (const auto& field : read) {
        if (field == "message") {
            continue;  // Vector's own field: the line as read
        }
        INFO("vector.toml reads ." << field);
        CHECK((assigned.count(field) == 1 || has_value(field)));
    }
    for (const auto& field : assigned) {
        INFO("vector.toml sets ." << field << ": must not shadow a virtdeny field it does not mean");
        CHECK((!has_value(field) || field == "node"));
    }
}

TEST_CASE("shipping: rsyslog-virtdeny.conf passes rsyslogd -N1 and ships virtdeny's real output", "[cli][shipping]")
{
    const std::string file = dist("shipping/rsyslog-virtdeny.conf");
    const std::string text = test::read_file(file);
    // the fields it reads ($!a!b) exist in virtdeny's output
    std::set<std::string> read;
    const std::regex prop(R"(\$!([a-z_-]+(![a-z_-]+)*))");
    for (std::sregex_iterator it(text.begin(), text.end(), prop), end; it != end; ++it) {
        std::string f = (*it)[1];
        std::replace(f.begin(), f.end(), '!', '.');
        if (f != "all-json") {
            read.insert(f);
        }
    }
    CHECK(read.size() >= 8);
    for (const auto& f : read) {
        INFO("rsyslog-virtdeny.conf reads $!" << f);
        CHECK(has_value(f));
    }

    if (!test::require_tool("rsyslogd", "rsyslog")) {
        return;
    }
    const std::string dir = test::temp_dir();
    // as Debian's rsyslog.conf includes /etc/rsyslog.d/*.conf, after its global settings
    test::write_file(dir + "/main.conf", "global(workDirectory=\"" + dir + "\")\ninclude(file=\"" + file + "\")\n");
    const auto checked = test::run("rsyslogd -N1 -f " + test::shell_quote(dir + "/main.conf"));
    INFO(checked.out << checked.err);
    CHECK(checked.status == 0);
    CHECK((checked.out + checked.err).find("End of config validation run") != std::string::npos);

    // A live run: the same configuration with its inputs in dir and its two network actions
    // writing files instead (the templates, the parsing and the filter are the shipped ones).
    std::string local = text;
    local = std::regex_replace(local, std::regex("/var/log/virtdeny/"), dir + "/");
    local = std::regex_replace(local, std::regex(R"(action\(type="omelasticsearch"[^)]*\))"),
                               "action(type=\"omfile\" file=\"" + dir + "/documents.out\" template=\"virtdeny_document\")");
    local = std::regex_replace(local, std::regex(R"(action\(type="omfwd"[^)]*\))"),
                               "action(type=\"omfile\" file=\"" + dir + "/syslog.out\" template=\"virtdeny_line\")");
    REQUIRE(local.find("omelasticsearch\"\n") == std::string::npos);
    REQUIRE(local.find(dir + "/documents.out") != std::string::npos);
    REQUIRE(local.find(dir + "/syslog.out") != std::string::npos);
    test::write_file(dir + "/local.conf", local);
    test::write_file(dir + "/live.conf", "global(workDirectory=\"" + dir + "\")\ninclude(file=\"" + dir + "/local.conf\")\n");

    const std::string fleet = test::read_file(test::fixtures_dir() + "/fleet-audisp-remote/input.log");
    const auto follow = test::virtdeny("follow --format json -", fleet);
    const auto explain = test::virtdeny("explain --format json " + fixture("seed-003-libvirtd-profile"));
    test::write_file(dir + "/follow.jsonl", follow.out);
    test::write_file(dir + "/audisp.jsonl", explain.out + "not json: a stray line\n");
    const auto shipped_in = test::json_lines(follow.out);
    std::vector<json> findings = shipped_in;
    for (const auto& j : test::json_lines(explain.out)) {
        if (!j.contains("summary")) {
            findings.push_back(j);
        }
    }
    REQUIRE(shipped_in.size() == 5);

    const std::string pid = dir + "/rsyslogd.pid";
    // stops the rsyslogd this test started (by its pid file), whatever happens below
    struct Stop
    {
        std::string pid;
        ~Stop() { now(); }
        void now() const
        {
            if (fs::exists(pid)) {
                test::run("kill $(cat " + test::shell_quote(pid) + ")");
                // rsyslogd removes its pid file when it has shut down
                for (int i = 0; i < 50 && fs::exists(pid); ++i) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
                }
            }
        }
    } stop{pid};
    const auto started = test::run("rsyslogd -n -f " + test::shell_quote(dir + "/live.conf") + " -i " +
                                   test::shell_quote(pid) + " >" + test::shell_quote(dir + "/rsyslogd.log") + " 2>&1 &");
    CHECK(started.status == 0);
    std::vector<json> documents;
    std::string lines;
    for (int i = 0; i < 100; ++i) {  // up to 10 s
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        documents = fs::exists(dir + "/documents.out") ? json_values(test::read_file(dir + "/documents.out"))
                                                       : std::vector<json>{};
        if (documents.size() >= findings.size()) {
            break;
        }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    documents = fs::exists(dir + "/documents.out") ? json_values(test::read_file(dir + "/documents.out")) : documents;
    lines = fs::exists(dir + "/syslog.out") ? test::read_file(dir + "/syslog.out") : "";
    INFO(test::read_file(dir + "/rsyslogd.log"));

    // every finding once, as virtdeny wrote it; the summary and the stray line are not shipped
    CHECK(documents.size() == findings.size());
    for (const auto& f : findings) {
        CHECK(std::count(documents.begin(), documents.end(), f) == 1);
    }
    for (const auto& d : documents) {
        CHECK(!d.contains("summary"));
    }
    // one readable line per finding, fields from the JSON
    CHECK(lines.find(" virtdeny: node=hv02.lab.example.net vm=db02 mac=selinux device=disk-image class=file "
                     "object=/var/lib/libvirt/images/shared/db02-data.qcow2 count=2\n") != std::string::npos);
    CHECK(lines.find(" virtdeny: node=hv03.lab.example.net vm=ci-runner-7 mac=apparmor device=vfio class=file "
                     "object=/dev/vfio/42 count=1\n") != std::string::npos);
    CHECK(lines.find("vm= mac=apparmor device=network") != std::string::npos);  // libvirtd: no VM
    std::size_t n = 0;
    for (std::size_t p = lines.find(" virtdeny: node="); p != std::string::npos; p = lines.find(" virtdeny: node=", p + 1)) {
        ++n;
    }
    CHECK(n == findings.size());
    stop.now();
    fs::remove_all(dir);
}
