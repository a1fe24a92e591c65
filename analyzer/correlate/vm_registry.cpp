#include <analyzer/correlate/vm_registry.hpp>

#include <analyzer/ingest/fields.hpp>
#include <analyzer/util/text.hpp>

#include <cstdlib>

namespace virtdeny::correlate {

using ingest::Field;
using ingest::FieldScanner;
using ingest::RecordType;

std::string_view mcs_level(std::string_view context)
{
    std::size_t pos = 0;
    for (int i = 0; i < 3; ++i) {
        pos = context.find(':', pos);
        if (pos == std::string_view::npos) {
            return {};
        }
        ++pos;
    }
    return context.substr(pos);
}

std::string_view context_type(std::string_view context)
{
    std::size_t a = context.find(':');
    if (a == std::string_view::npos) {
        return context;
    }
    std::size_t b = context.find(':', a + 1);
    if (b == std::string_view::npos) {
        return context;
    }
    std::size_t c = context.find(':', b + 1);
    return context.substr(b + 1, c == std::string_view::npos ? std::string_view::npos : c - b - 1);
}

std::string VmRegistry::key(std::string_view node, std::string_view x)
{
    std::string k;
    k.reserve(node.size() + x.size() + 1);
    k.append(node);
    k.push_back('|');
    k.append(x);
    return k;
}

VmInstance* VmRegistry::current(std::string_view node, std::string_view uuid, bool create, std::int64_t time_ms)
{
    const std::string k = key(node, uuid);
    auto it = m_current.find(k);
    if (it != m_current.end() && !(create && m_instances[it->second].stop_ms >= 0)) {
        return &m_instances[it->second];
    }
    if (m_instances.size() >= k_max_instances) {
        ++m_dropped;
        return it != m_current.end() ? &m_instances[it->second] : nullptr;
    }
    VmInstance vm;
    vm.node = std::string(node);
    vm.uuid = std::string(uuid);
    vm.first_ms = time_ms;
    auto name = m_names.find(k);
    if (name != m_names.end()) {
        vm.name = name->second;
    }
    m_instances.push_back(std::move(vm));
    m_current[k] = m_instances.size() - 1;
    return &m_instances.back();
}

void VmRegistry::add_logged(const LoggedDomain& d)
{
    // uuid -> name on no node (a syslog line has its own host name, not audit's node=): found
    // by name_of for any node, after the node's own VIRT_* names
    const std::string nk = key("", d.uuid);
    if (m_names.size() < k_max_instances || m_names.count(nk) != 0) {
        m_names.emplace(nk, d.name);
    }
    for (auto& known : m_logged) {
        if (known.uuid == d.uuid && known.name == d.name) {
            known.id = d.id;  // a later start has a new id
            return;
        }
    }
    if (m_logged.size() < k_max_logged) {
        m_logged.push_back(d);
    }
}

void VmRegistry::add(const ingest::Record& record)
{
    if (record.type == RecordType::libvirt_log) {
        if (auto d = parse_domain_line(record.body)) {
            add_logged(*d);
        }
        return;
    }
    // The interesting part is inside msg='...'.
    std::string_view text = record.body;
    {
        FieldScanner outer(record.body);
        Field f;
        while (outer.next(f)) {
            if (f.key == "msg" && f.quote == '\'') {
                text = f.value;
                break;
            }
        }
    }
    std::string name;
    std::string uuid;
    std::string op;
    std::string vm_ctx;
    std::string img_ctx;
    std::string path;
    std::string res;
    std::int64_t vm_pid = -2;
    FieldScanner scanner(text);
    Field f;
    while (scanner.next(f)) {
        if (f.key == "vm") {
            name = ingest::decode_value(f);
        } else if (f.key == "uuid") {
            uuid = std::string(f.value);
        } else if (f.key == "op") {
            op = std::string(f.value);
        } else if (f.key == "vm-ctx") {
            vm_ctx = std::string(f.value);
        } else if (f.key == "img-ctx") {
            img_ctx = std::string(f.value);
        } else if (f.key == "vm-pid") {
            if (auto v = util::to_int(f.value)) {
                vm_pid = *v;
            }
        } else if (f.key == "path") {
            path = ingest::decode_value(f);
        } else if (f.key == "res") {
            res = std::string(f.value);
        }
    }
    if (uuid.empty()) {
        return;
    }
    const std::string nk = key(record.node, uuid);
    if (!name.empty() && (m_names.size() < k_max_instances || m_names.count(nk) != 0)) {
        m_names[nk] = name;  // bounded like the instances: a stream of new uuids must not grow it
    }
    const bool starts = record.type == RecordType::virt_machine_id
        || (record.type == RecordType::virt_control && op == "start");
    VmInstance* vm = current(record.node, uuid, starts, record.time_ms);
    if (!vm) {
        return;
    }
    if (!name.empty()) {
        vm->name = name;
    }
    if (!vm_ctx.empty()) {
        auto level = mcs_level(vm_ctx);
        if (!level.empty() && util::contains(vm_ctx, ":")) {
            vm->vm_level = std::string(level);
        }
    }
    if (!img_ctx.empty()) {
        auto level = mcs_level(img_ctx);
        if (!level.empty()) {
            vm->img_level = std::string(level);
        }
    }
    if (!path.empty() && vm->paths.size() < 64) {
        vm->paths.push_back(path);
    }
    const std::size_t index = static_cast<std::size_t>(vm - m_instances.data());
    if (vm_pid > 0 && vm->pid != vm_pid) {
        vm->pid = vm_pid;
        const std::string pk = key(record.node, std::to_string(vm_pid));
        m_by_pid[pk].push_back(index);
        ++m_generation[pk];
    }
    if (record.type == RecordType::virt_control && op == "start") {
        vm->start_ms = record.time_ms;
        if (res == "failed") {
            vm->stop_ms = record.time_ms;
        }
    } else if (record.type == RecordType::virt_control && op == "stop") {
        vm->stop_ms = record.time_ms;
        if (vm->pid > 0) {
            ++m_generation[key(record.node, std::to_string(vm->pid))];
        }
    }
}

const VmInstance* VmRegistry::by_pid(std::string_view node, std::int64_t pid, std::int64_t time_ms) const
{
    auto it = m_by_pid.find(key(node, std::to_string(pid)));
    if (it == m_by_pid.end()) {
        return nullptr;
    }
    const VmInstance* best = nullptr;
    for (std::size_t index : it->second) {
        const VmInstance& vm = m_instances[index];
        const std::int64_t begin = (vm.start_ms >= 0 ? vm.start_ms : vm.first_ms) - k_start_slack_ms;
        const bool stopped_before = vm.stop_ms >= 0 && time_ms > vm.stop_ms;
        // pid reuse: a run ends at its stop record, and a later run counts from its
        // start (less the slack); the latest run that qualifies wins
        if (time_ms >= begin && !stopped_before && (!best || vm.first_ms > best->first_ms)) {
            best = &vm;
        }
    }
    return best;
}

const VmInstance* VmRegistry::by_level(std::string_view node, std::string_view level, std::int64_t time_ms) const
{
    if (level.empty() || !util::contains(level, ":c")) {
        return nullptr;  // s0 alone (no categories) identifies nothing
    }
    const VmInstance* best = nullptr;
    std::int64_t best_distance = 0;
    for (const VmInstance& vm : m_instances) {
        if (vm.node != node || (vm.vm_level != level && vm.img_level != level)) {
            continue;
        }
        const std::int64_t distance = std::llabs(time_ms - vm.first_ms);
        if (!best || distance < best_distance) {
            best = &vm;
            best_distance = distance;
        }
    }
    return best;
}

std::string VmRegistry::name_of(std::string_view node, std::string_view uuid) const
{
    auto it = m_names.find(key(node, uuid));
    if (it != m_names.end()) {
        return it->second;
    }
    // a uuid is global: a name learnt on another node is still right
    for (const auto& [k, v] : m_names) {
        if (util::ends_with(k, uuid) && k.size() > uuid.size() && k[k.size() - uuid.size() - 1] == '|') {
            return v;
        }
    }
    return {};
}

void VmRegistry::add_exec(const model::Event& event)
{
    if (event.pid <= 0 || event.execve.empty() || !event.success || m_execs.size() >= k_max_execs) {
        return;  // a failed execve started nothing
    }
    QemuExec exec;
    exec.cmd = parse_qemu_argv(event.execve);
    if (!exec.cmd.qemu || exec.cmd.empty()) {
        return;
    }
    exec.node = event.node;
    exec.pid = event.pid;
    exec.time_ms = event.time_ms;
    exec.exe = event.exe;
    if (util::contains(event.subj, ":")) {
        exec.level = std::string(mcs_level(event.subj));
        exec.subj_type = std::string(context_type(event.subj));
    }
    const std::string pk = key(event.node, std::to_string(event.pid));
    m_exec_by_pid[pk].push_back(m_execs.size());
    ++m_generation[pk];  // denials before and after this exec are not one process's
    m_execs.push_back(std::move(exec));
}

const QemuExec* VmRegistry::exec_by_pid(std::string_view node, std::int64_t pid, std::int64_t time_ms) const
{
    auto it = m_exec_by_pid.find(key(node, std::to_string(pid)));
    if (it == m_exec_by_pid.end()) {
        return nullptr;
    }
    const QemuExec* best = nullptr;
    for (std::size_t index : it->second) {
        const QemuExec& e = m_execs[index];
        // the stamps come from one kernel clock: a denial of that QEMU is at or after its exec
        if (time_ms >= e.time_ms && (!best || e.time_ms >= best->time_ms)) {
            best = &e;
        }
    }
    return best;
}

const QemuExec* VmRegistry::exec_by_pod_level(std::string_view node, std::string_view level) const
{
    if (!util::contains(level, ":c")) {
        return nullptr;
    }
    const QemuExec* found = nullptr;
    for (const QemuExec& e : m_execs) {
        if (e.node != node || e.level != level || e.subj_type != "virt_launcher.process") {
            continue;
        }
        if (found && (found->cmd.name != e.cmd.name || found->cmd.uuid != e.cmd.uuid)) {
            return nullptr;  // two VMs under one pair: which one is unknown
        }
        found = &e;
    }
    return found;
}

std::uint32_t VmRegistry::pid_generation(std::string_view node, std::int64_t pid) const
{
    auto it = m_generation.find(key(node, std::to_string(pid)));
    return it == m_generation.end() ? 0 : it->second;
}

} // namespace virtdeny::correlate
