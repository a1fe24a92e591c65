// audit2why from the binary policy of Debian's selinux-policy-default (the reference policy):
// missing allow, boolean (which, and its state there), MCS constraint, unknown names.
// Skipped visibly where that package is not installed (scripts/deps --test installs it).
#include "../policy_support.hpp"

#include <analyzer/kb/policy_query.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

using virtdeny::kb::PolicyAnswer;
using virtdeny::kb::PolicyBoolean;
using virtdeny::kb::PolicyQuery;
using virtdeny::kb::PolicyVerdict;

namespace {

const PolicyQuery& policy()
{
    static const std::unique_ptr<PolicyQuery> loaded = [] {
        std::string error;
        auto q = PolicyQuery::open(virtdeny::test::debian_policy_file(), error);
        INFO(error);
        REQUIRE(q);
        return q;
    }();
    return *loaded;
}

const PolicyBoolean* find_boolean(const PolicyAnswer& a, const std::string& name)
{
    const auto it = std::find_if(a.booleans.begin(), a.booleans.end(), [&](const auto& b) { return b.name == name; });
    return it == a.booleans.end() ? nullptr : &*it;
}

// Contexts as QEMU's AVCs carry them on a libvirt host.
const std::string k_vm = "system_u:system_r:svirt_t:s0:c1,c2";

} // namespace

TEST_CASE("policy query: reads Debian's binary policy and its booleans' states", "[kb][policy]")
{
    REQUIRE_DEBIAN_POLICY();
    const PolicyQuery& q = policy();
    CHECK(q.path() == virtdeny::test::debian_policy_file());
    CHECK(q.version() >= 30);
    CHECK(q.mls());                    // refpolicy is built with MCS
    CHECK(q.boolean_count() > 100);
    CHECK(q.boolean_state("virt_use_nfs") == 0);
    CHECK(q.boolean_state("authlogin_pam") == 1);
    CHECK(q.boolean_state("domain_can_mmap_files") == -1);  // a Fedora boolean, not in refpolicy
}

TEST_CASE("policy query: svirt_t on nfs_t files is allowed only by a boolean, off by default", "[kb][policy]")
{
    REQUIRE_DEBIAN_POLICY();
    // AVC: { read open } for pid=318841 comm="qemu-kvm" ... tcontext=system_u:object_r:nfs_t:s0 tclass=file
    const PolicyAnswer a = policy().check(k_vm, "system_u:object_r:nfs_t:s0", "file", {"read", "open"});
    CHECK(a.verdict == PolicyVerdict::boolean);
    CHECK(a.te_denied);
    CHECK_FALSE(a.constraint_denied);
    const PolicyBoolean* b = find_boolean(a, "virt_use_nfs");
    REQUIRE(b);
    CHECK_FALSE(b->current);
    CHECK_FALSE(b->constraint_remains);
    // what else it opens: rules the policy itself switches on, the VM attribute among them
    REQUIRE_FALSE(b->opens.empty());
    CHECK(std::any_of(b->opens.begin(), b->opens.end(), [](const auto& g) {
        return g.source == "virt_domain" && g.target == "nfs_t" && g.tclass == "file";
    }));
    // each boolean named really flips the answer: none is listed that the policy does not have
    for (const PolicyBoolean& x : a.booleans) {
        CHECK(policy().boolean_state(x.name) == (x.current ? 1 : 0));
    }
    // narrowest first
    for (std::size_t i = 1; i < a.booleans.size(); ++i) {
        CHECK(a.booleans[i - 1].opens.size() <= a.booleans[i].opens.size());
    }
}

TEST_CASE("policy query: an image with another VM's categories is an MCS constraint, not a missing allow", "[kb][policy]")
{
    REQUIRE_DEBIAN_POLICY();
    const PolicyAnswer a = policy().check(k_vm, "system_u:object_r:svirt_image_t:s0:c3,c4", "file", {"read"});
    CHECK(a.verdict == PolicyVerdict::constraint);
    CHECK_FALSE(a.te_denied);  // the type rules allow svirt_t to read svirt_image_t
    CHECK(a.constraint_denied);
    CHECK(a.mls);              // with the VM's own categories it would pass
    CHECK(a.booleans.empty());
    CHECK(a.constraint_text.find("mlsconstrain file") != std::string::npos);

    // the same file with the VM's own categories: allowed
    const PolicyAnswer own = policy().check(k_vm, "system_u:object_r:svirt_image_t:s0:c1,c2", "file", {"read"});
    CHECK(own.verdict == PolicyVerdict::allowed);
    CHECK_FALSE(own.constraint_denied);
}

