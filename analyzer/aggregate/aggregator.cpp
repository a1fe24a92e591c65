#include <analyzer/aggregate/aggregator.hpp>

#include <analyzer/util/text.hpp>

#include <algorithm>

namespace virtdeny::aggregate {

using model::Denial;
using model::Finding;
using model::Mac;

namespace {

void add_unique(std::vector<std::string>& list, const std::string& value)
{
    if (!value.empty() && list.size() < Aggregator::k_max_permissions
        && std::find(list.begin(), list.end(), value) == list.end()) {
        list.push_back(value);
    }
}

// Heap bytes of a string (nothing while it fits the small-string buffer), with the
// allocator's overhead.
std::size_t heap_bytes(const std::string& s)
{
    return s.capacity() > 15 ? s.capacity() + 1 + 16 : 0;
}

std::size_t heap_bytes(const std::vector<std::string>& list)
{
    std::size_t n = list.capacity() * sizeof(std::string);
    for (const auto& s : list) {
        n += heap_bytes(s);
    }
    return n;
}

const char* mask_letter_word(char c)
{
    switch (c) {
    case 'c': return "create";
    case 'r': return "read";
    case 'w': return "write";
    case 'a': return "append";
    case 'l': return "link";
    case 'k': return "lock";
    case 'm': return "mmap_exec";
    case 'x': return "exec";
    case 'd': return "delete";
    case 'N': return "change_hat";
    default: return nullptr;
    }
}

// Capability numbers (linux/capability.h) for records without capname=.
const char* capability_name(int cap)
{
    static const char* const k_caps[] = {
        "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid",
        "setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw",
        "ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
        "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod",
        "lease", "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin", "syslog",
        "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
    };
    if (cap >= 0 && cap < static_cast<int>(sizeof k_caps / sizeof k_caps[0])) {
        return k_caps[cap];
    }
    return nullptr;
}

} // namespace

std::string apparmor_class(const Denial& d)
{
    if (!d.aa_class.empty()) {
        return d.aa_class;
    }
    const std::string& op = d.operation;
    if (op == "capable") {
        return "cap";
    }
    if (!d.family.empty() || op == "create" || op == "connect" || op == "bind" || op == "listen"
        || op == "accept" || op == "sendmsg" || op == "recvmsg" || op == "getsockopt" || op == "setsockopt"
        || op == "getsockname" || op == "getpeername" || op == "shutdown" || op == "socket_create") {
        return "net";
    }
    if (op == "signal") {
        return "signal";
    }
    if (op == "ptrace") {
        return "ptrace";
    }
    if (util::starts_with(op, "dbus")) {
        return "dbus";
    }
    if (op == "mount" || op == "umount" || op == "remount" || op == "pivotroot") {
        return "mount";
    }
    if (op == "change_hat" || op == "change_profile" || op == "change_onexec") {
        return "process";
    }
    return "file";
}

std::vector<std::string> apparmor_permissions(const Denial& d)
{
    std::vector<std::string> out;
    if (d.operation == "capable") {
        std::string name = d.capname;
        if (name.empty() && d.capability) {
            const char* n = capability_name(*d.capability);
            name = n ? n : "cap_" + std::to_string(*d.capability);
        }
        // type=1503 records of 2.6.3x kernels name the capability in name= ("sys_admin")
        if (name.empty() && !d.name.empty()
            && std::all_of(d.name.begin(), d.name.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; })) {
            name = d.name;
        }
        if (!name.empty()) {
            add_unique(out, name);
        }
        return out;
    }
    const std::string& mask = d.denied_mask.empty() ? d.requested_mask : d.denied_mask;
    // letter masks use only these characters ("rw", "wk::", "mrwlkix"); anything else is words
    const bool letters = mask.find_first_not_of("rwaclkmxdiupPUCNI:") == std::string::npos;
    if (!letters) {
        // word masks: "send receive connect", "read trace"
        std::string_view rest = mask;
        while (!rest.empty()) {
            rest = util::trim(rest);
            const std::size_t sp = rest.find(' ');
            add_unique(out, std::string(rest.substr(0, sp)));
            if (sp == std::string_view::npos) {
                break;
            }
            rest.remove_prefix(sp + 1);
        }
    } else {
        for (char c : mask) {
            if (const char* w = mask_letter_word(c)) {
                add_unique(out, w);
            }
        }
        if (out.empty() && !mask.empty()) {
            add_unique(out, mask);
        }
    }
    if (out.empty() && !d.operation.empty()) {
        add_unique(out, d.operation);
    }
    return out;
}

