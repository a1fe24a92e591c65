#include <analyzer/live/follow_engine.hpp>

#include <analyzer/aggregate/aggregator.hpp>
#include <analyzer/correlate/correlator.hpp>
#include <analyzer/correlate/libvirt_source.hpp>
#include <analyzer/emit/fix_text.hpp>
#include <analyzer/emit/json_sink.hpp>
#include <analyzer/kb/advisor.hpp>
#include <analyzer/pipeline/knowledge.hpp>
#include <analyzer/util/text.hpp>

#include <algorithm>
#include <optional>

namespace virtdeny::live {

namespace {

// "VM web01", "libvirt daemon" or "host", after "node hv02" on a collector (node= records).
std::string who(const model::Finding& f)
{
    const std::string node = f.node.empty() ? std::string() : "node " + f.node + " ";
    if (f.domain) {
        return node + "VM " + (f.domain->name.empty() ? f.domain->uuid : f.domain->name);
    }
    return node + (f.host_level ? std::string("libvirt daemon") : std::string("host"));
}

std::string object_of(const model::Finding& f)
{
    return !f.path.empty() ? f.path : (!f.tcontext.empty() ? f.tcontext : "-");
}

} // namespace

FollowEngine::FollowEngine(pipeline::Options options, bool json, util::Diagnostics& diagnostics, std::FILE* out)
    : m_options(std::move(options)),
      m_json(json),
      m_diagnostics(diagnostics),
      m_out(out),
      // A VM started or stopped (libvirt's VIRT_* records, added to the registry by the
      // intake): its domain XML under /run/libvirt/qemu is new or gone, so read the
      // --libvirt-xml directories again before the next denial is explained (at boot the
      // plugin starts before libvirtd has written any).
      m_intake(m_options, m_registry, [this](model::Event& event) { on_event(event); }, diagnostics,
               [this](const ingest::Record&) { m_xml_stale = true; })
{
    m_last_summary_ms = ingest::wall_clock_ms();
    m_last_connect_ms = m_last_summary_ms;  // setup() lists them first
}

void FollowEngine::refresh_xml()
{
    m_xml_stale = false;
    // asked each time: the auditd plugin starts at boot before libvirt's socket exists, and the
    // default (qemu:///system where that socket exists) must take effect once libvirt runs
    const bool connect = !correlate::resolve_connect(m_options.connect).uri.empty();
    if (m_options.libvirt_xml.empty() && !connect) {
        return;
    }
    auto xml = std::make_unique<correlate::DomainXmlIndex>();
    for (const auto& path : m_options.libvirt_xml) {
        std::vector<std::string> errors;  // said at start and on SIGHUP; quiet here
        xml->load(path, errors);
    }
    if (connect) {
        // libvirt's list again (bounded); when it fails, the domains it gave before stay
        m_last_connect_ms = ingest::wall_clock_ms();
        const std::string problem = correlate::load_from_libvirt(m_options.connect, *xml);
        if (!problem.empty()) {
            m_diagnostics.error(problem);
            if (m_xml) {
                for (const auto& dom : m_xml->domains()) {
                    if (dom.via == "libvirt-api" && !xml->by_uuid(dom.uuid)) {
                        xml->add(dom);
                    }
                }
            }
        }
    }
    m_xml = std::move(xml);
    for (auto& [key, state] : m_keys) {
        state.advised = false;  // a device may now be known by its XML
    }
}

bool FollowEngine::setup()
{
    // as explain loads them; SIGHUP loads them again (a new policy after semodule -i, too)
    auto kb = std::make_unique<kb::KnowledgeBase>();
    auto xml = std::make_unique<correlate::DomainXmlIndex>();
    std::unique_ptr<kb::PolicyQuery> policy;
    if (!pipeline::load_knowledge(m_options, m_diagnostics, *kb, *xml, policy)) {
        return false;
    }
    m_kb = std::move(kb);
    m_xml = std::move(xml);
    m_policy = std::move(policy);
    watch_lifecycle();
    return true;
}

void FollowEngine::watch_lifecycle()
{
    if (m_lifecycle && !m_lifecycle->ended()) {
        return;
    }
    const std::int64_t now = ingest::wall_clock_ms();
    m_lifecycle_started_ms = now;
    const std::string uri = correlate::resolve_connect(m_options.connect).uri;
    if (uri.empty()) {
        return;
    }
    if (m_lifecycle) {
        const std::string why = m_lifecycle->error();
        m_diagnostics.error("connect " + uri + ": " + (why.empty() ? std::string("lifecycle events ended") : why)
                            + "; trying again (VMs started meanwhile are listed on their VIRT_* records)");
    }
    m_lifecycle = std::make_unique<correlate::LibvirtEvents>();
    m_lifecycle->start(uri);
}

void FollowEngine::reload()
{
    auto old_kb = std::move(m_kb);
    auto old_xml = std::move(m_xml);
    auto old_policy = std::move(m_policy);
    if (!setup()) {
        m_diagnostics.error("reload failed: keeping the rules loaded before");
        m_kb = std::move(old_kb);
        m_xml = std::move(old_xml);
        m_policy = std::move(old_policy);
        return;
    }
    for (auto& [key, state] : m_keys) {
        state.advised = false;  // advise again with the new rules
    }
    std::fprintf(stderr, "virtdeny: rules and domain XML reloaded\n");
}

void FollowEngine::line(std::string_view line, std::string_view input_name)
{
    m_intake.scanner().scan_line(line, input_name, ++m_line_number, 0);
}

void FollowEngine::on_event(model::Event& event)
{
    ++m_events;
    // a domain started or was defined (libvirt's lifecycle event): list them again, once
    if (m_lifecycle && m_lifecycle->take_change()) {
        m_xml_stale = true;
    }
    if ((!m_lifecycle || m_lifecycle->ended()) && ingest::wall_clock_ms() - m_lifecycle_started_ms >= k_connect_retry_ms) {
        watch_lifecycle();  // not started yet (libvirt came up after follow) or ended: at most this often
    }
    if (m_xml_stale) {
        refresh_xml();
    }
    const correlate::DomainXmlIndex* xml = m_xml && !m_xml->domains().empty() ? m_xml.get() : nullptr;
    std::optional<correlate::Correlator> correlator(std::in_place, m_registry, xml);
    std::optional<kb::Advisor> advisor(std::in_place, *m_kb, xml, m_policy.get());
    for (const model::Denial& d : event.denials) {
        ++m_denials;
        model::Finding f = aggregate::Aggregator::make_finding(d, event);
        correlator->correlate(f);
        // a VM libvirt did not list last time (started since, no VIRT_* record read): ask again,
        // at most every k_connect_retry_ms, not per denial
        if (correlate::names_unknown_vm(f) && ingest::wall_clock_ms() - m_last_connect_ms >= k_connect_retry_ms
            && !correlate::resolve_connect(m_options.connect).uri.empty()) {
            refresh_xml();
            xml = m_xml && !m_xml->domains().empty() ? m_xml.get() : nullptr;
            correlator.emplace(m_registry, xml);
            advisor.emplace(*m_kb, xml, m_policy.get());
            f = aggregate::Aggregator::make_finding(d, event);
            correlator->correlate(f);
        }
        if (!pipeline::matches_domain(f, m_options.domain_filter)) {
            continue;
        }
        // the advice depends on what the final key holds, not on pids or times: once per finding
        const bool json = m_json;
        const auto keep_advice = [&](KeyState& s) {
            s.advised = true;
            s.device = f.device;
            s.device_via = f.device_via;
            if (json) {
                s.advice_json = emit::SerializedMembers::of(emit::finding_advice(f));
            }
        };
        std::string key = aggregate::final_key(f);
        auto it = m_keys.find(key);
        bool is_new = false;
        if (it == m_keys.end()) {
            advisor->advise(f);
            emit::write_fix_texts(f);
            if (m_keys.size() >= k_max_keys) {
                ++m_overflow;  // counted, printed, not remembered
                f.count = 1;
                if (json) {
                    print_json(f, event, emit::SerializedMembers::of(emit::finding_advice(f)));
                } else {
                    print_text_new(f);
                }
                continue;
            }
            it = m_keys.emplace(std::move(key), KeyState{}).first;
            is_new = true;
            KeyState& s = it->second;
            s.title = who(f) + ": " + model::to_string(f.mac) + " " + f.tclass + " {" + util::join(f.permissions, " ") +
                      "} on " + object_of(f) + " [" + f.device + "]";
            keep_advice(s);
        } else if (json) {
            KeyState& s = it->second;
            if (s.advised) {
                f.device = s.device;  // (explanation and fixes: in s.advice_json)
                f.device_via = s.device_via;
            } else {
                advisor->advise(f);
                emit::write_fix_texts(f);
            emit::write_fix_texts(f);
                keep_advice(s);
            }
        }
        // (text: a repeat is only counted)
        KeyState& state = it->second;
        f.count = ++state.count;
        if (json) {
            print_json(f, event, state.advice_json);
        } else if (is_new) {
            state.summarised = state.count;
            print_text_new(f);
        } else if (!state.pending) {
            state.pending = true;
            m_pending.push_back(it->first);
        }
    }
}

void FollowEngine::print_json(const model::Finding& f, const model::Event& event,
                              const emit::SerializedMembers& advice_json)
{
    // the finding's record (its advice serialised once per finding), then the event's serial
    emit::Json tail = emit::Json::object();
    if (event.serial != 0) {
        tail["serial"] = event.serial;
    } else {
        tail["serial"] = nullptr;
    }
    std::string line = emit::serialize(emit::finding_facts(f), advice_json, tail);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), m_out);
}

