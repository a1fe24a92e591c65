// Template expansion for cause rules. Placeholders are {name}; any other brace text
// ({,**}) is literal. Raw placeholders ({path}, {vm}, {comm}, ...) put log text as it is and
// are allowed only in prose (explanations, notes). Fix texts may use only placeholders whose
// value is checked here or escaped where emit/fix_text writes it ({apparmor_rule},
// {path_quoted}, {selinux_allow}, identifier-checked types, ...), so log text can never
// inject a rule or a shell command. A fix's text is bound to values (model::TextPart), not
// written, here.
#pragma once

#include <analyzer/correlate/domain_xml.hpp>
#include <analyzer/model/finding.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace virtdeny::kb {

// prose: explanations and notes; fix_file: where a fix goes (checked values, written as
// they are); fix_text: what to put there or run.
enum class TemplateUse { prose, fix_file, fix_text };

// Checks that every placeholder is known and allowed for use; sets error when not.
bool check_template(std::string_view text, TemplateUse use, std::string& error);

struct TemplateContext
{
    const model::Finding& finding;
    const correlate::DomainXmlIndex* xml = nullptr;
    std::string needs_apparmor;         // AppArmor letters the rule's device needs beyond the denied ones
    model::Grant* grant = nullptr;      // where a rule placeholder records what it grants
};

// Binds a checked template to this finding's values: its literal text and checked values,
// and the values emit/fix_text quotes (a path as a shell word, ...) or writes from the grant
// (the rule placeholders, which record it in context.grant). nullopt when a placeholder has
// no safe value for this finding (no writable rule, a type that is not an identifier, a share
// root too broad): the caller then drops that fix.
std::optional<std::vector<model::TextPart>> bind_template(std::string_view text, const TemplateContext& context);

// A checked prose or fix_file template as text; nullopt as for bind_template.
std::optional<std::string> expand_template(std::string_view text, const TemplateContext& context);

// The domain XML of the finding's VM (by uuid, name, or a device path), or null.
const correlate::DomainInfo* domain_info(const model::Finding& finding, const correlate::DomainXmlIndex* xml);

// The source path of the domain XML device (file, or tree) that holds the finding's path;
// empty when no XML names it.
std::string xml_device_source(const model::Finding& finding, const correlate::DomainXmlIndex* xml);

// The share directory of a finding: the domain XML tree device containing the path, else
// the denied path's directory (the path itself when it names a directory, "/x/"). Empty
// when unknown or too broad to offer (/, a top-level dir, /tmp, a whole home directory).
std::string share_root(const model::Finding& finding, const correlate::DomainXmlIndex* xml);
// The rule `"/dir/{,**}" rw,` for a share root, glob characters of the name escaped; kind
// none when there is none. needs: letters the device needs beyond the denied ones.
model::Grant share_tree_grant(const model::Finding& finding, const correlate::DomainXmlIndex* xml,
                              const std::string& needs = {});
// `owner "/mnt/huge1G/libvirt/qemu/[0-9]*-NAME/**" rw,`: the VM's own hugepage directory on that
// mount, whatever the domain id of the next start; kind none when the path is not one.
model::Grant hugepages_grant(const model::Finding& finding, const std::string& needs = {});
// The hugetlbfs mount of a hugepage file (before /libvirt/qemu/), when its name is plain.
std::string hugetlbfs_mount_of(const std::string& path);
// `owner "/tmp/memfd-??????" rw,` (or "/tmp/memfd-UUID-*" when QEMU names files per VM), for
// a memfd fallback file; kind none when the path is not one.
model::Grant memfd_grant(const model::Finding& finding, const std::string& needs = {});

} // namespace virtdeny::kb