std::string object_path(const Denial& d, const model::Event& event)
{
    if (d.mac == Mac::apparmor) {
        // unix sockets: the socket file the process connected to
        if (d.name.empty() && d.family == "unix" && !d.peer_addr.empty() && d.peer_addr.front() == '/') {
            return d.peer_addr;
        }
        if (d.operation == "capable") {
            return {};  // 1503 records put the capability's name in name=
        }
        return d.name;
    }
    if (!d.path.empty()) {
        return d.path;
    }
    if (!event.avc_path.empty()) {
        return event.avc_path;
    }
    if (d.name.empty()) {
        return {};
    }
    // the AVC's name= is the last component; the PATH record has the name the syscall used
    for (const auto& item : event.paths) {
        if (item.nametype == "PARENT") {
            continue;
        }
        const std::string& n = item.name;
        const bool matches = n == d.name
            || (n.size() > d.name.size() && util::ends_with(n, d.name) && n[n.size() - d.name.size() - 1] == '/');
        if (!matches) {
            continue;
        }
        if (!n.empty() && n.front() == '/') {
            return n;
        }
        if (!event.cwd.empty()) {
            return event.cwd + (event.cwd.back() == '/' ? "" : "/") + n;
        }
    }
    return d.name;
}

Finding Aggregator::make_finding(const Denial& d, const model::Event& event)
{
    Finding f;
    f.node = d.node;
    f.mac = d.mac;
    f.enforced = d.enforced;
    f.comm = d.comm.empty() ? event.comm : d.comm;
    f.exe = d.exe.empty() ? event.exe : d.exe;
    const std::int64_t pid = d.pid >= 0 ? d.pid : event.pid;
    if (pid >= 0) {
        f.pids.push_back(pid);
    }
    f.path = object_path(d, event);
    if (d.mac == Mac::selinux) {
        f.subject = d.scontext;
        f.tcontext = d.tcontext;
        f.tclass = d.tclass;
        f.permissions = d.permissions;
    } else {
        f.subject = d.profile;
        f.tclass = apparmor_class(d);
        f.permissions = apparmor_permissions(d);
        f.operation = d.operation;
        if (f.tclass == "signal" || f.tclass == "ptrace" || f.tclass == "unix") {
            f.tcontext = d.peer;
        }
    }
    f.from_summary = d.summary;
    f.count = 1;
    f.first_seen_ms = d.time_ms;
    f.last_seen_ms = d.time_ms;
    f.first_seq = d.seq;
    f.sample = d;
    f.proctitle = event.proctitle;
    f.execve = event.execve;
    return f;
}

namespace {

// What tells two denials' objects apart beyond the path (sockets, capabilities, peers).
std::string object_detail(const Finding& f)
{
    const Denial& d = f.sample;
    std::string k = f.path;
    k.push_back('\x1f');
    k += f.tcontext;
    if (d.mac == Mac::apparmor) {
        k.push_back('\x1f');
        k += d.family;
        k.push_back('/');
        k += d.sock_type;
        if (f.tclass == "cap") {
            k.push_back('/');
            k += f.permissions.empty() ? std::string() : f.permissions.front();
        }
        if (!d.bus.empty()) {
            k += d.bus + "/" + d.dbus_path + "/" + d.interface + "/" + d.member;
        }
    }
    return k;
}

} // namespace

void merge_into(Finding& a, const Finding& b)
{
    if (b.from_summary.empty()) {
        a.from_summary.clear();  // a record of it was read: no longer only a summary
    }
    a.count += b.count;
    a.enforced = a.enforced || b.enforced;
    for (const auto& p : b.permissions) {
        add_unique(a.permissions, p);
    }
    for (std::int64_t pid : b.pids) {
        if (a.pids.size() < Aggregator::k_max_pids && std::find(a.pids.begin(), a.pids.end(), pid) == a.pids.end()) {
            a.pids.push_back(pid);
        }
    }
    if (b.first_seq < a.first_seq) {
        a.first_seq = b.first_seq;
    }
    a.first_seen_ms = std::min(a.first_seen_ms, b.first_seen_ms);
    a.last_seen_ms = std::max(a.last_seen_ms, b.last_seen_ms);
    if (a.proctitle.empty()) {
        a.proctitle = b.proctitle;
    }
    if (a.execve.empty()) {
        a.execve = b.execve;
    }
    if (a.exe.empty()) {
        a.exe = b.exe;
    }
}

