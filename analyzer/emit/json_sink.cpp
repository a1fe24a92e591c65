#include <analyzer/emit/json_sink.hpp>

#include <analyzer/util/text.hpp>

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

// The JSON text, also safe to print on a terminal: nlohmann writes the C0 controls as \u00XX
// but DEL, the C1 controls (U+0080..U+009F, which can start terminal sequences) and the
// bidirectional controls (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069, which
// reorder what a terminal shows) as they are; those become \u escapes too (the same JSON
// value). The text is valid UTF-8 here, so 0xC2, 0xD8 and 0xE2 bytes always start a character.
std::string terminal_safe(std::string json)
{
    if (json.find_first_of("\x7f\xc2\xd8\xe2") == std::string::npos) {
        return json;
    }
    static const char k_hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(json.size() + 16);
    const auto at = [&](std::size_t i) { return i < json.size() ? static_cast<unsigned char>(json[i]) : 0u; };
    for (std::size_t i = 0; i < json.size(); ++i) {
        const unsigned c = at(i);
        unsigned code = 0;
        std::size_t len = 1;
        if (c == 0x7f) {
            code = 0x7f;
        } else if (c == 0xc2 && at(i + 1) >= 0x80 && at(i + 1) < 0xa0) {
            code = at(i + 1);
            len = 2;
        } else if (c == 0xd8 && at(i + 1) == 0x9c) {
            code = 0x061c;
            len = 2;
        } else if (c == 0xe2 && ((at(i + 1) == 0x80 && (at(i + 2) == 0x8e || at(i + 2) == 0x8f
                                                        || (at(i + 2) >= 0xaa && at(i + 2) <= 0xae)))
                                 || (at(i + 1) == 0x81 && at(i + 2) >= 0xa6 && at(i + 2) <= 0xa9))) {
            code = 0x2000 | ((at(i + 1) & 0x3f) << 6) | (at(i + 2) & 0x3f);
            len = 3;
        } else {
            out.push_back(static_cast<char>(c));
            continue;
        }
        out += "\\u";
        for (int shift = 12; shift >= 0; shift -= 4) {
            out.push_back(k_hex[(code >> shift) & 0xf]);
        }
        i += len - 1;
    }
    return out;
}

} // namespace

std::string finding_json(const model::Finding& f)
{
    return join_objects(finding_facts_json(f), finding_advice_json(f));
}

std::string join_objects(const std::string& first, const std::string& second)
{
    // {"a":1} and {"b":2}: {"a":1,"b":2}
    if (first.size() < 2 || second.size() < 2) {
        return first.size() < 2 ? second : first;
    }
    std::string out;
    out.reserve(first.size() + second.size());
    out.append(first, 0, first.size() - 1);
    if (first.size() > 2 && second.size() > 2) {
        out.push_back(',');
    }
    out.append(second, 1, std::string::npos);
    return out;
}

std::string finding_facts_json(const model::Finding& f)
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
    j["count"] = f.count;
    j["first_seen"] = util::iso8601_utc(f.first_seen_ms);
    j["last_seen"] = util::iso8601_utc(f.last_seen_ms);
    return terminal_safe(j.dump());
}

std::string finding_advice_json(const model::Finding& f)
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
    return terminal_safe(j.dump());
}

std::string summary_json(const RunStats& s)
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
    return j.dump();
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