void FollowEngine::print_text_new(const model::Finding& f)
{
    std::fprintf(m_out, "%s %s %s %s %s {%s} on %s  [%s]%s\n", util::iso8601_utc(f.first_seen_ms).c_str(),
                 f.enforced ? "DENIED " : "ALLOWED", util::printable(who(f)).c_str(), model::to_string(f.mac),
                 util::printable(f.tclass).c_str(), util::printable(util::join(f.permissions, " ")).c_str(),
                 util::printable(object_of(f)).c_str(), f.device.c_str(), f.enforced ? "" : " (not enforced)");
    std::string pids;
    for (auto p : f.pids) {
        pids += (pids.empty() ? "" : ",") + std::to_string(p);
    }
    std::fprintf(m_out, "    subject: %s  process: %s%s%s%s\n", util::printable(f.subject).c_str(),
                 util::printable(f.comm.empty() ? "-" : f.comm).c_str(), f.exe.empty() ? "" : " ",
                 util::printable(f.exe).c_str(), pids.empty() ? "" : (" pid " + pids).c_str());
    if (f.domain && !f.domain->via.empty()) {
        std::fprintf(m_out, "    vm: %s (%s, via %s)\n", util::printable(f.domain->name).c_str(),
                     util::printable(f.domain->uuid).c_str(), f.domain->via.c_str());
    }
    std::fprintf(m_out, "    why: %s\n", util::printable(f.explanation).c_str());
    for (const auto& fix : f.fixes) {
        std::fprintf(m_out, "    fix [%s, %s]: %s\n", fix.kind.c_str(), model::to_string(fix.scope),
                     util::printable(fix.text).c_str());
        if (!fix.note.empty()) {
            std::fprintf(m_out, "        %s\n", util::printable(fix.note).c_str());
        }
    }
}