std::size_t approx_bytes(const Finding& f)
{
    const Denial& d = f.sample;
    std::size_t n = sizeof(Finding) + f.pids.capacity() * sizeof(std::int64_t) + heap_bytes(f.permissions)
        + heap_bytes(d.permissions);
    for (const std::string* s : {&f.node, &f.subject, &f.comm, &f.exe, &f.path, &f.tcontext, &f.tclass, &f.operation,
                                 &f.device, &f.explanation, &f.rule_id, &f.proctitle, &f.execve, &f.from_summary}) {
        n += heap_bytes(*s);
    }
    for (const std::string* s : {&d.record_type, &d.node, &d.comm, &d.exe, &d.scontext, &d.tcontext, &d.tclass,
                                 &d.path, &d.name, &d.dev, &d.ino, &d.ioctlcmd, &d.apparmor, &d.operation, &d.profile,
                                 &d.name2, &d.requested_mask, &d.denied_mask, &d.capname, &d.family, &d.sock_type,
                                 &d.protocol, &d.signal, &d.peer, &d.peer_addr, &d.info, &d.aa_class, &d.bus,
                                 &d.dbus_path, &d.interface, &d.member, &d.fstype, &d.flags, &d.srcname, &d.summary,
                                 &d.raw_command}) {
        n += heap_bytes(*s);
    }
    for (const auto& fix : f.fixes) {
        n += sizeof(fix) + heap_bytes(fix.kind) + heap_bytes(fix.text) + heap_bytes(fix.note) + heap_bytes(fix.file);
    }
    return n;
}

std::string final_key(const Finding& f)
{
    std::string k = f.node;
    k.push_back('\x1e');
    if (f.domain) {
        k += f.domain->uuid.empty() ? "name:" + f.domain->name : f.domain->uuid;
    }
    k.push_back('\x1e');
    k += model::to_string(f.mac);
    k.push_back('\x1e');
    k += f.mac == Mac::selinux ? std::string(correlate::context_type(f.subject)) : f.subject;
    k.push_back('\x1e');
    k += object_detail(f);
    k.push_back('\x1e');
    k += f.tclass;
    return k;
}

void Aggregator::add(const model::Event& event)
{
    for (const Denial& d : event.denials) {
        ++m_denials;
        if (!d.enforced) {
            ++m_not_enforced;
        }
        Finding f = make_finding(d, event);
        // provisional key: the full subject (SELinux MCS level included) and, until
        // correlation, the pid run it belongs to
        std::string key = f.node;
        key.push_back('\x1e');
        key += model::to_string(f.mac);
        key.push_back('\x1e');
        key += f.subject;
        key.push_back('\x1e');
        key += object_detail(f);
        key.push_back('\x1e');
        key += f.tclass;
        if (!f.pids.empty() && correlate::libvirt_profile_uuid(f.subject).empty()) {
            key.push_back('\x1e');
            key += std::to_string(f.pids.front());
            key.push_back('#');
            key += std::to_string(m_registry.pid_generation(f.node, f.pids.front()));
        }
        auto it = m_index.find(key);
        if (it != m_index.end()) {
            merge_into(m_findings[it->second], f);
            continue;
        }
        if (m_findings.size() >= m_max_findings) {
            ++m_overflow;
            continue;
        }
        // the finding, its provisional key and the index node holding it
        const std::size_t cost = approx_bytes(f) + 2 * heap_bytes(key) + sizeof(std::size_t) + 64;
        if (m_bytes + cost > m_max_bytes) {
            ++m_overflow;
            continue;
        }
        m_bytes += cost;
        m_index.emplace(std::move(key), m_findings.size());
        m_findings.push_back(std::move(f));
    }
}

std::vector<Finding> Aggregator::finish(const correlate::Correlator& correlator)
{
    // merged in place: the provisional keys go first, and no second array of findings is
    // built next to the first
    std::unordered_map<std::string, std::size_t>().swap(m_index);
    std::sort(m_findings.begin(), m_findings.end(),
              [](const Finding& a, const Finding& b) { return a.first_seq < b.first_seq; });
    std::unordered_map<std::string, std::size_t> index;
    index.reserve(m_findings.size());
    std::size_t kept = 0;
    for (std::size_t i = 0; i < m_findings.size(); ++i) {
        Finding& f = m_findings[i];
        correlator.correlate(f);
        std::string key = final_key(f);
        auto it = index.find(key);
        if (it != index.end()) {
            merge_into(m_findings[it->second], f);
            continue;
        }
        index.emplace(std::move(key), kept);
        if (kept != i) {
            m_findings[kept] = std::move(f);
        }
        ++kept;
    }
    m_findings.erase(m_findings.begin() + static_cast<std::ptrdiff_t>(kept), m_findings.end());
    std::vector<Finding> out = std::move(m_findings);
    m_findings = std::vector<Finding>();
    m_bytes = 0;
    return out;
}

} // namespace virtdeny::aggregate
