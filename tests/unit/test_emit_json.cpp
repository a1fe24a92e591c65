// The one JSON model (emit/json_sink): a record built once as a value and serialised in one
// place; follow's cached advice joined to a denial's facts gives exactly the text of the
// record serialised whole (explain's), terminal-safe escapes included.
#include <analyzer/emit/json_sink.hpp>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

using namespace virtdeny;

namespace {

model::Finding sample_finding()
{
    model::Finding f;
    f.mac = model::Mac::apparmor;
    f.enforced = true;
    f.domain = model::DomainRef{"web\xc2\x85" "01", "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "apparmor-profile"};
    f.subject = "libvirt-1b4e28ba-2fa1-11d2-883f-0016d3cca427";
    f.comm = "qemu-system-x86";
    f.pids = {4242, 4243};
    f.path = "/var/lib/libvirt/images/a\xe2\x80\xae" "b\x7f.qcow2";  // U+202E, DEL
    f.tclass = "file";
    f.permissions = {"read", "write"};
    f.operation = "open";
    f.device = "disk-image";
    f.count = 3;
    f.first_seen_ms = 1717403012512;
    f.last_seen_ms = 1717403013000;
    f.explanation = "The image is not in the VM's profile \xd8\x9c.";
    const auto fix = [](std::string kind, model::Scope scope, std::string text, std::string note) {
        model::Fix x;
        x.kind = std::move(kind);
        x.scope = scope;
        x.text = std::move(text);
        x.note = std::move(note);
        return x;
    };
    f.fixes.push_back(fix("apparmor-rule", model::Scope::domain, "\"/var/lib/x\" rwk,", "note \xc2\x9b"));
    f.fixes.push_back(fix("host-change", model::Scope::host, "chmod 0644 x", ""));
    return f;
}

} // namespace

TEST_CASE("json: a finding's record is its facts, then its advice, serialised once", "[emit][json]")
{
    const model::Finding f = sample_finding();
    const std::string line = emit::finding_json(f);
    CHECK(line.find('\n') == std::string::npos);
    const auto parsed = nlohmann::ordered_json::parse(line);
    std::vector<std::string> keys;
    for (auto it = parsed.begin(); it != parsed.end(); ++it) {
        keys.push_back(it.key());
    }
    CHECK(keys == std::vector<std::string>{"node", "mac", "enforced", "domain", "subject", "process", "object",
                                           "class", "permissions", "operation", "device", "device_via", "count", "first_seen",
                                           "last_seen", "explanation", "fixes"});
    // terminal-safe: C1, DEL and bidi controls escaped, the values unchanged once parsed
    CHECK(line.find("\\u0085") != std::string::npos);
    CHECK(line.find("\\u202e") != std::string::npos);
    CHECK(line.find("\\u007f") != std::string::npos);
    CHECK(line.find("\\u061c") != std::string::npos);
    CHECK(line.find("\\u009b") != std::string::npos);
    CHECK(line.find("\xc2\x85") == std::string::npos);
    CHECK(parsed["domain"]["name"] == "web\xc2\x85" "01");
}

TEST_CASE("json: follow's cached advice joined to the facts is the record serialised whole", "[emit][json]")
{
    model::Finding f = sample_finding();
    const auto advice = emit::SerializedMembers::of(emit::finding_advice(f));
    for (const bool with_serial : {true, false}) {
        emit::Json tail = emit::Json::object();
        if (with_serial) {
            tail["serial"] = std::uint64_t{18446744073709551615u};
        } else {
            tail["serial"] = nullptr;
        }
        emit::Json whole = emit::finding_record(f);
        whole["serial"] = tail["serial"];
        CHECK(emit::serialize(emit::finding_facts(f), advice, tail) == emit::serialize(whole));
    }
    // no fixes, an empty tail
    f.fixes.clear();
    const auto bare = emit::SerializedMembers::of(emit::finding_advice(f));
    CHECK(emit::serialize(emit::finding_facts(f), bare, emit::Json::object()) == emit::finding_json(f));
    // nothing cached (an empty object's members): the facts and the tail
    emit::Json facts_and_tail = emit::finding_facts(f);
    facts_and_tail["serial"] = 7;
    emit::Json tail = emit::Json::object();
    tail["serial"] = 7;
    CHECK(emit::serialize(emit::finding_facts(f), emit::SerializedMembers::of(emit::Json::object()), tail)
          == emit::serialize(facts_and_tail));
}
