// Conformance with libapparmor's own log-parser test suite
// (tests/corpus/data/apparmor/test_multi, SOURCES.md there: NAME.in is a log line, NAME.out what libapparmor's
// aa_log_record parser returns). Every DENIED / ALLOWED case must parse to the same fields;
// every other case (STATUS, AUDIT, HINT, INVALID) must not become a denial.
#include "../support.hpp"

#include <analyzer/ingest/denial_parser.hpp>
#include <analyzer/ingest/record_parser.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

namespace fs = std::filesystem;
using namespace virtdeny;

namespace {

// Cases left out of the field comparison, each with the reason.
const std::map<std::string, std::string> k_excluded = {
    {"ptrace_garbage_lp1689667_2",
     "kernel bug LP#1689667 logged kernel memory as target=; libapparmor rejects the whole record, "
     "virtdeny keeps the denial (operation, profile, comm are intact) and escapes the garbage bytes"},
    {"testcase_dbus_09",
     "the test input wraps one record over two lines (the second starts with spaces); audit logs hold "
     "one record per line and virtdeny reads them so"},
};

std::map<std::string, std::string> read_expected(const std::string& path)
{
    std::map<std::string, std::string> out;
    std::istringstream in(test::read_file(path));
    std::string line;
    while (std::getline(in, line)) {
        const auto colon = line.find(": ");
        if (colon != std::string::npos) {
            out[line.substr(0, colon)] = line.substr(colon + 2);
        } else if (!line.empty() && line.back() == ':') {
            out[line.substr(0, line.size() - 1)] = "";
        }
    }
    return out;
}

std::string protocol_name(const std::string& p)
{
    if (p == "0") {
        return "ip";
    }
    if (p == "6") {
        return "tcp";
    }
    if (p == "17") {
        return "udp";
    }
    if (p == "1") {
        return "icmp";
    }
    if (!p.empty() && std::isdigit(static_cast<unsigned char>(p[0]))) {
        return "unknown(" + p + ")";
    }
    return p;
}

struct Parsed
{
    bool found = false;   // a record of a denial type was found
    ingest::DenialParse result = ingest::DenialParse::not_denial;
    model::Denial denial;
};

Parsed parse_case(const std::string& text)
{
    Parsed p;
    ingest::RecordParser parser;
    parser.set_default_year(2020);
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (parser.parse(line) != ingest::LineKind::records) {
            continue;
        }
        for (int i = 0; i < parser.record_count(); ++i) {
            const auto& r = parser.record(i);
            if (!ingest::is_denial_type(r.type)) {
                continue;
            }
            model::Denial d;
            std::string reason;
            auto result = ingest::parse_denial(r, d, reason);
            if (!p.found || result == ingest::DenialParse::denial) {
                p.found = true;
                p.result = result;
                p.denial = d;
            }
        }
    }
    return p;
}

std::string audit_id(const model::Denial& d)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%lld.%03lld:%llu", static_cast<long long>(d.time_ms / 1000),
                  static_cast<long long>(d.time_ms % 1000), static_cast<unsigned long long>(d.serial));
    return buf;
}

// Compares the fields virtdeny models; returns the differences.
std::vector<std::string> compare(const std::map<std::string, std::string>& exp, const model::Denial& d)
{
    std::vector<std::string> diffs;
    auto check = [&](const char* label, const std::string& actual) {
        auto it = exp.find(label);
        if (it != exp.end() && it->second != actual) {
            diffs.push_back(std::string(label) + ": expected '" + it->second + "' got '" + actual + "'");
        }
    };
    auto opt = [](const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : std::string(); };
    check("Operation", d.operation);
    check("Mask", d.requested_mask);
    check("Denied Mask", d.denied_mask);
    check("fsuid", opt(d.fsuid));
    check("ouid", opt(d.ouid));
    check("Profile", d.profile);
    check("Name", d.operation == "capable" && d.name.empty() ? d.capname : d.name);
    check("Name2", d.name2);
    check("Command", d.comm);
    check("Network family", d.family);
    check("Socket type", d.sock_type);
    check("Protocol", protocol_name(d.protocol));
    check("Info", d.info);
    check("ErrorCode", d.error ? std::to_string(std::abs(*d.error)) : std::string());
    check("Signal", d.signal);
    check("Peer", d.peer);
    check("Peer profile", d.peer);
    check("PID", d.pid >= 0 ? std::to_string(d.pid) : std::string());
    check("Parent", d.parent ? std::to_string(*d.parent) : std::string());
    check("DBus bus", d.bus);
    check("DBus path", d.dbus_path);
    check("DBus interface", d.interface);
    check("DBus member", d.member);
    if (exp.count("Audit ID") && d.has_stamp) {
        check("Audit ID", audit_id(d));
    }
    return diffs;
}

} // namespace

TEST_CASE("libapparmor test_multi: denials and allowed records parse to libapparmor's fields", "[corpus][apparmor]")
{
    const fs::path dir = fs::path(test::corpus_dir()) / "apparmor/test_multi";
    std::vector<fs::path> inputs;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() == ".in") {
            inputs.push_back(e.path());
        }
    }
    std::sort(inputs.begin(), inputs.end());
    REQUIRE(inputs.size() >= 170);

    int denial_cases = 0;
    int denial_pass = 0;
    int other_cases = 0;
    int other_pass = 0;
    int excluded = 0;
    std::vector<std::string> failures;
    for (const auto& in : inputs) {
        const std::string name = in.stem().string();
        const auto expected = read_expected((dir / (name + ".out")).string());
        const std::string type = expected.count("Event type") ? expected.at("Event type") : "";
        const bool is_denial = type == "AA_RECORD_DENIED" || type == "AA_RECORD_ALLOWED";
        if (k_excluded.count(name)) {
            ++excluded;
            continue;
        }
        const Parsed p = parse_case(test::read_file(in.string()));
        if (!is_denial) {
            ++other_cases;
            if (p.result != ingest::DenialParse::denial) {
                ++other_pass;
            } else {
                failures.push_back(name + ": " + type + " parsed as a denial");
            }
            continue;
        }
        ++denial_cases;
        if (!p.found || p.result != ingest::DenialParse::denial) {
            failures.push_back(name + ": " + type + " not parsed as a denial");
            continue;
        }
        const bool allowed = type == "AA_RECORD_ALLOWED";
        std::vector<std::string> diffs = compare(expected, p.denial);
        if (p.denial.enforced == allowed) {
            diffs.push_back(std::string("enforced flag wrong for ") + type);
        }
        if (diffs.empty()) {
            ++denial_pass;
        } else {
            for (const auto& d : diffs) {
                failures.push_back(name + ": " + d);
            }
        }
    }
    std::printf("libapparmor test_multi: %d/%d denial/allowed cases match, %d/%d other cases not denials, %d excluded\n",
                denial_pass, denial_cases, other_pass, other_cases, excluded);
    for (const auto& f : failures) {
        UNSCOPED_INFO(f);
    }
    CHECK(failures.empty());
    CHECK(denial_pass == denial_cases);
    CHECK(denial_cases >= 140);
}
