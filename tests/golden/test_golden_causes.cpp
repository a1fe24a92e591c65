// Every cause rule of rules/causes fires on its fixture (fixtures/<case>/, or the rule's own
// sample when no fixture exists yet) with its device, explanation and fixes, in order.
#include "../support.hpp"

#include <analyzer/kb/knowledge_base.hpp>

#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

namespace {

using virtdeny::model::Finding;
using virtdeny::model::Scope;

struct ExpectedFix
{
    const char* kind;
    Scope scope;
    const char* text;
};

struct CauseCase
{
    const char* rule_id;
    const char* fixture;  // "" = the rule's first sample
    const char* path;     // object path of the finding to check ("" = first finding of the rule)
    const char* device;
    std::vector<const char*> words;  // in the explanation
    std::vector<ExpectedFix> fixes;  // exactly these, in this order
};

const virtdeny::kb::KnowledgeBase& bundled_kb()
{
    static virtdeny::kb::KnowledgeBase kb = [] {
        virtdeny::kb::KnowledgeBase k;
        std::vector<std::string> errors;
        k.load({virtdeny::kb::default_rules_dir()}, errors);
        return k;
    }();
    return kb;
}

std::vector<Finding> run_case(const CauseCase& c)
{
    if (*c.fixture == '\0') {
        const auto* rule = bundled_kb().causes.find(c.rule_id);
        REQUIRE(rule != nullptr);
        return virtdeny::test::explain_text(rule->samples.front() + "\n");
    }
    const std::string dir = virtdeny::test::fixtures_dir() + "/" + c.fixture;
    std::vector<std::string> xml;
    std::error_code ec;
    if (std::filesystem::is_directory(dir + "/libvirt", ec)) {
        xml.push_back(dir + "/libvirt");
    }
    return virtdeny::test::explain_text(virtdeny::test::read_file(dir + "/input.log"), xml);
}

const Finding* pick(const std::vector<Finding>& findings, const CauseCase& c)
{
    for (const auto& f : findings) {
        if (f.rule_id == c.rule_id && (*c.path == '\0' || f.path == c.path)) {
            return &f;
        }
    }
    return nullptr;
}

const char* const k_vm_profile_note = "outside the `#include <libvirt/libvirt-";

const std::vector<CauseCase>& cases()
{
    static const std::vector<CauseCase> k_cases = {
        // SELinux
        {"vd-se-tcg-map-image", "seed-000-nvdimm-home", "", "nvdimm",
         {"could not map", "svirt_tcg_t", "already labelled", "gap in the policy"},
         {{"host-change", Scope::host, "dnf upgrade 'selinux-policy*'"},
          {"selinux-allow", Scope::host, "allow svirt_tcg_t svirt_image_t:file { map };"},
          {"selinux-boolean", Scope::host, "setsebool -P domain_can_mmap_files 1"}}},
        {"vd-se-memory-backing-home", "policy-debian-refpolicy", "/home/dev/VMs/arm-builder/nvdimm-0.dev", "nvdimm",
         {"could not map", "home directory", "svirt_tcg_t"},
         {{"selinux-fcontext", Scope::host, "semanage fcontext -a -t svirt_image_t '/home/dev/VMs/arm-builder/nvdimm-0\\.dev' && restorecon -v '/home/dev/VMs/arm-builder/nvdimm-0.dev'"},
          {"selinux-allow", Scope::host, "allow svirt_tcg_t user_home_t:file { map };"},
          {"selinux-boolean", Scope::host, "setsebool -P domain_can_mmap_files 1"}}},
        {"vd-se-qemu-entrypoint", "mcs-no-pid", "", "emulator", {"qemu9-test", "qemu_exec_t", "usr_t"},
         {{"selinux-fcontext", Scope::host, "semanage fcontext -a -t qemu_exec_t '/opt/qemu-9\\.1/bin/qemu-system-x86_64' && restorecon -v '/opt/qemu-9.1/bin/qemu-system-x86_64'"}}},
        {"vd-se-image-unlabelled", "libvirt-xml-device", "/var/lib/libvirt/images/winbuild-2022.qcow2", "disk-image",
         {"winbuild-2022", "domain XML", "virt_image_t", "svirt_image_t"},
         {{"selinux-fcontext", Scope::domain, "chcon -t svirt_image_t -l s0:c512,c733 -- '/var/lib/libvirt/images/winbuild-2022.qcow2'"}}},
        // a disk-image not in the XML: this VM's own label on this one file, no type-wide rule
        {"vd-se-file-not-labelled-for-vm", "libvirt-xml-device", "/var/lib/libvirt/images/scratch/tmp-7731.img",
         "disk-image", {"labelled virt_image_t", "s0:c88,c301", "every such file to every VM"},
         {{"selinux-fcontext", Scope::domain, "chcon -t svirt_image_t -l s0:c88,c301 -- '/var/lib/libvirt/images/scratch/tmp-7731.img'"}}},
        // the UEFI variable store libvirt did not label for the VM
        {"vd-se-file-not-labelled-for-vm", "libvirt-log-names", "/var/lib/libvirt/qemu/nvram/lab-router_VARS.fd", "nvram",
         {"lab-router", "virt_var_lib_t"},
         {{"selinux-fcontext", Scope::domain, "chcon -t svirt_image_t -l s0:c300,c400 -- '/var/lib/libvirt/qemu/nvram/lab-router_VARS.fd'"}}},
        // name= only: no command may act on a bare name in the working directory; find it first
        {"vd-se-file-not-labelled-for-vm", "bad-input", "scratch.img", "disk-image", {"scratch.img", "var_t"},
         {{"host-change", Scope::domain, "find / -xdev -type f -name 'scratch.img' -context '*:var_t:*'"}}},
        // a VF hot-added outside libvirt: the hostdev (libvirt labels the group), else this VM's label
        {"vd-se-vfio-group", "interleaved", "/dev/vfio/46", "vfio", {"k8s-worker-1", "vfio_device_t", "<hostdev>"},
         {{"libvirt-xml", Scope::domain, "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0xBB' slot='0xSS' function='0xF'/></source></hostdev>"},
          {"selinux-fcontext", Scope::domain, "chcon -t svirt_image_t -l s0:c5,c600 -- '/dev/vfio/46'"}}},
        // swtpm ran as virtqemud_t: its policy modules and the transition, never a rule for the daemon's type
        {"vd-se-swtpm-untransitioned", "interleaved", "/run/libvirt/qemu/swtpm/7-k8s-worker-3-swtpm.sock", "tpm",
         {"k8s-worker-3", "virtqemud_t", "swtpm_t", "f7f3b28b7", "swtpm-selinux"},
         {{"host-change", Scope::host, "dnf install swtpm-selinux && dnf upgrade 'selinux-policy*'"}}},
        {"vd-se-home-image", "policy-debian-refpolicy", "/home/builder/scratch/data-disk.raw", "disk-image",
         {"ci-a", "user_home_t", "relabel"},
         {{"selinux-fcontext", Scope::host, "semanage fcontext -a -t svirt_image_t '/home/builder/scratch/data-disk\\.raw' && restorecon -v '/home/builder/scratch/data-disk.raw'"}}},
        {"vd-se-log-file", "proctitle-truncated", "/var/log/ci/build-runner-07-serial.log", "log",
         {"build-runner-07", "var_log_t", "virt_log_t"},
         {{"selinux-fcontext", Scope::host, "semanage fcontext -a -t virt_log_t '/var/log/ci(/.*)?' && restorecon -Rv '/var/log/ci'"}}},
        {"vd-aa-9p-share-glob-chars", "seed-004-9p-fmode-dmode", "/srv/VM Shares/\xC3\x84rzte [2024]/", "share-9p",
         {"praxis-ws", "declares as a <filesystem>", "unescaped"},
         {{"apparmor-rule", Scope::domain, "\"/srv/VM Shares/\\303\\204rzte \\[2024\\]/{,**}\" rwl,"}}},
        {"vd-aa-9p-share-link", "seed-004-9p-fmode-dmode", "/srv/VM Shares/\xC3\x84rzte/2024/Befund \"alt\".pdf", "share-9p",
         {"praxis-ws", "hard link", "(l)"},
         {{"apparmor-rule", Scope::domain, "\"/srv/VM Shares/\\303\\204rzte/2024/{,**}\" rwl,"}}},
        {"vd-aa-hugepages-vm-dir", "hugepages", "", "hugepages", {"pg-bench", "per-VM directory", "/mnt/huge1G"},
         {{"apparmor-rule", Scope::domain, "owner \"/mnt/huge1G/libvirt/qemu/[0-9]*-pg-bench/**\" rw,"}}},
        {"vd-se-invalid-context", "user-avc", "", "other", {"SELINUX_ERR", "virtqemud_t", "qemu_exec_t", "No allow rule"},
         {{"libvirt-xml", Scope::domain, "<seclabel type='dynamic' model='selinux' relabel='yes'/>"},
          {"host-change", Scope::host, "semodule -l | grep -i virt; ausearch -m SELINUX_ERR -ts recent"}}},
        {"vd-se-memory-backing-map", "", "", "other", {"could not map", "var_t"},
         {{"selinux-fcontext", Scope::host, "semanage fcontext -a -t svirt_image_t '/srv/vmram/web01/ram-node0' && restorecon -v '/srv/vmram/web01/ram-node0'"},
          {"selinux-allow", Scope::host, "allow svirt_t var_t:file { map };"},
          {"selinux-boolean", Scope::host, "setsebool -P domain_can_mmap_files 1"}}},
        {"vd-se-nfs-image", "nfs-image", "/mnt/nfs/vmstore/db-replica.qcow2", "disk-image",
         {"db-replica", "NFS mount", "nfs_t", "virt_use_nfs"},
         {{"host-change", Scope::host, "context=\"system_u:object_r:svirt_image_t:s0\""},
          {"selinux-boolean", Scope::host, "setsebool -P virt_use_nfs 1"}}},
        {"vd-se-cifs-image", "cifs-image", "", "disk-image", {"win-build", "CIFS/SMB", "virt_use_samba"},
         {{"host-change", Scope::host, "context=\"system_u:object_r:svirt_image_t:s0\""},
          {"selinux-boolean", Scope::host, "setsebool -P virt_use_samba 1"}}},
        {"vd-se-fuse-image", "fuse-image", "", "disk-image", {"ci-runner-2", "FUSE", "virt_use_fusefs"},
         {{"selinux-boolean", Scope::host, "setsebool -P virt_use_fusefs 1"},
          {"selinux-allow", Scope::host, "allow svirt_t fusefs_t:file { read write };"}}},
        {"vd-se-usb-passthrough", "usb-passthrough", "", "usb", {"sdr-lab", "USB device", "<hostdev>"},
         {{"libvirt-xml", Scope::domain, "<hostdev mode='subsystem' type='usb' managed='yes'><source><vendor id='0xVVVV'/><product id='0xPPPP'/></source></hostdev>"},
          {"selinux-boolean", Scope::host, "setsebool -P virt_use_usb 1"}}},
        {"vd-se-execmem", "execmem", "", "memory-backing", {"legacy-dos", "execmem", "writable and executable"},
         {{"libvirt-xml", Scope::domain, "<seclabel type='dynamic' model='selinux' relabel='yes'/>"},
          {"selinux-boolean", Scope::host, "setsebool -P virt_use_execmem 1"},
          {"selinux-allow", Scope::host, "allow svirt_t self:process { execmem };"}}},
        {"vd-se-hugepages", "", "", "hugepages", {"hugetlbfs", "hugetlbfs_mount"},
         {{"selinux-allow", Scope::host, "allow svirt_t hugetlbfs_t:file { read write };"},
          {"host-change", Scope::host, "hugetlbfs_mount = [\"/dev/hugepages\"]"}}},
        {"vd-se-cloud-init-home", "", "", "cdrom-image", {"cloud-init seed", "user_home_t"},
         {{"selinux-fcontext", Scope::host, "semanage fcontext -a -t virt_content_t '/home/alice/VMs/web02/web02-cloud-init\\.iso' && restorecon -v '/home/alice/VMs/web02/web02-cloud-init.iso'"},
          {"host-change", Scope::host, "mv '/home/alice/VMs/web02/web02-cloud-init.iso' /var/lib/libvirt/boot/ && restorecon -v /var/lib/libvirt/boot/*"}}},
        {"vd-se-tap-vhost", "tap-vhost", "/dev/net/tun", "tap", {"router-lab", "libvirtd opens the tap"},
         {{"libvirt-xml", Scope::domain, "<interface type='ethernet'><target dev='tap-vm0' managed='no'/><model type='virtio'/><driver name='vhost'/></interface>"},
          {"selinux-allow", Scope::host, "allow svirt_t tun_tap_device_t:chr_file { open };"}}},
        // AppArmor, per VM
        {"vd-aa-memfd-fallback", "seed-001-memfd-tmp", "/tmp/memfd-tNpKSj", "memfd",
         {"instance-0000002a", "memfd_create()", "mkstemp", "failed to allocate shared memory"},
         {{"apparmor-rule", Scope::domain, "owner \"/tmp/memfd-??????\" rw,"},
          {"host-change", Scope::host, "apt install linux-generic-hwe-16.04"}}},
        {"vd-aa-memfd-tmpdir", "seed-001-memfd-tmp", "/var/tmp/", "memfd", {"temporary directory", "harmless"},
         {{"apparmor-rule", Scope::domain, "\"/var/tmp/\" r,"}}},
        {"vd-aa-9p-share", "seed-002-9p-share", "/srv/share/projects/notes.txt", "share-9p",
         {"devbox", "/srv/share/projects", "<qemu:commandline> -fsdev", "virt-aa-helper"},
         {{"libvirt-xml", Scope::domain, "<filesystem type='mount' accessmode='mapped'><source dir='/srv/share/projects'/><target dir='projects'/></filesystem>"},
          {"apparmor-rule", Scope::domain, "\"/srv/share/projects/{,**}\" rwl,"},
          {"apparmor-rule", Scope::host, "\"/srv/share/projects/{,**}\" rwl,"}}},
        {"vd-aa-vfio-group", "vfio-group", "", "vfio", {"gpu-passthru", "/dev/vfio/42", "<hostdev>"},
         {{"libvirt-xml", Scope::domain, "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0xBB' slot='0xSS' function='0xF'/></source></hostdev>"},
          {"apparmor-rule", Scope::domain, "\"/dev/vfio/42\" rw,"}}},
        {"vd-aa-tap-vhost", "tap-vhost", "", "vhost", {"nfv-test", "/dev/vhost-net", "file descriptors"},
         {{"libvirt-xml", Scope::domain, "<interface type='bridge'><source bridge='br0'/><model type='virtio'/><driver name='vhost'/></interface>"},
          {"apparmor-rule", Scope::domain, "\"/dev/vhost-net\" rw,"}}},
        {"vd-aa-usb-passthrough", "", "", "usb", {"USB device", "/dev/bus/usb/001/004"},
         {{"libvirt-xml", Scope::domain, "<hostdev mode='subsystem' type='usb' managed='yes'><source><vendor id='0xVVVV'/><product id='0xPPPP'/></source></hostdev>"},
          {"apparmor-rule", Scope::domain, "\"/dev/bus/usb/001/004\" rw,"}}},
        {"vd-aa-hugepages", "", "", "hugepages", {"hugetlbfs", "hugetlbfs_mount"},
         {{"apparmor-rule", Scope::domain, "owner \"/mnt/huge1G/qemu_back_mem.pc.ram.abc123\" rw,"},
          {"host-change", Scope::host, "hugetlbfs_mount = [\"/dev/hugepages\"]"}}},
        {"vd-aa-swtpm-unconfined-peer", "swtpm", "", "tpm", {"win11", "unconfined", "swtpm"},
         {{"host-change", Scope::host, "apparmor_parser -r /etc/apparmor.d/usr.bin.swtpm"}}},
        {"vd-aa-swtpm-socket", "", "", "tpm", {"swtpm", "emulated TPM"},
         {{"apparmor-rule", Scope::domain, "network,"},
          {"host-change", Scope::host, "apt install --only-upgrade libvirt-daemon-system"}}},
        {"vd-aa-swtpm-state", "swtpm", "", "tpm", {"swtpm", "state"},
         {{"apparmor-rule", Scope::daemon, "\"/var/lib/libvirt/swtpm/5f2e8c71-a4d3-4b09-9c6e-d18b3f0a7e25/tpm2/{,**}\" rwk,"}}},
        {"vd-aa-ovmf-nvram", "ovmf-nvram", "/srv/vms/fw-test/fw-test_VARS.fd", "nvram", {"fw-test", "<nvram>"},
         {{"libvirt-xml", Scope::domain, "<os firmware='efi'><loader readonly='yes' type='pflash'/><nvram template='/usr/share/OVMF/OVMF_VARS.fd'/></os>"},
          {"apparmor-rule", Scope::domain, "owner \"/srv/vms/fw-test/fw-test_VARS.fd\" rw,"}}},
        {"vd-aa-cloud-init-home", "cloud-init-home", "", "cdrom-image", {"jammy-dev", "cloud-init seed", "home"},
         {{"libvirt-xml", Scope::domain, "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/home/ubuntu/cloud-init/jammy-dev-seed.iso'/><target dev='sdb' bus='sata'/><readonly/></disk>"},
          {"apparmor-rule", Scope::domain, "\"/home/ubuntu/cloud-init/jammy-dev-seed.iso\" r,"},
          {"host-change", Scope::domain, "mv '/home/ubuntu/cloud-init/jammy-dev-seed.iso' /var/lib/libvirt/boot/"}}},
        // seed 003 is libvirt 1.2.12's own commit messages: its profile grants these (profile-fixes.tsv)
        {"vd-aa-libvirtd-packet-socket", "seed-003-libvirtd-profile", "", "network", {"raw packet socket", "nwfilter"},
         {{"host-change", Scope::daemon, "apt install --only-upgrade libvirt-daemon-system"},
          {"apparmor-rule", Scope::daemon, "network packet raw,"}}},
        {"vd-aa-libvirtd-ipc-lock", "seed-003-libvirtd-profile", "", "capability", {"ipc_lock", "Resource temporarily unavailable"},
         {{"host-change", Scope::daemon, "apt install --only-upgrade libvirt-daemon-system"},
          {"apparmor-rule", Scope::daemon, "capability ipc_lock,"}}},
        {"vd-aa-libvirtd-sys-pacct", "seed-003-libvirtd-profile", "", "capability", {"sys_pacct", "PCI"},
         {{"host-change", Scope::daemon, "apt install --only-upgrade libvirt-daemon-system"},
          {"apparmor-rule", Scope::daemon, "capability sys_pacct,"}}},
        {"vd-aa-libvirtd-vfio", "seed-003-libvirtd-profile", "/dev/vfio/12", "vfio", {"VFIO groups", "virt-aa-helper"},
         {{"apparmor-rule", Scope::daemon, "owner \"/dev/vfio/12\" rw,"}}},
        {"vd-aa-libvirtd-helper", "seed-003-libvirtd-profile", "/usr/lib/libvirt/libvirt_parthelper", "helper",
         {"libvirt_parthelper", "must be allowed to run"},
         {{"host-change", Scope::daemon, "apt install --only-upgrade libvirt-daemon-system"},
          {"apparmor-rule", Scope::daemon, "owner \"/usr/lib/libvirt/libvirt_parthelper\" ix,"}}},
        {"vd-aa-libvirtd-capability", "", "", "capability", {"capability mknod"},
         {{"apparmor-rule", Scope::daemon, "capability mknod,"}}},
    };
    return k_cases;
}

} // namespace

