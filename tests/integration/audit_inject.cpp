// A tiny libaudit client for the auditd integration test (test_integration_auditd.cpp):
//
//   virtdeny_audit_inject send TAG FIRST COUNT
//       sends COUNT USER_AVC denials (type 1107) to the kernel, numbered FIRST..FIRST+COUNT-1:
//       even numbers in SELinux wording, odd numbers in AppArmor wording, each on its own path
//       /var/lib/libvirt/images/virtdeny-integration/TAG/{se,aa}-N.img, so that every one can
//       be told apart in virtdeny's output. Prints "sent N"; exit 1 at the first refusal.
//   virtdeny_audit_inject reset-pid
//       clears the kernel's audit daemon registration left by an auditd that died without
//       unregistering (the kernel first checks that the registered daemon is really gone).
//
// The kernel adds its own header (pid= uid= auid= ses= msg='...') and libaudit appends
// exe= sauid= hostname= addr= terminal=, as for the USER_AVC records dbus-daemon writes.
#include <libaudit.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

namespace {

// a libvirt domain's AppArmor profile is named after its UUID
const char* const k_profile = "libvirt-6a1d2f9e-0b7c-4e55-9d38-1c2b3a4d5e6f";

std::string denial(const std::string& tag, long id)
{
    const std::string path = "/var/lib/libvirt/images/virtdeny-integration/" + tag + "/" +
                             (id % 2 == 0 ? "se-" : "aa-") + std::to_string(id) + ".img";
    if (id % 2 == 0) {
        return "avc:  denied  { read } for  pid=" + std::to_string(40000 + id % 1000) +
               " comm=\"qemu-kvm\" path=\"" + path + "\" dev=\"dm-0\" ino=" + std::to_string(100000 + id) +
               " scontext=system_u:system_r:svirt_t:s0:c12,c345 tcontext=system_u:object_r:default_t:s0"
               " tclass=file permissive=0";
    }
    return "apparmor=\"DENIED\" operation=\"open\" profile=\"" + std::string(k_profile) + "\" name=\"" + path +
           "\" pid=" + std::to_string(41000 + id % 1000) +
           " comm=\"qemu-system-x86\" requested_mask=\"r\" denied_mask=\"r\" fsuid=64055 ouid=64055";
}

int usage()
{
    std::fprintf(stderr, "usage: virtdeny_audit_inject send TAG FIRST COUNT | reset-pid\n");
    return 2;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        return usage();
    }
    const std::string command = argv[1];
    if (command != "send" && command != "reset-pid") {
        return usage();
    }
    if (command == "send" && argc != 5) {
        return usage();
    }
    const int fd = audit_open();
    if (fd < 0) {
        std::fprintf(stderr, "virtdeny_audit_inject: audit_open: %s\n", std::strerror(errno));
        return 1;
    }
    if (command == "reset-pid") {
        const int rc = audit_set_pid(fd, 0, WAIT_YES);
        audit_close(fd);
        if (rc < 0) {
            std::fprintf(stderr, "virtdeny_audit_inject: audit_set_pid 0: %s\n", std::strerror(-rc));
            return 1;
        }
        return 0;
    }
    const std::string tag = argv[2];
    const long first = std::strtol(argv[3], nullptr, 10);
    const long count = std::strtol(argv[4], nullptr, 10);
    long sent = 0;
    for (long id = first; id < first + count; ++id) {
        const std::string message = denial(tag, id);
        // hostname, addr and tty unknown ("?"), uid 0; libaudit waits for the kernel's ack
        // (> 0: its sequence number; 0: libaudit hid a refusal)
        const int rc = audit_log_user_avc_message(fd, AUDIT_USER_AVC, message.c_str(), nullptr, nullptr, nullptr, 0);
        if (rc <= 0) {
            std::fprintf(stderr, "virtdeny_audit_inject: USER_AVC %ld refused: %s\n", id,
                         rc < 0 ? std::strerror(-rc) : "the kernel has no audit support or no permission");
            break;
        }
        ++sent;
    }
    audit_close(fd);
    std::printf("sent %ld\n", sent);
    return sent == count ? 0 : 1;
}