void FollowEngine::print_summary(bool final_summary)
{
    if (!m_pending.empty()) {
        std::fprintf(m_out, "-- repeated since %s:\n", util::iso8601_utc(m_last_summary_ms).c_str());
        for (const auto& key : m_pending) {
            auto it = m_keys.find(key);
            if (it == m_keys.end()) {
                continue;
            }
            KeyState& s = it->second;
            std::fprintf(m_out, "   +%llu (%llu in all) %s\n", static_cast<unsigned long long>(s.count - s.summarised),
                         static_cast<unsigned long long>(s.count), util::printable(s.title).c_str());
            s.summarised = s.count;
            s.pending = false;
        }
        m_pending.clear();
    }
    if (final_summary) {
        std::fprintf(m_out, "-- %llu denials in %llu events, %zu findings%s\n",
                     static_cast<unsigned long long>(m_denials), static_cast<unsigned long long>(m_events),
                     m_keys.size(),
                     m_overflow > 0 ? (", " + std::to_string(m_overflow) + " over the findings limit").c_str() : "");
    }
}

void FollowEngine::tick(std::int64_t now_ms)
{
    if (m_intake.assembler().open_count() > 0) {
        m_intake.assembler().flush_older_than(now_ms, k_flush_age_ms);
    }
    if (!m_json && now_ms - m_last_summary_ms >= k_summary_ms) {
        print_summary(false);
        m_last_summary_ms = now_ms;
    }
    std::fflush(m_out);
}

int FollowEngine::next_tick_ms(std::int64_t now_ms) const
{
    int wait = -1;
    if (m_intake.assembler().open_count() > 0) {
        wait = k_flush_tick_ms;
    }
    if (!m_json && !m_pending.empty()) {
        const std::int64_t due = std::max<std::int64_t>(0, m_last_summary_ms + k_summary_ms - now_ms);
        const int d = static_cast<int>(std::min<std::int64_t>(due, 1 << 30));
        wait = wait < 0 ? d : std::min(wait, d);
    }
    return wait;
}

void FollowEngine::finish()
{
    m_intake.assembler().flush_all();
    if (!m_json) {
        print_summary(true);
    }
    std::fflush(m_out);
}

} // namespace virtdeny::live