TEST_CASE("every cause rule has a golden case", "[golden][causes]")
{
    std::set<std::string> covered;
    for (const auto& c : cases()) {
        covered.insert(c.rule_id);
    }
    for (const auto& rule : bundled_kb().causes.rules()) {
        INFO("rule " << rule.id);
        CHECK(covered.count(rule.id) == 1);
    }
}

TEST_CASE("each cause rule fires on its fixture with its explanation and fixes", "[golden][causes]")
{
    for (const auto& c : cases()) {
        DYNAMIC_SECTION(c.rule_id << " on " << (*c.fixture ? c.fixture : "its sample") << " " << c.path)
        {
            const auto findings = run_case(c);
            const Finding* f = pick(findings, c);
            REQUIRE(f != nullptr);
            CHECK(f->device == c.device);
            for (const char* word : c.words) {
                INFO("explanation: " << f->explanation);
                CHECK(f->explanation.find(word) != std::string::npos);
            }
            REQUIRE(f->fixes.size() == c.fixes.size());
            for (std::size_t i = 0; i < c.fixes.size(); ++i) {
                INFO("fix " << i << " note: " << f->fixes[i].note);
                CHECK(f->fixes[i].kind == c.fixes[i].kind);
                CHECK(f->fixes[i].scope == c.fixes[i].scope);
                CHECK(f->fixes[i].text == c.fixes[i].text);
                CHECK_FALSE(f->fixes[i].note.empty());
                if (f->fixes[i].kind == "apparmor-rule" && f->fixes[i].scope == Scope::domain) {
                    CHECK(f->fixes[i].note.find(k_vm_profile_note) != std::string::npos);
                    CHECK(f->fixes[i].note.find("abstractions/libvirt-qemu.d/") != std::string::npos);
                    CHECK(f->fixes[i].file.rfind("/etc/apparmor.d/libvirt/libvirt-", 0) == 0);
                }
                if (f->fixes[i].kind == "apparmor-rule" && f->fixes[i].scope == Scope::daemon) {
                    CHECK(f->fixes[i].file.rfind("/etc/apparmor.d/local/", 0) == 0);
                }
            }
        }
    }
}
