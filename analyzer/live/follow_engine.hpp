// follow's pipeline, one line at a time: scanner -> event assembler (flushed by age on a
// timer) -> per denial a finding, correlated with the live VM registry and advised -> printed.
// JSON: one object per denial event with count = occurrences of its finding so far (plus the
// event's serial). Text: a new finding in full once, repeats summarised periodically.
#pragma once

#include <analyzer/correlate/domain_xml.hpp>
#include <analyzer/correlate/libvirt_events.hpp>
#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/emit/json_sink.hpp>
#include <analyzer/kb/knowledge_base.hpp>
#include <analyzer/kb/policy_query.hpp>
#include <analyzer/model/finding.hpp>
#include <analyzer/pipeline/intake.hpp>
#include <analyzer/pipeline/options.hpp>
#include <analyzer/util/diagnostics.hpp>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace virtdeny::live {

class FollowEngine
{
public:
    static constexpr std::int64_t k_flush_age_ms = 100;      // an open event is complete after this (auditd writes an event's records within microseconds)
    static constexpr int k_flush_tick_ms = 20;               // timer while events are open
    static constexpr std::int64_t k_summary_ms = 60000;      // text: repeats summarised this often
    static constexpr std::size_t k_max_keys = 1u << 16;      // findings counted at most

    // json: one JSON object per denial (--format json), else text.
    FollowEngine(pipeline::Options options, bool json, util::Diagnostics& diagnostics, std::FILE* out);

    // Loads the knowledge base and domain XML; false on a fatal problem (bad rules).
    bool setup();
    // SIGHUP: loads them again; keeps the old ones when the new rules do not load.
    void reload();

    void line(std::string_view line, std::string_view input_name);
    // Timer: completes events older than k_flush_age_ms; text summaries when due.
    void tick(std::int64_t now_ms);
    // End (SIGTERM or end of input): every open event, a last summary in text mode.
    void finish();
    // How long the caller may sleep before tick() is due, -1 for as long as it likes.
    int next_tick_ms(std::int64_t now_ms) const;

    // No event is open: every line given so far has been printed (after tick() flushed it).
    bool idle() const { return m_intake.assembler().open_count() == 0; }

    std::uint64_t events() const { return m_events; }
    std::uint64_t denials() const { return m_denials; }
    std::uint64_t overflow() const { return m_overflow; }
    // --connect: libvirt's lifecycle events (nullptr when --connect is off or not started yet).
    const correlate::LibvirtEvents* lifecycle() const { return m_lifecycle.get(); }

private:
    struct KeyState
    {
        std::uint64_t count = 0;
        std::uint64_t summarised = 0;  // count at the last text summary
        std::string title;             // one line for the summaries
        bool pending = false;
        bool advised = false;          // the advice below is cached (until a reload)
        std::string device;            // the device kind the advice settled on
        std::string device_via;        // and what decided it
        emit::SerializedMembers advice_json;  // (--format json) the explanation and fixes, serialised
    };

    void on_event(model::Event& event);
    void refresh_xml();
    // --connect: listens for domain lifecycle events (started, defined); once at setup, again
    // at most every k_connect_retry_ms after the connection failed or closed.
    void watch_lifecycle();
    void print_json(const model::Finding& f, const model::Event& event, const emit::SerializedMembers& advice_json);
    void print_text_new(const model::Finding& f);
    void print_summary(bool final_summary);

    const pipeline::Options m_options;
    const bool m_json;
    util::Diagnostics& m_diagnostics;
    std::FILE* m_out;
    std::unique_ptr<kb::KnowledgeBase> m_kb;
    std::unique_ptr<correlate::DomainXmlIndex> m_xml;
    std::unique_ptr<kb::PolicyQuery> m_policy;   // policy_file or the loaded policy (reloaded on SIGHUP)
    bool m_xml_stale = false;                    // a VIRT_* record since the XML was read
    std::int64_t m_last_connect_ms = 0;          // when libvirt was last asked for its domains
    static constexpr std::int64_t k_connect_retry_ms = 30000;
    std::unique_ptr<correlate::LibvirtEvents> m_lifecycle;
    std::int64_t m_lifecycle_started_ms = 0;
    correlate::VmRegistry m_registry;
    pipeline::Intake m_intake;
    std::uint64_t m_line_number = 0;
    std::unordered_map<std::string, KeyState> m_keys;
    std::vector<std::string> m_pending;  // keys with repeats since the last summary
    std::int64_t m_last_summary_ms = 0;
    std::uint64_t m_events = 0;
    std::uint64_t m_denials = 0;
    std::uint64_t m_overflow = 0;
};

} // namespace virtdeny::live
