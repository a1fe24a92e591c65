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
    case RecordType::execve:
        if (event.execve.empty()) {
            event.execve = execve_command_line(body);
        }
        break;
    default: break;
    }
}

namespace {

// Every space-separated token of an EXECVE body is one of its fields (argc=, aN=, aN_len=,
// aN[k]=): no interpreted value had a space in it.
bool execve_tokens_whole(std::string_view body)
{
    std::size_t pos = 0;
    while (pos < body.size()) {
        std::size_t end = body.find(' ', pos);
        if (end == std::string_view::npos) {
            end = body.size();
        }
        const std::string_view token = body.substr(pos, end - pos);
        pos = end + 1;
        if (token.empty()) {
            continue;
        }
        if (util::starts_with(token, "argc=")) {
            continue;
        }
        if (token.size() < 3 || token[0] != 'a' || !util::is_digit(token[1])) {
            return false;
        }
        std::size_t i = 1;
        while (i < token.size() && util::is_digit(token[i])) {
            ++i;
        }
        const std::string_view rest = token.substr(i);
        if (!(util::starts_with(rest, "=") || util::starts_with(rest, "_len=") || util::starts_with(rest, "["))) {
            return false;
        }
    }
    return true;
}

} // namespace

std::string execve_command_line(std::string_view body)
{
    // a0..aN in order; the kernel writes each "quoted" or hex-encoded (a value with a space,
    // a quote or a control character), ausearch -i writes them bare and interpreted: a bare
    // value that is not hex says which. Arguments split in pieces (aN_len=, aN[0]=...) are
    // left out: QEMU's -name, -uuid and -id are short.
    struct Arg
    {
        std::size_t index;
        Field field;
    };
    std::vector<Arg> args;
    bool interpreted = false;
    FieldScanner scanner(body);
    Field f;
    while (scanner.next(f) && args.size() < 4096) {
        if (f.key.size() < 2 || f.key[0] != 'a') {
            continue;
        }
        std::string_view digits = f.key.substr(1);
        auto n = util::parse_uint(digits);
        if (!n || !digits.empty() || *n > 100000) {
            continue;  // a1_len=, a1[0]=
        }
        if (f.quote == 0 && !util::is_hex_encoded(f.value)) {
            interpreted = true;
        }
        args.push_back({static_cast<std::size_t>(*n), f});
    }
    if (interpreted && !execve_tokens_whole(body)) {
        return {};  // ausearch -i printed a value with a space: no argument's end is known
    }
    std::sort(args.begin(), args.end(), [](const Arg& a, const Arg& b) { return a.index < b.index; });
    // an empty argument is missing from ausearch -i's text ("argc=3 a0=/bin/ls a2=/etc",
    // linux-audit/audit-kernel#99): a gap is an empty argument, so the next keep their place
    std::string out;
    std::size_t next = 0;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (i > 0 && args[i].index == args[i - 1].index) {
            continue;
        }
        if (args[i].index - next > 64) {
            break;
        }
        for (; next < args[i].index; ++next) {
            if (next > 0) {
                out.push_back('\0');
            }
        }
        ++next;
        if (i > 0 || args[i].index > 0) {
            out.push_back('\0');  // exact argument bounds: a VM name may have spaces
        }
        std::string v = interpreted ? std::string(args[i].field.value) : decode_value(args[i].field);
        v.erase(std::remove(v.begin(), v.end(), '\0'), v.end());
        out += v;
    }
    return out;
}

bool is_qemu_program(std::string_view argv0)
{
    const std::size_t slash = argv0.rfind('/');
    const std::string_view base = slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1);
    // qemu-system-x86_64, qemu-kvm (RHEL), kvm (Debian's wrapper, Proxmox's /usr/bin/kvm)
    return util::starts_with(base, "qemu-system-") || base == "qemu-kvm" || base == "kvm";
}

bool execve_starts_qemu(std::string_view body)
{
    // cheap: a0 alone, before any decoding of the rest
    FieldScanner scanner(body);
    Field f;
    while (scanner.next(f)) {
        if (f.key == "a0") {
            return is_qemu_program(decode_value(f));
        }
    }
    return false;
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

void EventAssembler::add_sibling(const Record& record, bool opens)
{
    ++m_records;
    Open* open = find_open(record);
    if (!open && opens) {
        open = &open_event(record);  // siblings that came first join it from the ring
    }
    if (open) {
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
        || a.cwd != b.cwd || a.avc_path != b.avc_path || a.proctitle != b.proctitle || a.execve != b.execve
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
