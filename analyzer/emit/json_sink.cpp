#include <analyzer/emit/json_sink.hpp>

#include <analyzer/util/text.hpp>
#include <analyzer/util/escape.hpp>

#include <nlohmann/json.hpp>

namespace virtdeny::emit {

using nlohmann::ordered_json;

namespace {

// Text from the log: valid UTF-8 (invalid bytes escaped as \xNN), null when empty.
ordered_json text_or_null(const std::string& s)
{
    if (s.empty()) {
        return nullptr;
    }
    return util::sanitize_utf8(s);
}

ordered_json text(const std::string& s)
{
    return util::sanitize_utf8(s);
}

ordered_json text_array(const std::vector<std::string>& items)
{
    ordered_json out = ordered_json::array();
    for (const std::string& item : items) {
        out.push_back(text(item));
    }
    return out;
}

} // namespace

std::string serialize(const Json& record)
{
    return util::json_terminal_safe(record.dump());
}

SerializedMembers SerializedMembers::of(const Json& object)
{
    SerializedMembers m;
    std::string text = serialize(object);  // "{...}"
    if (text.size() > 2) {
        m.m_text = text.substr(1, text.size() - 2);
    }
    return m;
}

std::string serialize(const Json& head, const SerializedMembers& middle, const Json& tail)
{
    // an object is written "{" members joined by "," "}", and terminal_safe rewrites characters
    // inside strings only: the parts serialised apart and joined are the merged object's text
    std::string out = serialize(head);
    out.pop_back();  // "}"
    const auto append_members = [&out](const std::string& members) {
        if (members.empty()) {
            return;
        }
        if (out.size() > 1) {
            out.push_back(',');
        }
        out += members;
    };
    append_members(middle.m_text);
    append_members(SerializedMembers::of(tail).m_text);
    out.push_back('}');
    return out;
}

Json finding_record(const model::Finding& f)
{
    Json j = finding_facts(f);
    Json advice = finding_advice(f);
    for (auto it = advice.begin(); it != advice.end(); ++it) {
        j[it.key()] = std::move(it.value());
    }
    return j;
}

std::string finding_json(const model::Finding& f)
{
    return serialize(finding_record(f));
}

Json finding_facts(const model::Finding& f)
{
    ordered_json j;
    j["node"] = text_or_null(f.node);
    j["mac"] = model::to_string(f.mac);
    j["enforced"] = f.enforced;
    if (f.domain) {
        ordered_json d;
        d["name"] = text_or_null(f.domain->name);
        d["uuid"] = text_or_null(f.domain->uuid);
        d["via"] = f.domain->via;
        j["domain"] = d;
    } else {
        j["domain"] = nullptr;
    }
    j["subject"] = text(f.subject);
    ordered_json p;
    p["comm"] = text_or_null(f.comm);
    p["exe"] = text_or_null(f.exe);
    p["pids"] = f.pids;
    j["process"] = p;
    ordered_json o;
    o["path"] = text_or_null(f.path);
    o["tcontext"] = text_or_null(f.tcontext);
    j["object"] = o;
    j["class"] = text(f.tclass);
    ordered_json perms = ordered_json::array();
    for (const auto& perm : f.permissions) {
        perms.push_back(text(perm));
    }
    j["permissions"] = perms;
    j["operation"] = text_or_null(f.operation);
    j["device"] = f.device;
    j["device_via"] = text_or_null(f.device_via);
    j["count"] = f.count;
    j["first_seen"] = util::iso8601_utc(f.first_seen_ms);
    j["last_seen"] = util::iso8601_utc(f.last_seen_ms);
    if (!f.from_summary.empty()) {
        j["from_summary"] = f.from_summary;  // only on a finding read from another tool's summary
    }
    return j;
}

Json finding_advice(const model::Finding& f)
{
    ordered_json j;
    j["explanation"] = text(f.explanation);
    ordered_json fixes = ordered_json::array();
    for (const auto& fix : f.fixes) {
        ordered_json x;
        x["kind"] = fix.kind;
        x["scope"] = model::to_string(fix.scope);
        x["text"] = text(fix.text);
        x["note"] = text(fix.note);
        x["effect"] = model::to_string(fix.effect);
        ordered_json breadth;
        breadth["vms"] = model::to_string(fix.breadth.vms);
        breadth["subjects"] = text_array(fix.breadth.subjects);
        breadth["targets"] = text_array(fix.breadth.targets);
        breadth["permissions"] = text_array(fix.breadth.permissions);
        x["breadth"] = breadth;
        fixes.push_back(x);
    }
    j["fixes"] = fixes;
    return j;
}

Json summary_record(const RunStats& s)
{
    ordered_json sum;
    sum["findings"] = s.findings;
    sum["denials"] = s.denials;
    sum["not_enforced"] = s.not_enforced;
    sum["events"] = s.events;
    sum["domains"] = s.domains;
    sum["inputs"] = s.inputs;
    sum["lines"] = s.lines;
    sum["bytes"] = s.bytes;
    sum["malformed_lines"] = s.malformed_lines;
    sum["findings_overflow"] = s.overflow;
    ordered_json j;
    j["summary"] = sum;
    return j;
}

std::string summary_json(const RunStats& stats)
{
    return serialize(summary_record(stats));
}

void JsonSink::finding(const model::Finding& f)
{
    const std::string line = finding_json(f);
    std::fwrite(line.data(), 1, line.size(), m_out);
    std::fputc('\n', m_out);
}

void JsonSink::end(const RunStats& stats)
{
    const std::string line = summary_json(stats);
    std::fwrite(line.data(), 1, line.size(), m_out);
    std::fputc('\n', m_out);
    std::fflush(m_out);
}

} // namespace virtdeny::emit
