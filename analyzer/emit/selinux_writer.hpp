// SELinux rules for findings, narrowest first: a relabel (semanage fcontext + restorecon),
// a libvirt XML change, a per-VM module with a type of the VM's own holding only the denied
// accesses, booleans last (those come from the knowledge base).
#pragma once

#include <analyzer/model/finding.hpp>

#include <optional>
#include <string>
#include <vector>

namespace virtdeny::emit {

// "allow svirt_tcg_t user_home_t:file { map };" or empty when the contexts are unusable.
std::string selinux_allow_rule(const model::Finding& finding);

// A word safe as a type / class / permission in a .te module: [A-Za-z0-9_], not starting
// with a digit.
bool is_te_identifier(const std::string& s);

// The relabel fix for a file object of a VM, when a relabel is the right fix (the target
// type is not a virt image type already). Kind "selinux-fcontext", scope domain.
std::optional<model::Fix> selinux_relabel_fix(const model::Finding& finding);

// The VM's own type name ("svirt_<vm>_t"), from the VM name (or uuid); always an identifier.
std::string selinux_vm_type(const std::string& vm_name, const std::string& vm_uuid);

// A module name for a VM ("virtdeny_<vm>") or the host ("virtdeny_host").
std::string selinux_module_name(const std::string& vm_name, const std::string& vm_uuid);

// libvirt <seclabel> that runs the VM under its own type.
std::string selinux_seclabel_xml(const std::string& own_type);

struct SelinuxModule
{
    std::string name;       // module name == file base name
    std::string own_type;   // empty for a host module
    std::string te;         // .te source
    std::string cil;        // .cil source
    std::vector<std::string> rules;  // the allow rules, one per (target, class)
};

// A module with only the denied accesses of findings (SELinux ones with usable contexts).
// With own_type, the VM's qemu types (svirt_t, svirt_tcg_t, svirt_kvm_t) become own_type,
// declared in the module as a virt domain.
SelinuxModule selinux_module(const std::string& name, const std::string& own_type,
                             const std::vector<const model::Finding*>& findings);

} // namespace virtdeny::emit
