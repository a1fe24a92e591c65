#include <analyzer/correlate/correlator.hpp>

#include <analyzer/correlate/domain_xml.hpp>
#include <analyzer/correlate/libvirt_log.hpp>
#include <analyzer/ingest/event_assembler.hpp>
#include <analyzer/util/text.hpp>

namespace virtdeny::correlate {

using util::starts_with;

namespace {

// Processes that act for one VM: QEMU, and the helpers libvirt starts per VM (swtpm,
// virtiofsd). Only their denials may take a VM from a path: a path names whose file it is,
// not who opened it.
bool acts_for_a_vm(const model::Finding& finding)
{
    const model::Denial& d = finding.sample;
    if (d.mac == model::Mac::selinux) {
        static const char* const k_types[] = {"svirt_t", "svirt_tcg_t", "svirt_kvm_net_t", "svirt_qemu_net_t",
                                              "virtiofsd_t", "swtpm_t", "qemu_t", "virt_launcher.process"};
        const auto type = context_type(d.scontext);
        for (const char* t : k_types) {
            if (type == t) {
                return true;
            }
        }
        return false;
    }
    std::string_view who = d.profile;
    who = who.substr(0, who.find("//"));
    const std::size_t slash = who.rfind('/');
    if (slash != std::string_view::npos) {
        who = who.substr(slash + 1);
    }
    if (util::contains(who, "swtpm") || util::contains(who, "virtiofsd") || starts_with(who, "libvirt-")) {
        return true;
    }
    if (ingest::is_qemu_program(who)) {
        return true;  // a profile for QEMU's program itself (a local one, e.g. on Proxmox VE)
    }
    if (who == "unconfined" || who.empty()) {
        const std::string_view comm = finding.comm;
        // kvm: Debian's and Proxmox VE's /usr/bin/kvm
        return starts_with(comm, "qemu-") || comm == "kvm" || comm == "swtpm" || comm == "virtiofsd";
    }
    return false;
}

// An SELinux object labelled with other MCS categories than the subject's: the file is another
// VM's (or a copy of it), whatever its path says.
bool foreign_categories(const model::Denial& d)
{
    if (d.mac != model::Mac::selinux) {
        return false;
    }
    const auto mine = mcs_level(d.scontext);
    const auto its = mcs_level(d.tcontext);
    return util::contains(mine, ":c") && util::contains(its, ":c") && mine != its;
}

// The denied process is still the program that exec: a pid reused later by another program is
// not that VM. Without exe (a kernel line alone), QEMU's own comm (or a thread's).
bool same_program(const model::Finding& f, const QemuExec& e)
{
    if (!f.exe.empty() && !e.exe.empty()) {
        return f.exe == e.exe;
    }
    const std::string_view comm = f.comm;
    return starts_with(comm, "qemu-") || comm == "kvm" || util::contains(comm, "/KVM");
}

} // namespace

bool in_kubevirt_pod(const model::Finding& finding)
{
    // container-selinux's type for virt-launcher pods (KubeVirt's own policy module), and the
    // pod's programs: virt-launcher and virt-launcher-monitor (comm keeps 15 characters)
    if (finding.sample.mac == model::Mac::selinux && context_type(finding.sample.scontext) == "virt_launcher.process") {
        return true;
    }
    const std::string_view comm = finding.comm;
    if (starts_with(comm, "virt-launcher") || util::ends_with(finding.exe, "/virt-launcher")
        || util::ends_with(finding.exe, "/virt-launcher-monitor")) {
        return true;
    }
    // QEMU on a path only a virt-launcher pod has (its private sockets, its disks)
    const std::string_view path = finding.path;
    const bool pod_path = starts_with(path, "/var/run/kubevirt-private/") || starts_with(path, "/run/kubevirt-private/")
        || starts_with(path, "/var/run/kubevirt/") || starts_with(path, "/run/kubevirt/");
    return pod_path && (starts_with(comm, "qemu-") || util::contains(finding.exe, "qemu"));
}

std::optional<model::DomainRef> domain_from_cmdline(const QemuCommandLine& cmd, const char* via, bool kubevirt)
{
    if (!cmd.qemu || cmd.empty()) {
        return std::nullopt;
    }
    if (!cmd.proxmox_vmid.empty()) {
        // Proxmox VE: the VMID is the VM's identity (qm, /etc/pve/qemu-server/VMID.conf); its
        // -name is only a label, "vmVMID" when none was set
        return model::DomainRef{cmd.proxmox_vmid, cmd.uuid, "proxmox-id"};
    }
    if (kubevirt || cmd.kubevirt) {
        std::string vm = kubevirt_vm_name(cmd.name);
        if (!vm.empty()) {
            return model::DomainRef{std::move(vm), cmd.uuid, "kubevirt"};
        }
    }
    return model::DomainRef{cmd.name, cmd.uuid, via};
}

std::string_view libvirt_profile_uuid(std::string_view profile)
{
    if (!starts_with(profile, "libvirt-") || profile.size() < 8 + 36) {
        return {};
    }
    auto uuid = profile.substr(8, 36);
    if (!util::is_uuid(uuid)) {
        return {};
    }
    if (profile.size() > 44 && !starts_with(profile.substr(44), "//")) {
        return {};
    }
    return uuid;
}

bool is_libvirt_daemon(const model::Finding& finding)
{
    static const char* const k_daemon_names[] = {
        "libvirtd", "virtqemud", "virtlogd", "virtlockd", "virtstoraged", "virtnetworkd", "virtnodedevd",
        "virtsecretd", "virtproxyd", "virtinterfaced", "virtnwfilterd", "virt-aa-helper",
        "libvirt_parthelper", "libvirt_iohelper", "libvirt_leaseshelper", "rpc-worker", "rpc-virtqemud",
    };
    const model::Denial& d = finding.sample;
    std::string_view who;
    if (d.mac == model::Mac::apparmor) {
        who = d.profile;
        const std::size_t child = who.find("//");
        if (child != std::string_view::npos) {
            who = who.substr(0, child);
        }
        const std::size_t slash = who.rfind('/');
        if (slash != std::string_view::npos) {
            who = who.substr(slash + 1);
        }
        if (who == "usr.sbin.libvirtd") {
            return true;
        }
    } else {
        auto type = context_type(d.scontext);
        static const char* const k_daemon_types[] = {
            "virtd_t", "virtqemud_t", "virtlogd_t", "virtlockd_t", "virtstoraged_t", "virtnetworkd_t",
            "virtnodedevd_t", "virtsecretd_t", "virtproxyd_t", "virtinterfaced_t", "virtnwfilterd_t",
            "virt_bridgehelper_t",
        };
        for (const char* t : k_daemon_types) {
            if (type == t) {
                return true;
            }
        }
        return false;
    }
    for (const char* n : k_daemon_names) {
        if (who == n) {
            return true;
        }
    }
    return false;
}

bool names_unknown_vm(const model::Finding& finding)
{
    if (finding.host_level || (finding.domain && !finding.domain->name.empty())) {
        return false;
    }
    const model::Denial& d = finding.sample;
    if (d.mac == model::Mac::apparmor) {
        return !libvirt_profile_uuid(d.profile).empty();
    }
    const auto type = context_type(d.scontext);
    return (type == "svirt_t" || type == "svirt_tcg_t" || type == "svirt_kvm_net_t")
           && util::contains(mcs_level(d.scontext), ":c");
}

void Correlator::correlate(model::Finding& finding) const
{
    const model::Denial& d = finding.sample;
    if (is_libvirt_daemon(finding)) {
        finding.host_level = true;
        finding.domain.reset();
        return;
    }
    const std::string& node = finding.node;
    const std::int64_t t = finding.first_seen_ms;
    auto from_instance = [&](const VmInstance& vm, const char* via) {
        model::DomainRef ref;
        ref.name = vm.name.empty() ? m_registry.name_of(node, vm.uuid) : vm.name;
        ref.uuid = vm.uuid;
        ref.via = via;
        if (ref.name.empty() && m_xml) {
            ref.name = m_xml->name_of(ref.uuid);
        }
        finding.domain = ref;
    };
    // 1. libvirt's own records: the QEMU pid, then the vm-ctx MCS pair
    for (std::int64_t pid : finding.pids) {
        if (const VmInstance* vm = m_registry.by_pid(node, pid, t)) {
            from_instance(*vm, "virt-pid");
            return;
        }
    }
    const std::string_view level = d.mac == model::Mac::selinux ? mcs_level(d.scontext) : std::string_view();
    if (const VmInstance* vm = m_registry.by_level(node, level, t)) {
        from_instance(*vm, "vm-ctx");
        return;
    }
    // 2. AppArmor libvirt-<uuid> profile
    if (d.mac == model::Mac::apparmor) {
        auto uuid = libvirt_profile_uuid(d.profile);
        if (!uuid.empty()) {
            model::DomainRef ref;
            ref.uuid = std::string(uuid);
            ref.name = m_registry.name_of(node, uuid);
            if (ref.name.empty() && m_xml) {
                ref.name = m_xml->name_of(ref.uuid);
            }
            ref.via = "apparmor-profile";
            finding.domain = ref;
            return;
        }
    }
    // 2b. LXD's per-instance profile around QEMU: an LXD VM (containers share the profile form)
    if (d.mac == model::Mac::apparmor && (starts_with(finding.comm, "qemu-") || util::contains(finding.exe, "qemu"))) {
        std::string lxd = lxd_instance(d.profile);
        if (!lxd.empty()) {
            finding.domain = model::DomainRef{std::move(lxd), std::string(), "lxd-profile"};
            return;
        }
    }
    // 3. MCS categories matched to a domain XML <seclabel>
    if (m_xml && !level.empty()) {
        if (const DomainInfo* dom = m_xml->by_level(level)) {
            // from --connect: libvirt itself said which domain has these categories
            finding.domain = model::DomainRef{dom->name, dom->uuid, dom->via == "libvirt-api" ? "libvirt-api" : "seclabel"};
            return;
        }
    }
    // 4. QEMU's command line: the event's own EXECVE (whole) or PROCTITLE (maybe cut), else the
    //    QEMU start this pid had, else (KubeVirt) the QEMU started in the same pod
    if (auto ref = from_command_line(finding)) {
        if (ref->via != "proxmox-id" && ref->via != "kubevirt") {
            if (ref->uuid.empty() && m_xml) {
                if (const DomainInfo* dom = m_xml->by_name(ref->name)) {
                    ref->uuid = dom->uuid;
                }
            }
            if (ref->name.empty()) {
                ref->name = m_registry.name_of(node, ref->uuid);
            }
        }
        finding.domain = std::move(*ref);
        return;
    }
    // 5. domain XML: the object is one of a domain's devices
    if (m_xml && !finding.path.empty()) {
        if (const DomainInfo* dom = m_xml->by_path(finding.path)) {
            finding.domain = model::DomainRef{dom->name, dom->uuid, dom->via};
            return;
        }
    }
    // 6. a path libvirt names after the VM: a guess, and said so (via path-guess)
    if (!finding.path.empty() && acts_for_a_vm(finding) && !foreign_categories(d)) {
        if (auto ref = guess_domain(node, finding.path)) {
            // inside a virt-launcher pod libvirt's domain is NAMESPACE_NAME: named as KubeVirt does
            std::string vm = in_kubevirt_pod(finding) ? kubevirt_vm_name(ref->name) : std::string();
            if (!vm.empty()) {
                ref->name = std::move(vm);
            }
            finding.domain = std::move(*ref);
            return;
        }
        // Proxmox VE's per-VM paths carry the VMID: a guess too (via proxmox-path)
        std::string vmid = proxmox_vmid_from_path(finding.path);
        if (!vmid.empty()) {
            finding.domain = model::DomainRef{std::move(vmid), std::string(), "proxmox-path"};
        }
    }
}

std::optional<model::DomainRef> Correlator::from_command_line(const model::Finding& finding) const
{
    const bool pod = in_kubevirt_pod(finding);
    if (!finding.execve.empty()) {
        if (auto ref = domain_from_cmdline(parse_qemu_argv(finding.execve), "execve", pod)) {
            return ref;
        }
    }
    if (!finding.proctitle.empty()) {
        if (auto ref = domain_from_cmdline(parse_qemu_cmdline(finding.proctitle), "proctitle", pod)) {
            if (ref->via == "kubevirt" && ref->uuid.empty() && finding.sample.mac == model::Mac::selinux) {
                // -uuid comes after the 128-byte cut: the pod's QEMU start has it
                const QemuExec* e = m_registry.exec_by_pod_level(finding.node, mcs_level(finding.sample.scontext));
                if (e && kubevirt_vm_name(e->cmd.name) == ref->name) {
                    ref->uuid = e->cmd.uuid;
                }
            }
            return ref;
        }
    }
    for (std::int64_t pid : finding.pids) {
        const QemuExec* e = m_registry.exec_by_pid(finding.node, pid, finding.first_seen_ms);
        if (e && same_program(finding, *e)) {
            return domain_from_cmdline(e->cmd, "execve", pod || e->subj_type == "virt_launcher.process");
        }
    }
    // every process of a virt-launcher pod has the pod's MCS pair: the QEMU started under it
    // names the VM for virt-launcher and the pod's virtqemud too
    if (pod && finding.sample.mac == model::Mac::selinux) {
        if (const QemuExec* e = m_registry.exec_by_pod_level(finding.node, mcs_level(finding.sample.scontext))) {
            auto ref = domain_from_cmdline(e->cmd, "kubevirt", true);
            if (ref && ref->via != "kubevirt") {
                return std::nullopt;  // a name with no namespace_ form is not KubeVirt's
            }
            return ref;
        }
    }
    return std::nullopt;
}

std::optional<model::DomainRef> Correlator::guess_domain(const std::string& node, std::string_view path) const
{
    const PathGuess g = guess_from_path(path);
    if (g.empty()) {
        return std::nullopt;
    }
    model::DomainRef ref;
    ref.via = "path-guess";
    if (!g.uuid.empty()) {
        ref.uuid = g.uuid;
        ref.name = m_registry.name_of(node, g.uuid);
        if (ref.name.empty() && m_xml) {
            ref.name = m_xml->name_of(g.uuid);
        }
        return ref;
    }
    // every (name, uuid, id) libvirt itself told: its API or XML, VIRT_* records, daemon lines
    struct Known
    {
        std::string_view name;
        std::string_view uuid;
        std::int64_t id;
    };
    std::vector<Known> known;
    if (m_xml) {
        for (const auto& dom : m_xml->domains()) {
            known.push_back({dom.name, dom.uuid, dom.id});
        }
    }
    for (const auto& vm : m_registry.instances()) {
        if (vm.node == node || vm.node.empty() || node.empty()) {
            known.push_back({vm.name, vm.uuid, -1});
        }
    }
    for (const auto& logged : m_registry.logged()) {
        known.push_back({logged.name, logged.uuid, logged.id});
    }
    if (!g.truncated) {
        ref.name = g.name;
        for (const auto& k : known) {
            if (k.name == g.name && !k.uuid.empty()) {
                if (!ref.uuid.empty() && ref.uuid != k.uuid) {
                    ref.uuid.clear();  // two VMs of that name (nodes, or redefined): no uuid
                    break;
                }
                ref.uuid = std::string(k.uuid);
            }
        }
        return ref;
    }
    // libvirt kept only the first 20 characters: a known name with that start, the one with
    // that id when there is one, else the only one; never the prefix itself
    const Known* by_id = nullptr;
    const Known* by_prefix = nullptr;
    bool several = false;
    for (const auto& k : known) {
        if (!starts_with(k.name, g.name)) {  // (a name of exactly 20 characters is whole)
            continue;
        }
        if (g.id >= 0 && k.id == g.id) {
            by_id = &k;
        }
        if (by_prefix && by_prefix->name != k.name) {
            several = true;
        }
        by_prefix = &k;
    }
    const Known* pick = by_id ? by_id : (several ? nullptr : by_prefix);
    if (!pick) {
        return std::nullopt;
    }
    ref.name = std::string(pick->name);
    ref.uuid = std::string(pick->uuid);
    return ref;
}

} // namespace virtdeny::correlate
