// Issue 16, QEMU's command line and other managers: EXECVE records (raw, hex, ausearch -i),
// PROCTITLE, Proxmox VE (-id VMID, its paths) and KubeVirt (NAMESPACE_NAME, the pod's MCS pair).
// The fixtures execve-qemu, proxmox and kubevirt are the whole cases; here each rule and each
// way it must not name a VM.
#include "../support.hpp"

#include <analyzer/correlate/correlator.hpp>
#include <analyzer/correlate/libvirt_log.hpp>
#include <analyzer/correlate/qemu_cmdline.hpp>
#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/ingest/event_assembler.hpp>
#include <analyzer/util/text.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace virtdeny;
using correlate::parse_qemu_argv;
using correlate::parse_qemu_cmdline;

namespace {

std::string argv_of(std::initializer_list<const char*> args)
{
    std::string out;
    for (const char* a : args) {
        if (!out.empty()) {
            out.push_back('\0');
        }
        out += a;
    }
    return out;
}

std::string hex(const std::string& s)
{
    static const char* digits = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

} // namespace

TEST_CASE("EXECVE: the argv as the kernel writes it, quoted or hex, and as ausearch -i prints it", "[correlate][cmdline]")
{
    // the kernel hex-encodes an argument with a space or a quote
    const std::string raw = "argc=5 a0=\"/usr/libexec/qemu-kvm\" a1=\"-name\" a2=" + hex("guest=Windows 11 Pro,debug-threads=on")
                          + " a3=\"-uuid\" a4=\"3c9e7a51-0d2b-4f68-a1c4-8e5b2d7f9061\"";
    const std::string argv = ingest::execve_command_line(raw);
    CHECK(argv == argv_of({"/usr/libexec/qemu-kvm", "-name", "guest=Windows 11 Pro,debug-threads=on", "-uuid",
                           "3c9e7a51-0d2b-4f68-a1c4-8e5b2d7f9061"}));
    auto cmd = parse_qemu_argv(argv);
    CHECK(cmd.qemu);
    CHECK(cmd.name == "Windows 11 Pro");
    CHECK(cmd.uuid == "3c9e7a51-0d2b-4f68-a1c4-8e5b2d7f9061");

    // ausearch -i: bare values; an empty argument is missing (a1 here) and keeps its place
    CHECK(ingest::execve_command_line("argc=4 a0=/usr/bin/qemu-system-x86_64 a2=-name a3=guest=pg-bench-01,debug-threads=on")
          == argv_of({"/usr/bin/qemu-system-x86_64", "", "-name", "guest=pg-bench-01,debug-threads=on"}));
    // ausearch -i with a space inside a value: no argument's end is known, so nothing
    CHECK(ingest::execve_command_line("argc=3 a0=/usr/libexec/qemu-kvm a1=-name a2=guest=Windows 11 Pro,debug-threads=on")
              .empty());
    // a hex value that decodes to a NUL-free string stays one argument
    CHECK(ingest::execve_starts_qemu("argc=2 a0=\"/usr/bin/kvm\" a1=\"-id\""));
    CHECK_FALSE(ingest::execve_starts_qemu("argc=2 a0=\"/usr/bin/qemu-img\" a1=\"info\""));
    CHECK_FALSE(ingest::execve_starts_qemu("argc=2 a0=\"/usr/bin/find\" a1=\"-name\""));
}

TEST_CASE("QEMU command line: -name, -uuid and Proxmox's -id, only for QEMU's program", "[correlate][cmdline]")
{
    // libvirt doubles a comma inside a name
    CHECK(parse_qemu_argv(argv_of({"/usr/bin/qemu-system-x86_64", "-name", "guest=lab,,east,debug-threads=on"})).name
          == "lab,east");
    // another program's -name says nothing (find's -name, from a backup script)
    CHECK(parse_qemu_cmdline("find /var/lib/libvirt/images -name guest=*.qcow2 -mmin -60").empty());
    CHECK(parse_qemu_argv(argv_of({"/usr/bin/find", "/var/lib/libvirt/images", "-name", "guest=x"})).empty());
    CHECK(parse_qemu_cmdline("/usr/bin/qemu-img convert -name x").empty());

    // PROCTITLE: a name with spaces only when libvirt's comma ended it
    CHECK(parse_qemu_cmdline("/usr/libexec/qemu-kvm -name guest=Windows 11 Pro,debug-threads=on -S").name == "Windows 11 Pro");
    CHECK(parse_qemu_cmdline("/usr/libexec/qemu-kvm -name Windows 11 Pro -S").name.empty());
    CHECK(parse_qemu_cmdline("/usr/libexec/qemu-kvm -name oldstyle -S -M pc").name == "oldstyle");
    // a value running to the end of a title the kernel may have cut (127+ bytes) is not whole
    std::string cut = "/usr/libexec/qemu-kvm -name guest=" + std::string(100, 'a');
    CHECK(parse_qemu_cmdline(cut).name.empty());
    CHECK(parse_qemu_cmdline("/usr/libexec/qemu-kvm -name guest=short,debug-threads=on").name == "short");
    // libvirt's form without its comma: the value stopped at a " -" inside the name
    CHECK(parse_qemu_cmdline("/usr/libexec/qemu-kvm -name guest=lab -2,debug-threads=on -S").name.empty());
    CHECK(parse_qemu_cmdline("/usr/libexec/qemu-kvm -name guest=short").name.empty());

    // Proxmox VE: /usr/bin/kvm -id VMID -name NAME,debug-threads=on
    auto pve = parse_qemu_cmdline("/usr/bin/kvm -id 104 -name win2022-dc,debug-threads=on -no-shutdown -chardev socket");
    CHECK(pve.qemu);
    CHECK(pve.proxmox_vmid == "104");
    CHECK(pve.name == "win2022-dc");
    // a VMID at the very end may be cut; VMIDs start at 100
    CHECK(parse_qemu_cmdline("/usr/bin/kvm -id 104").proxmox_vmid.empty());
    CHECK(parse_qemu_argv(argv_of({"/usr/bin/kvm", "-id", "99"})).proxmox_vmid.empty());
    CHECK(parse_qemu_argv(argv_of({"/usr/bin/kvm", "-id", "0104"})).proxmox_vmid.empty());
    CHECK(parse_qemu_argv(argv_of({"/usr/bin/kvm", "-id", "104"})).proxmox_vmid == "104");

    auto dom = correlate::domain_from_cmdline(pve, "proctitle", false);
    REQUIRE(dom);
    CHECK(dom->name == "104");  // the VMID, never the config's label
    CHECK(dom->via == "proxmox-id");
}

TEST_CASE("KubeVirt: NAMESPACE_NAME domains become NAMESPACE/NAME only in a virt-launcher pod", "[correlate][cmdline]")
{
    CHECK(correlate::kubevirt_vm_name("default_vmi-fedora") == "default/vmi-fedora");
    CHECK(correlate::kubevirt_vm_name("ns_a_b") == "ns/a_b");  // KubeVirt splits at the first '_'
    CHECK(correlate::kubevirt_vm_name("plainname").empty());
    CHECK(correlate::kubevirt_vm_name("_x").empty());
    CHECK(correlate::kubevirt_vm_name("x_").empty());

    auto cmd = parse_qemu_argv(argv_of({"/usr/libexec/qemu-kvm", "-name", "guest=default_vmi-fedora,debug-threads=on"}));
    auto in_pod = correlate::domain_from_cmdline(cmd, "execve", true);
    REQUIRE(in_pod);
    CHECK(in_pod->name == "default/vmi-fedora");
    CHECK(in_pod->via == "kubevirt");
    // a libvirt VM whose name has a '_' is not a KubeVirt VM outside a pod
    auto plain = correlate::domain_from_cmdline(cmd, "execve", false);
    REQUIRE(plain);
    CHECK(plain->name == "default_vmi-fedora");
    CHECK(plain->via == "execve");
    // a pod path on the command line says KubeVirt too
    auto pod_path = parse_qemu_argv(argv_of({"/usr/libexec/qemu-kvm", "-name", "guest=ns1_vm1,debug-threads=on", "-chardev",
                                             "socket,id=charserial0,path=/var/run/kubevirt-private/5a0f/virt-serial0"}));
    CHECK(pod_path.kubevirt);
    CHECK(correlate::domain_from_cmdline(pod_path, "execve", false)->name == "ns1/vm1");
}

TEST_CASE("Proxmox VE paths carry the VMID, other paths and other forms do not", "[correlate][proxmox]")
{
    using correlate::proxmox_vmid_from_path;
    CHECK(proxmox_vmid_from_path("/var/run/qemu-server/104.pid") == "104");
    CHECK(proxmox_vmid_from_path("/run/qemu-server/104.qmp") == "104");
    CHECK(proxmox_vmid_from_path("/var/run/qemu-server/104.vnc") == "104");
    CHECK(proxmox_vmid_from_path("/var/lib/vz/images/104/vm-104-disk-1.qcow2") == "104");
    CHECK(proxmox_vmid_from_path("/mnt/pve/nfs1/images/2001/base-2001-disk-0.raw") == "2001");
    CHECK(proxmox_vmid_from_path("/dev/pve/vm-104-disk-0") == "104");
    CHECK(proxmox_vmid_from_path("/dev/zvol/rpool/data/vm-104-disk-0") == "104");
    CHECK(proxmox_vmid_from_path("/dev/mapper/pve-vm--104--disk--0") == "104");
    CHECK(proxmox_vmid_from_path("/dev/pve/vm-104-cloudinit") == "104");

    CHECK(proxmox_vmid_from_path("/var/run/qemu-server.pid").empty());
    CHECK(proxmox_vmid_from_path("/run/libvirt/qemu/104.pid").empty());          // libvirt's, a VM named 104
    CHECK(proxmox_vmid_from_path("/var/run/qemu-server/qmeventd.sock").empty());
    CHECK(proxmox_vmid_from_path("/var/run/qemu-server/99.pid").empty());         // no VMID below 100
    CHECK(proxmox_vmid_from_path("/var/run/qemu-server/x/104.pid").empty());
    CHECK(proxmox_vmid_from_path("/var/lib/vz/images/105/vm-104-disk-0.qcow2").empty());  // dir and volume disagree
    CHECK(proxmox_vmid_from_path("/var/lib/libvirt/images/vm-104-disk-0.qcow2").empty());  // not a Proxmox storage
    CHECK(proxmox_vmid_from_path("/dev/mapper/pve-vm-104-disk-0").empty());       // not device-mapper's doubling
    CHECK(proxmox_vmid_from_path("/dev/sda1").empty());
    CHECK(proxmox_vmid_from_path("/home/u/vm-104-disk-0.qcow2").empty());
}

TEST_CASE("Correlator: a Proxmox pid file names the VM only when QEMU opened it", "[correlate][proxmox]")
{
    correlate::VmRegistry registry;
    correlate::Correlator correlator(registry, nullptr);
    auto finding = [](const char* profile, const char* comm) {
        model::Finding f;
        f.mac = model::Mac::apparmor;
        f.sample.mac = model::Mac::apparmor;
        f.sample.profile = profile;
        f.subject = profile;
        f.comm = comm;
        f.path = "/var/run/qemu-server/104.pid";
        return f;
    };
    model::Finding qemu = finding("/usr/bin/qemu-system-x86_64", "kvm");
    correlator.correlate(qemu);
    REQUIRE(qemu.domain);
    CHECK(qemu.domain->name == "104");
    CHECK(qemu.domain->via == "proxmox-path");
    // a monitoring agent reading the VM's pid file is not the VM
    model::Finding agent = finding("/usr/sbin/snmpd", "snmpd");
    correlator.correlate(agent);
    CHECK_FALSE(agent.domain);
}

TEST_CASE("Registry: a QEMU exec names its pid, not a pid reused by another program", "[correlate][cmdline]")
{
    correlate::VmRegistry registry;
    model::Event exec;
    exec.pid = 60311;
    exec.time_ms = 1000;
    exec.exe = "/usr/libexec/qemu-kvm";
    exec.subj = "system_u:system_r:svirt_t:s0:c310,c722";
    exec.execve = argv_of({"/usr/libexec/qemu-kvm", "-name", "guest=db01,debug-threads=on"});
    const auto generation = registry.pid_generation("", 60311);
    registry.add_exec(exec);
    CHECK(registry.pid_generation("", 60311) != generation);  // runs before and after are not merged
    CHECK(registry.exec_by_pid("", 60311, 999) == nullptr);      // before the exec
    REQUIRE(registry.exec_by_pid("", 60311, 2000));
    CHECK(registry.exec_by_pid("", 60311, 2000)->cmd.name == "db01");

    correlate::Correlator correlator(registry, nullptr);
    model::Finding qemu;
    qemu.sample.scontext = exec.subj;
    qemu.subject = exec.subj;
    qemu.comm = "qemu-kvm";
    qemu.exe = "/usr/libexec/qemu-kvm";
    qemu.pids = {60311};
    qemu.first_seen_ms = 2000;
    qemu.path = "/var/log/ci/x.log";
    correlator.correlate(qemu);
    REQUIRE(qemu.domain);
    CHECK(qemu.domain->name == "db01");
    CHECK(qemu.domain->via == "execve");

    model::Finding reused = qemu;
    reused.domain.reset();
    reused.exe = "/usr/bin/python3.9";
    reused.comm = "python3";
    reused.sample.scontext = "system_u:system_r:logrotate_t:s0";
    correlator.correlate(reused);
    CHECK_FALSE(reused.domain);

    // an exec of another program, or a failed one, names nothing
    model::Event other = exec;
    other.pid = 61002;
    other.execve = argv_of({"/usr/bin/find", "/", "-name", "guest=x"});
    registry.add_exec(other);
    CHECK(registry.exec_by_pid("", 61002, 2000) == nullptr);
    model::Event failed = exec;
    failed.pid = 61003;
    failed.success = false;
    registry.add_exec(failed);
    CHECK(registry.exec_by_pid("", 61003, 2000) == nullptr);
}

TEST_CASE("KubeVirt: a libvirt path guess in a virt-launcher pod is named NAMESPACE/NAME, still a guess", "[correlate][cmdline]")
{
    correlate::VmRegistry registry;
    correlate::Correlator correlator(registry, nullptr);
    model::Finding f;
    f.sample.scontext = "system_u:system_r:virt_launcher.process:s0:c255,c849";
    f.subject = f.sample.scontext;
    f.comm = "qemu-kvm";
    f.exe = "/usr/libexec/qemu-kvm";
    f.path = "/var/lib/libvirt/qemu/domain-1-default_vmi-fedora/monitor.sock";
    correlator.correlate(f);
    REQUIRE(f.domain);
    CHECK(f.domain->name == "default/vmi-fedora");
    CHECK(f.domain->via == "path-guess");

    // the same path from an svirt_t QEMU (plain libvirt): the libvirt name as it is
    model::Finding plain = f;
    plain.domain.reset();
    plain.sample.scontext = "system_u:system_r:svirt_t:s0:c255,c849";
    plain.subject = plain.sample.scontext;
    correlator.correlate(plain);
    REQUIRE(plain.domain);
    CHECK(plain.domain->name == "default_vmi-fedora");
}
