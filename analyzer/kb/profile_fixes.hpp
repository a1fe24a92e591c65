// rules/apparmor/profile-fixes.tsv: rules libvirt's own AppArmor profiles gained, with the
// commit and the first libvirt release holding each (hand-derived from stored libvirt material,
// see the table's header). A denial the current upstream profile allows by exactly such a rule
// gets "upgrade libvirt" as its first fix, with the release said.
#pragma once

#include <analyzer/model/finding.hpp>
#include <analyzer/model/fix.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace virtdeny::kb {

struct ProfileFix
{
    std::string profile;    // usr.sbin.libvirtd, usr.sbin.virtqemud, libvirt-qemu, ...
    std::string topic;
    std::string rule;       // the rule line as upstream wrote it
    std::string commit;     // 12 hex digits, or "-"
    std::string date;
    std::string first_tag;  // vX.Y.Z, or "-" (not established: never said as "upgrade to")
    std::string subject;
    std::string source;
};

class ProfileFixes
{
public:
    static constexpr std::string_view k_file = "profile-fixes.tsv";

    // Loads dir/profile-fixes.tsv (rules/apparmor); false with "file:line: why" on bad input.
    bool load(const std::string& dir, std::string& error);
    bool load_text(std::string_view text, std::string_view name, std::string& error);

    // The row with an established release whose rule, in the profile the finding was denied
    // by, allows everything the grant (kb::apparmor_rule_grant of the finding) needs.
    const ProfileFix* covering(const model::Finding& finding, const model::Grant& need) const;

    std::size_t size() const { return m_rows.size(); }

private:
    std::vector<ProfileFix> m_rows;
};

// The profile file name a finding's profile comes from, as the table names it: libvirt-<uuid>
// -> libvirt-qemu (the abstraction every VM profile includes), a daemon -> the file under
// /etc/apparmor.d that kb::apparmor_profile_file names ("libvirtd" -> usr.sbin.libvirtd).
std::string libvirt_profile_file(const model::Finding& finding);

} // namespace virtdeny::kb
