// Records -> events by (node, stamp): msg=audit(TIME:SERIAL) names one event, so a serial
// that comes back with another time (auditd or the host restarted, several boots in one
// log) is another event. A denial opens an event; its SYSCALL, CWD, PATH, AVC_PATH and
// PROCTITLE records join it whether they come after it (modern kernels), before it (old
// kernels), or interleaved with other events. An event is complete at EOE, or when enough
// later records have gone by, or at the end of input.
//
// Memory is bounded whatever the input: events that never see their EOE are completed by
// age (records since their last one; wall time in follow mode), by count (open events at
// most), by size (bytes held by all open events) and by length (denials in one event);
// nothing is dropped, such events are only completed early.
#pragma once

#include <analyzer/ingest/record.hpp>
#include <analyzer/model/event.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace virtdeny::ingest {

class EventAssembler
{
public:
    using EventHandler = std::function<void(model::Event&)>;

    static constexpr std::size_t k_ring_size = 16;        // siblings kept in case their denial follows
    static constexpr std::uint64_t k_window = 256;        // records after which an open event is complete
    static constexpr std::size_t k_max_open = 4096;       // open events at most (oldest flushed first)
    static constexpr std::size_t k_max_denials = 256;     // denials in one event (then it is complete)
    static constexpr std::size_t k_max_open_bytes = 32u << 20;  // bytes held by open events, about

    struct Limits
    {
        std::uint64_t window = k_window;
        std::size_t max_open = k_max_open;
        std::size_t max_denials = k_max_denials;
        std::size_t max_open_bytes = k_max_open_bytes;
    };

    // Why open events were completed without their EOE (for tests and diagnostics).
    struct Stats
    {
        std::uint64_t by_age = 0;      // the window of records went by
        std::uint64_t by_count = 0;    // too many open events
        std::uint64_t by_size = 0;     // open events held too many bytes
        std::uint64_t by_length = 0;   // one event had max_denials denials
    };

    explicit EventAssembler(EventHandler handler) : EventAssembler(std::move(handler), Limits{}) {}
    EventAssembler(EventHandler handler, Limits limits);

    void add_denial(const Record& record, model::Denial&& denial);
    // opens: a sibling that opens an event of its own when none is open (an EXECVE that starts
    // QEMU: the event, without denials, tells which VM that pid runs).
    void add_sibling(const Record& record, bool opens = false);
    // While on, a sibling that joins no open event is kept as a view of its line, not copied
    // (most SYSCALL/PATH/PROCTITLE lines never meet a denial): only for a caller whose lines
    // stay valid until it calls pin(), which copies what is still kept (Scanner::scan_region,
    // over a buffer it holds for the whole call).
    void defer_copies(bool on) { m_defer = on; }
    void pin();
    void end_of_event(const Record& record);
    // Counts a record that belongs to no open event (ages open events).
    void tick();
    // Flushes events whose last record is older than max_age_ms of wall time (follow mode).
    void flush_older_than(std::int64_t now_ms, std::int64_t max_age_ms);
    void flush_all();
    std::size_t open_count() const { return m_open.size(); }
    // Bytes held by the open events, as accounted against max_open_bytes.
    std::size_t open_bytes() const { return m_open_bytes; }
    const Stats& stats() const { return m_stats; }

    // Parallel scan support (see parallel_scan.hpp): where completed events go from now on,
    // whether two assemblers would behave the same from here on (open events, their age,
    // the ring of early siblings), and a fix-up applied to the events still open.
    void set_handler(EventHandler handler) { m_handler = std::move(handler); }
    bool same_state(const EventAssembler& other) const;
    void adjust_open(const std::function<void(model::Event&)>& fix);

private:
    struct Open
    {
        model::Event event;
        std::uint64_t last_record = 0;
        std::int64_t opened_wall_ms = 0;
        std::size_t bytes = 0;
    };
    struct RingEntry
    {
        std::string node;
        std::uint64_t serial = 0;
        std::int64_t time_ms = 0;
        RecordType type = RecordType::other;
        std::string body;        // owned copy (pinned)
        std::string_view view;   // the line itself, while copies are deferred (see defer_copies)
        bool deferred = false;
        bool used = false;

        std::string_view text() const { return deferred ? view : std::string_view(body); }
    };

    Open* find_open(const Record& record);
    Open& open_event(const Record& record);
    void charge(Open& open, std::size_t bytes);
    void expire();
    void enforce_size();
    void emit(std::size_t index);

    EventHandler m_handler;
    Limits m_limits;
    Stats m_stats;
    std::size_t m_open_bytes = 0;
    std::vector<Open> m_open;
    RingEntry m_ring[k_ring_size];
    std::size_t m_ring_next = 0;
    bool m_defer = false;
    std::uint64_t m_records = 0;
};

// Applies one sibling record body to an event (exposed for tests).
void apply_sibling(model::Event& event, RecordType type, std::string_view body);

// The argv of an EXECVE record body (a0=... a1=..., quoted, hex-encoded or ausearch -i's bare
// interpreted values), the arguments separated by NUL bytes; empty when there is none.
std::string execve_command_line(std::string_view body);
// QEMU's program: qemu-system-*, qemu-kvm, kvm (Debian's and Proxmox VE's /usr/bin/kvm).
bool is_qemu_program(std::string_view argv0);
// An EXECVE record whose a0 is QEMU's program.
bool execve_starts_qemu(std::string_view body);

// Current wall-clock time in epoch milliseconds.
std::int64_t wall_clock_ms();

} // namespace virtdeny::ingest
