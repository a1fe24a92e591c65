#include <analyzer/emit/text_sink.hpp>

#include <analyzer/util/text.hpp>
#include <analyzer/util/escape.hpp>

#include <algorithm>
#include <map>

namespace virtdeny::emit {

using util::printable;

namespace {

std::string group_title(const model::Finding& f)
{
    std::string title;
    if (f.domain) {
        title = "VM " + (f.domain->name.empty() ? "(name unknown)" : f.domain->name);
        if (!f.domain->uuid.empty()) {
            title += " " + f.domain->uuid;
        }
    } else if (f.host_level) {
        title = "libvirt daemons (host)";
    } else {
        title = "not tied to a VM";
    }
    if (!f.node.empty()) {
        title = "node " + f.node + ": " + title;
    }
    return title;
}

} // namespace

std::vector<FindingGroup> group_findings(const std::vector<model::Finding>& findings)
{
    // one group per VM, whichever signals named it: "[via apparmor-profile, virt-pid]"
    std::vector<FindingGroup> groups;
    std::vector<std::vector<std::string>> vias;
    std::map<std::string, std::size_t> index;
    for (const auto& f : findings) {
        const std::string title = group_title(f);
        auto it = index.find(title);
        if (it == index.end()) {
            it = index.emplace(title, groups.size()).first;
            groups.push_back(FindingGroup{title, 0, {}});
            vias.emplace_back();
        }
        groups[it->second].count += f.count;
        groups[it->second].findings.push_back(&f);
        auto& v = vias[it->second];
        if (f.domain && std::find(v.begin(), v.end(), f.domain->via) == v.end()) {
            v.push_back(f.domain->via);
        }
    }
    for (std::size_t i = 0; i < groups.size(); ++i) {
        if (!vias[i].empty()) {
            groups[i].title += " [via " + util::join(vias[i], ", ") + "]";
        }
    }
    for (auto& g : groups) {
        std::stable_sort(g.findings.begin(), g.findings.end(),
                         [](const model::Finding* a, const model::Finding* b) { return a->count > b->count; });
    }
    std::stable_sort(groups.begin(), groups.end(),
                     [](const FindingGroup& a, const FindingGroup& b) { return a.count > b.count; });
    return groups;
}

std::string TextSink::style(const char* code, const std::string& s) const
{
    if (!m_colour) {
        return s;
    }
    return std::string("\x1b[") + code + "m" + s + "\x1b[0m";
}

void TextSink::end(const RunStats& stats)
{
    const auto groups = group_findings(m_findings);
    for (const auto& g : groups) {
        std::fprintf(m_out, "%s  (%llu denials)\n", style("1", printable(g.title)).c_str(),
                     static_cast<unsigned long long>(g.count));
        for (const model::Finding* f : g.findings) {
            const std::string object = !f->path.empty() ? f->path : (!f->tcontext.empty() ? f->tcontext : "-");
            std::fprintf(m_out, "  %s %s %s {%s} on %s  [%s] x%llu%s\n",
                         style(f->enforced ? "31" : "33", f->enforced ? "DENIED " : "ALLOWED").c_str(),
                         model::to_string(f->mac), printable(f->tclass).c_str(),
                         printable(util::join(f->permissions, " ")).c_str(), printable(object).c_str(),
                         printable(f->device).c_str(),
                         static_cast<unsigned long long>(f->count),
                         f->enforced ? "" : " (not enforced)");
            std::fprintf(m_out, "    subject: %s  process: %s%s%s\n", printable(f->subject).c_str(),
                         printable(f->comm.empty() ? "-" : f->comm).c_str(), f->exe.empty() ? "" : " ",
                         printable(f->exe).c_str());
            std::fprintf(m_out, "    seen: %s .. %s\n", util::iso8601_utc(f->first_seen_ms).c_str(),
                         util::iso8601_utc(f->last_seen_ms).c_str());
            std::fprintf(m_out, "    why: %s\n", printable(f->explanation).c_str());
            for (const auto& fix : f->fixes) {
                std::fprintf(m_out, "    fix [%s, %s]: %s\n", printable(fix.kind).c_str(), model::to_string(fix.scope),
                             style("32", printable(fix.text)).c_str());
                if (!fix.note.empty()) {
                    std::fprintf(m_out, "        %s\n", printable(fix.note).c_str());
                }
            }
        }
        std::fputc('\n', m_out);
    }
    std::fprintf(m_out,
                 "%llu findings from %llu denials (%llu not enforced) in %llu lines; %llu malformed lines",
                 static_cast<unsigned long long>(stats.findings), static_cast<unsigned long long>(stats.denials),
                 static_cast<unsigned long long>(stats.not_enforced), static_cast<unsigned long long>(stats.lines),
                 static_cast<unsigned long long>(stats.malformed_lines));
    if (stats.overflow > 0) {
        std::fprintf(m_out, "; %llu denials over the findings limit were counted but not grouped",
                     static_cast<unsigned long long>(stats.overflow));
    }
    std::fputc('\n', m_out);
    std::fflush(m_out);
}

void MarkdownSink::end(const RunStats& stats)
{
    std::fprintf(m_out, "## virtdeny: %llu findings from %llu denials\n\n",
                 static_cast<unsigned long long>(stats.findings), static_cast<unsigned long long>(stats.denials));
    for (const auto& g : group_findings(m_findings)) {
        std::fprintf(m_out, "### %s (%llu denials)\n\n", util::markdown_cell(g.title).c_str(), static_cast<unsigned long long>(g.count));
        std::fprintf(m_out, "| count | mac | class | permissions | object | device | enforced |\n");
        std::fprintf(m_out, "|---:|---|---|---|---|---|---|\n");
        for (const model::Finding* f : g.findings) {
            const std::string object = !f->path.empty() ? f->path : f->tcontext;
            std::fprintf(m_out, "| %llu | %s | %s | %s | `%s` | %s | %s |\n", static_cast<unsigned long long>(f->count),
                         model::to_string(f->mac), util::markdown_cell(f->tclass).c_str(), util::markdown_cell(util::join(f->permissions, " ")).c_str(),
                         util::markdown_cell(object).c_str(), f->device.c_str(), f->enforced ? "yes" : "no");
        }
        std::fputc('\n', m_out);
        for (const model::Finding* f : g.findings) {
            std::fprintf(m_out, "- **%s**: %s\n", util::markdown_cell(f->path.empty() ? f->tclass : f->path).c_str(),
                         util::markdown_cell(f->explanation).c_str());
            for (const auto& fix : f->fixes) {
                std::fprintf(m_out, "  - %s (%s): `%s`\n", fix.kind.c_str(), model::to_string(fix.scope),
                             util::markdown_cell(fix.text).c_str());
            }
        }
        std::fputc('\n', m_out);
    }
    if (stats.malformed_lines > 0) {
        std::fprintf(m_out, "_%llu malformed lines were skipped._\n", static_cast<unsigned long long>(stats.malformed_lines));
    }
    std::fflush(m_out);
}

} // namespace virtdeny::emit