TEST_CASE("policy query: svirt_t reading user_home_t is a plain missing allow rule", "[kb][policy]")
{
    REQUIRE_DEBIAN_POLICY();
    const PolicyAnswer a = policy().check(k_vm, "unconfined_u:object_r:user_home_t:s0", "file", {"read", "open"});
    CHECK(a.verdict == PolicyVerdict::missing_allow);
    CHECK(a.te_denied);
    CHECK_FALSE(a.constraint_denied);
    CHECK(a.booleans.empty());
    CHECK_FALSE(a.permissive_type);
}

TEST_CASE("policy query: names the policy lacks are reported, not guessed", "[kb][policy]")
{
    REQUIRE_DEBIAN_POLICY();
    // Fedora's TCG type (seed 000) does not exist in the reference policy
    const PolicyAnswer tcg = policy().check("system_u:system_r:svirt_tcg_t:s0:c23,c892",
                                            "unconfined_u:object_r:user_home_t:s0", "file", {"map"});
    CHECK(tcg.verdict == PolicyVerdict::unknown_type);
    CHECK_FALSE(tcg.evaluated());
    CHECK(tcg.unknown == std::vector<std::string>{"type svirt_tcg_t"});

    const PolicyAnswer target = policy().check(k_vm, "system_u:object_r:virt_qemu_ga_data_t:s0", "file", {"read"});
    CHECK(target.verdict == PolicyVerdict::unknown_type);
    CHECK(target.unknown == std::vector<std::string>{"type virt_qemu_ga_data_t"});

    // a Fedora xguest session: refpolicy has the xguest_r role and xguest_t type, not the xguest_u user
    const PolicyAnswer guest = policy().check("xguest_u:xguest_r:xguest_t:s0", "system_u:object_r:nfs_t:s0",
                                              "file", {"read"});
    CHECK(guest.verdict == PolicyVerdict::invalid_context);
    CHECK(guest.unknown == std::vector<std::string>{"user xguest_u"});

    // known names, but the role may not have the type: not a valid context in this policy
    const PolicyAnswer role = policy().check("system_u:user_r:svirt_t:s0:c1,c2", "system_u:object_r:nfs_t:s0",
                                             "file", {"read"});
    CHECK(role.verdict == PolicyVerdict::invalid_context);
    CHECK(role.unknown == std::vector<std::string>{"context system_u:user_r:svirt_t:s0:c1,c2"});

    const PolicyAnswer cls = policy().check("unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023",
                                            "unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023",
                                            "user_namespace", {"create"});
    CHECK(cls.verdict == PolicyVerdict::unknown_class);

    const PolicyAnswer perm = policy().check(k_vm, "system_u:object_r:nfs_t:s0", "file", {"read", "frobnicate"});
    CHECK(perm.verdict == PolicyVerdict::unknown_permission);
    CHECK(perm.unknown == std::vector<std::string>{"permission frobnicate of class file"});
}

TEST_CASE("policy query: a file that is no binary policy is refused with a reason", "[kb][policy]")
{
    std::string error;
    CHECK_FALSE(PolicyQuery::open("/nonexistent/policy.33", error));
    CHECK(error.find("/nonexistent/policy.33") != std::string::npos);
    error.clear();
    const std::string not_policy = std::string(VIRTDENY_SOURCE_DIR) + "/fixtures/nfs-image/input.log";
    CHECK_FALSE(PolicyQuery::open(not_policy, error));
    CHECK(error.find("not a binary SELinux policy") != std::string::npos);
}

TEST_CASE("policy query: without selinuxfs there is no loaded policy, quietly", "[kb][policy]")
{
    if (std::filesystem::exists("/sys/fs/selinux/enforce")) {
        WARN("SKIPPED: SELinux is enabled here; the loaded policy is used");
        auto loaded = PolicyQuery::open_loaded();
        CHECK(loaded);
        return;
    }
    CHECK_FALSE(PolicyQuery::open_loaded());
}
