#include <analyzer/ingest/event_assembler.hpp>

#include <analyzer/ingest/fields.hpp>
#include <analyzer/util/text.hpp>

#include <algorithm>
#include <chrono>

namespace virtdeny::ingest {

std::int64_t wall_clock_ms()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

EventAssembler::EventAssembler(EventHandler handler, Limits limits)
    : m_handler(std::move(handler)), m_limits(limits)
{
    m_limits.max_open = std::max<std::size_t>(1, m_limits.max_open);
    m_limits.max_denials = std::max<std::size_t>(1, m_limits.max_denials);
}

EventAssembler::Open* EventAssembler::find_open(const Record& record)
{
    // newest first: the matching event is almost always the most recent one. The time is
    // part of the event's name: a serial seen again with another time is another event.
    for (auto it = m_open.rbegin(); it != m_open.rend(); ++it) {
        if (it->event.serial == record.serial && it->event.time_ms == record.time_ms && it->event.node == record.node) {
            return &*it;
        }
    }
    return nullptr;
}

void apply_sibling(model::Event& event, RecordType type, std::string_view body)
{
    FieldScanner scanner(body);
    Field f;
    switch (type) {
    case RecordType::syscall:
        event.has_syscall = true;
        while (scanner.next(f)) {
            if (f.key == "arch") {
                event.arch = std::string(f.value);
            } else if (f.key == "syscall") {
                if (auto v = util::to_int(f.value)) {
                    event.syscall = *v;
                }
            } else if (f.key == "success") {
                event.success = f.value != "no";
            } else if (f.key == "pid") {
                if (auto v = util::to_int(f.value)) {
                    event.pid = *v;
                }
            } else if (f.key == "ppid") {
                if (auto v = util::to_int(f.value)) {
                    event.ppid = *v;
                }
            } else if (f.key == "comm") {
                event.comm = decode_value(f);
            } else if (f.key == "exe") {
                event.exe = decode_value(f);
            } else if (f.key == "subj") {
                event.subj = std::string(f.value);
            }
        }
        break;
    case RecordType::cwd:
        event.cwd = find_field(body, "cwd");
        break;
    case RecordType::path: {
        model::PathItem item;
        while (scanner.next(f)) {
            if (f.key == "name") {
                item.name = decode_value(f);
            } else if (f.key == "nametype") {
                item.nametype = std::string(f.value);
            } else if (f.key == "obj") {
                item.obj = std::string(f.value);
            }
        }
        if (event.paths.size() < 16) {
            event.paths.push_back(std::move(item));
        }
        break;
    }
    case RecordType::avc_path:
        event.avc_path = find_field(body, "path");
        break;
    case RecordType::proctitle: {
        std::string title = find_field(body, "proctitle");
        for (char& c : title) {
            if (c == '\0') {
                c = ' ';
            }
        }
        while (!title.empty() && title.back() == ' ') {
            title.pop_back();
        }
        event.proctitle = std::move(title);
        break;
    }
    default: break;
    }
}

namespace {

// What a record costs an open event, about: the record's own text bounds what its fields
// can hold once copied (hex values decode to half their size).
std::size_t record_cost(const Record& record)
{
    return record.body.size() + record.node.size() + 64;
}

} // namespace

void EventAssembler::charge(Open& open, std::size_t bytes)
{
    open.bytes += bytes;
    m_open_bytes += bytes;
}

EventAssembler::Open& EventAssembler::open_event(const Record& record)
{
    if (m_open.size() >= m_limits.max_open) {
        ++m_stats.by_count;
        emit(0);
    }
    m_open.emplace_back();
    Open& open = m_open.back();
    open.event.node = std::string(record.node);
    open.event.serial = record.serial;
    open.event.time_ms = record.time_ms;
    open.opened_wall_ms = wall_clock_ms();
    charge(open, sizeof(Open) + record.node.size());
    // siblings that came first (older kernels write SYSCALL before AVC), oldest first
    for (std::size_t k = 0; k < k_ring_size; ++k) {
        RingEntry& entry = m_ring[(m_ring_next + k) % k_ring_size];
        if (!entry.used && entry.serial == record.serial && entry.time_ms == record.time_ms
            && entry.node == record.node) {
            apply_sibling(open.event, entry.type, entry.text());
            charge(open, entry.text().size());
            entry.used = true;
        }
    }
    return open;
}

void EventAssembler::add_denial(const Record& record, model::Denial&& denial)
{
    ++m_records;
    if (!record.has_stamp) {
        // journald/syslog renderings without a serial: an event of its own
        model::Event ev;
        ev.node = denial.node;
        ev.time_ms = denial.time_ms;
        ev.denials.push_back(std::move(denial));
        m_handler(ev);
        return;
    }
    Open* open = find_open(record);
    if (open && open->event.denials.size() >= m_limits.max_denials) {
        // one stamp repeated without end (a forged or looping log): complete what is there
        // and go on in a new event of the same name
        ++m_stats.by_length;
        emit(static_cast<std::size_t>(open - m_open.data()));
        open = nullptr;
    }
    if (!open) {
        open = &open_event(record);
    }
    open->last_record = m_records;
    open->event.denials.push_back(std::move(denial));
    charge(*open, sizeof(model::Denial) + record_cost(record));
    expire();
    enforce_size();
}

void EventAssembler::add_sibling(const Record& record)
{
    ++m_records;
    if (Open* open = find_open(record)) {
        apply_sibling(open->event, record.type, record.body);
        open->last_record = m_records;
        charge(*open, record_cost(record));
    } else {
        RingEntry& entry = m_ring[m_ring_next];
        m_ring_next = (m_ring_next + 1) % k_ring_size;
        if (entry.node != record.node) {  // mostly empty on both sides: no string call
            entry.node.assign(record.node.data(), record.node.size());
        }
        entry.serial = record.serial;
        entry.time_ms = record.time_ms;
        entry.type = record.type;
        if (m_defer) {
            entry.view = record.body;
            entry.deferred = true;
        } else {
            entry.body.assign(record.body.data(), record.body.size());
            entry.deferred = false;
        }
        entry.used = false;
    }
    expire();
    enforce_size();
}

void EventAssembler::end_of_event(const Record& record)
{
    ++m_records;
    for (std::size_t i = 0; i < m_open.size(); ++i) {
        const model::Event& ev = m_open[i].event;
        if (ev.serial == record.serial && ev.time_ms == record.time_ms && ev.node == record.node) {
            emit(i);
            break;
        }
    }
    expire();
}

void EventAssembler::enforce_size()
{
    // oldest first, down to the budget; the event just added to may go too (it is then
    // complete with what it has)
    while (m_open_bytes > m_limits.max_open_bytes && !m_open.empty()) {
        ++m_stats.by_size;
        emit(0);
    }
}

void EventAssembler::tick()
{
    ++m_records;
    if (!m_open.empty() && m_records - m_open.front().last_record > m_limits.window) {
        expire();
    }
}

void EventAssembler::expire()
{
    std::size_t i = 0;
    while (i < m_open.size()) {
        if (m_records - m_open[i].last_record > m_limits.window) {
            ++m_stats.by_age;
            emit(i);
        } else {
            ++i;
        }
    }
}

void EventAssembler::flush_older_than(std::int64_t now_ms, std::int64_t max_age_ms)
{
    std::size_t i = 0;
    while (i < m_open.size()) {
        if (now_ms - m_open[i].opened_wall_ms >= max_age_ms) {
            emit(i);
        } else {
            ++i;
        }
    }
}

void EventAssembler::flush_all()
{
    while (!m_open.empty()) {
        emit(0);
    }
}

namespace {

bool same_event(const model::Event& a, const model::Event& b)
{
    if (a.node != b.node || a.serial != b.serial || a.time_ms != b.time_ms || a.denials.size() != b.denials.size()
        || a.has_syscall != b.has_syscall || a.arch != b.arch || a.syscall != b.syscall || a.pid != b.pid
        || a.ppid != b.ppid || a.comm != b.comm || a.exe != b.exe || a.subj != b.subj || a.success != b.success
        || a.cwd != b.cwd || a.avc_path != b.avc_path || a.proctitle != b.proctitle
        || a.paths.size() != b.paths.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.denials.size(); ++i) {
        // seq identifies the record (input and position): same record, same parse
        if (a.denials[i].seq != b.denials[i].seq) {
            return false;
        }
    }
    for (std::size_t i = 0; i < a.paths.size(); ++i) {
        if (a.paths[i].name != b.paths[i].name || a.paths[i].nametype != b.paths[i].nametype
            || a.paths[i].obj != b.paths[i].obj) {
            return false;
        }
    }
    return true;
}

} // namespace

bool EventAssembler::same_state(const EventAssembler& other) const
{
    if (m_open.size() != other.m_open.size()) {
        return false;
    }
    for (std::size_t i = 0; i < m_open.size(); ++i) {
        const Open& a = m_open[i];
        const Open& b = other.m_open[i];
        if (m_records - a.last_record != other.m_records - b.last_record || a.bytes != b.bytes
            || !same_event(a.event, b.event)) {
            return false;
        }
    }
    for (std::size_t k = 0; k < k_ring_size; ++k) {
        const RingEntry& a = m_ring[(m_ring_next + k) % k_ring_size];
        const RingEntry& b = other.m_ring[(other.m_ring_next + k) % k_ring_size];
        if (a.serial != b.serial || a.time_ms != b.time_ms || a.type != b.type || a.used != b.used || a.node != b.node
            || a.text() != b.text()) {
            return false;
        }
    }
    return true;
}

void EventAssembler::pin()
{
    for (RingEntry& entry : m_ring) {
        if (entry.deferred) {
            entry.body.assign(entry.view.data(), entry.view.size());
            entry.view = {};
            entry.deferred = false;
        }
    }
}

void EventAssembler::adjust_open(const std::function<void(model::Event&)>& fix)
{
    for (Open& open : m_open) {
        fix(open.event);
    }
}

void EventAssembler::emit(std::size_t index)
{
    Open done = std::move(m_open[index]);
    m_open.erase(m_open.begin() + static_cast<std::ptrdiff_t>(index));
    m_open_bytes -= std::min(m_open_bytes, done.bytes);
    m_handler(done.event);
}

} // namespace virtdeny::ingest
