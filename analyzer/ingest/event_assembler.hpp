// Records -> events by (node, serial). A denial opens an event; its SYSCALL, CWD, PATH,
// AVC_PATH and PROCTITLE records join it whether they come after it (modern kernels),
// before it (old kernels), or interleaved with other events. An event is complete at
// EOE, or when enough later records have gone by, or at the end of input.
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

    explicit EventAssembler(EventHandler handler);

    void add_denial(const Record& record, model::Denial&& denial);
    void add_sibling(const Record& record);
    void end_of_event(const Record& record);
    // Counts a record that belongs to no open event (ages open events).
    void tick();
    // Flushes events whose last record is older than max_age_ms of wall time (follow mode).
    void flush_older_than(std::int64_t now_ms, std::int64_t max_age_ms);
    void flush_all();
    std::size_t open_count() const { return m_open.size(); }

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
    };
    struct RingEntry
    {
        std::string node;
        std::uint64_t serial = 0;
        RecordType type = RecordType::other;
        std::string body;
        bool used = false;
    };

    Open* find_open(std::string_view node, std::uint64_t serial);
    void expire();
    void emit(std::size_t index);

    EventHandler m_handler;
    std::vector<Open> m_open;
    RingEntry m_ring[k_ring_size];
    std::size_t m_ring_next = 0;
    std::uint64_t m_records = 0;
};

// Applies one sibling record body to an event (exposed for tests).
void apply_sibling(model::Event& event, RecordType type, std::string_view body);

// Current wall-clock time in epoch milliseconds.
std::int64_t wall_clock_ms();

} // namespace virtdeny::ingest
