// The device vocabulary: a kind's name and what the writers and the advisor do with it. The
// kinds and their hints come from rules/devices/devices.yaml (`kinds:`), never from kind
// names in the code: a new kind is a YAML entry (and its classification rules).
#pragma once

#include <string>

namespace virtdeny::model {

// The kind every finding has until a rule or the domain XML says more.
inline constexpr const char* k_unknown_device = "other";

// Writer and advisor behaviour of a device kind (devices.yaml `kinds[].hints`). All false
// for an unknown kind.
struct DeviceHints
{
    // A directory tree shared with the guest (9p, virtiofs): a SELinux relabel of a denied
    // directory covers the tree below it.
    bool shared_tree = false;
    // QEMU itself opens files anywhere below the share's root: the AppArmor rule covers the
    // share root's tree ("root/{,**}"), not the one path.
    bool share_root = false;
    // Content the VM only reads (ISO, kernel, firmware): a read-only denial is relabeled
    // virt_content_t rather than svirt_image_t.
    bool read_only_content = false;
    // A guest image that libvirt labels per VM: an AppArmor write rule for it carries the
    // warning about libvirt's own rules and deny rules.
    bool guest_image = false;
    // A disk several VMs may use at once: <shareable/> in the <disk> is a possible fix.
    bool shareable_disk = false;
    // QEMU's memfd fallback (<tmpdir>/memfd-XXXXXX from mkstemp): an owner rule with the
    // six-character glob, as a name changes at every start.
    bool mkstemp_name = false;

    bool operator==(const DeviceHints& o) const
    {
        return shared_tree == o.shared_tree && share_root == o.share_root && read_only_content == o.read_only_content
            && guest_image == o.guest_image && shareable_disk == o.shareable_disk && mkstemp_name == o.mkstemp_name;
    }
};

// One kind of the vocabulary.
struct DeviceKind
{
    std::string name;
    std::string desc;
    DeviceHints hints;
};

} // namespace virtdeny::model
