// The generated SELinux policy tables (issue 14): the TE model of the virt domains
// (rules/selinux/virt-allow.tsv, built from fedora-selinux/selinux-policy fd1d99621 by
// scripts/gen-selinux-te-model), its MCS constraints, and the upstream fixes table
// (rules/selinux/policy-fixes.tsv from the selinux-policy git history by
// scripts/gen-policy-fixes). Facts asserted here were checked against the policy source
// and git history (see the scripts' headers).
#include "../rules_tables.hpp"

#include <analyzer/kb/access_model.hpp>
#include <analyzer/kb/mcs_expression.hpp>
#include <analyzer/kb/policy_fixes.hpp>
#include <analyzer/kb/tsv_table.hpp>
#include <analyzer/kb/virt_allow_table.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>

#ifndef VIRTDENY_SOURCE_DIR
#error "VIRTDENY_SOURCE_DIR must name the project root"
#endif

using virtdeny::kb::PolicyFixes;
using virtdeny::kb::VirtAllowTable;

namespace {

const VirtAllowTable& model()
{
    return virtdeny::test::bundled_table<VirtAllowTable>("selinux");
}

const PolicyFixes& fixes()
{
    return virtdeny::test::bundled_table<PolicyFixes>("selinux");
}

bool has(const std::vector<std::string>& v, const std::string& s)
{
    return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("virt TE model: the tables load and are not trivially small", "[kb][selinux-model]")
{
    CHECK(model().rule_count() > 1000);
    CHECK(model().constraint_count() > 10);
}

TEST_CASE("virt TE model: svirt_tcg_t may map svirt_image_t files at the corpus commit",
          "[kb][selinux-model]")
{
    // fd1d99621 (2024-10-24) already contains a809f095d (virt_domain, not only svirt_t, maps
    // svirt_image_t files): seed 000's denial cannot happen with this policy.
    const auto v = model().lookup("svirt_tcg_t", "svirt_image_t", "file", "map");
    CHECK(v.known_source);
    CHECK(v.allowed);
    REQUIRE_FALSE(v.rules.empty());
    CHECK(v.rules.front()->via == "virt_domain");
}

TEST_CASE("virt TE model: boolean-only accesses report the boolean", "[kb][selinux-model]")
{
    // NFS images: opening an nfs_t file needs virt_use_nfs (read/write on an open fd does not).
    const auto nfs = model().lookup("svirt_t", "nfs_t", "file", "open");
    CHECK_FALSE(nfs.allowed);
    CHECK(has(nfs.conditions, "virt_use_nfs"));
    CHECK(model().lookup("svirt_t", "nfs_t", "file", "read").allowed);
    // map of a home file: only the every-domain boolean
    const auto home = model().lookup("svirt_tcg_t", "user_home_t", "file", "map");
    CHECK_FALSE(home.allowed);
    CHECK(has(home.conditions, "domain_can_mmap_files"));
}

TEST_CASE("virt TE model: what the policy does not grant the VM domains", "[kb][selinux-model]")
{
    const auto home_read = model().lookup("svirt_t", "user_home_t", "file", "read");
    CHECK_FALSE(home_read.allowed);
    CHECK(home_read.conditions.empty());
    // default-labelled images are read-only for a VM
    CHECK(model().lookup("svirt_t", "virt_image_t", "file", "read").allowed);
    const auto image_write = model().lookup("svirt_t", "virt_image_t", "file", "write");
    CHECK_FALSE(image_write.allowed);
    CHECK(image_write.conditions.empty());
    // entry points: qemu_exec_t is one, usr_t is not
    CHECK(model().lookup("svirt_t", "qemu_exec_t", "file", "entrypoint").allowed);
    const auto usr = model().lookup("svirt_t", "usr_t", "file", "entrypoint");
    CHECK_FALSE(usr.allowed);
    CHECK(usr.conditions.empty());
    // TCG needs execmem: granted to svirt_tcg_t by name
    CHECK(model().lookup("svirt_tcg_t", "svirt_tcg_t", "process", "execmem").allowed);
    CHECK_FALSE(model().lookup("svirt_t", "svirt_t", "process", "execmem").allowed);
    // an unknown source is said so, not "denied"
    CHECK_FALSE(model().lookup("httpd_t", "svirt_image_t", "file", "read").known_source);
}

TEST_CASE("virt TE model: MCS constraints", "[kb][selinux-model]")
{
    const auto read = model().mcs_constraints("file", "read");
    REQUIRE_FALSE(read.empty());
    CHECK(read.front()->expression.find("mcs_constrained_type") != std::string::npos);
    CHECK_FALSE(model().mcs_constraints("file", "write").empty());
    CHECK_FALSE(model().mcs_constraints("process", "ptrace").empty());
    // map and open are not MCS-constrained: a map denial is never a category mismatch
    CHECK(model().mcs_constraints("file", "map").empty());
    CHECK(model().mcs_constraints("file", "open").empty());
    // file create/relabelto is bound by three constraints (policy/mcs), all must hold
    CHECK(model().mcs_constraints("file", "create").size() == 3);
    CHECK(model().mcs_constrained_type("svirt_t"));
    CHECK(model().mcs_constrained_type("svirt_tcg_t"));
    CHECK(model().mcs_constrained_type("svirt_lxc_net_t"));  // alias of container_t
    CHECK_FALSE(model().mcs_constrained_type("virtqemud_t"));
    CHECK_FALSE(model().mcs_constrained_type("virtd_t"));
}

TEST_CASE("virt TE model: an MCS denial is one the policy's own constraint refuses", "[kb][selinux-model]")
{
    using virtdeny::kb::mcs_denies;
    CHECK(mcs_denies(model(), "system_u:system_r:svirt_t:s0:c1,c2", "system_u:object_r:svirt_image_t:s0:c3,c4", "file",
                     {"read", "write"}));
    CHECK_FALSE(mcs_denies(model(), "system_u:system_r:svirt_t:s0:c1,c2", "system_u:object_r:svirt_image_t:s0:c1,c2",
                           "file", {"read"}));
    // s0 objects are dominated by every VM (shared, read-only images)
    CHECK_FALSE(mcs_denies(model(), "system_u:system_r:svirt_t:s0:c1,c2", "system_u:object_r:virt_content_t:s0",
                           "file", {"read"}));
    // map and open carry no constraint: categories cannot be what denied them
    CHECK_FALSE(mcs_denies(model(), "system_u:system_r:svirt_tcg_t:s0:c23,c892",
                           "system_u:object_r:svirt_image_t:s0:c1,c2", "file", {"map"}));
    // a daemon type is not in mcs_constrained_type
    CHECK_FALSE(mcs_denies(model(), "system_u:system_r:virtqemud_t:s0-s0:c0.c1023",
                           "system_u:object_r:svirt_image_t:s0:c3,c4", "file", {"read"}));
    // a container (container_t, and its alias svirt_lxc_net_t) is bound the same way
    CHECK(mcs_denies(model(), "system_u:system_r:svirt_lxc_net_t:s0:c5,c6", "system_u:object_r:container_file_t:s0:c7",
                     "file", {"write"}));
    // creating a file at a range level fails "l2 == h2" even when h1 dominates
    CHECK(mcs_denies(model(), "system_u:system_r:svirt_t:s0:c1,c2", "system_u:object_r:svirt_image_t:s0-s0:c1",
                     "file", {"create"}));
    // signal between two VMs of other categories: process constraint
    CHECK(mcs_denies(model(), "system_u:system_r:svirt_t:s0:c1,c2", "system_u:system_r:svirt_t:s0:c3,c4", "process",
                     {"signal"}));
}

TEST_CASE("mcs expressions: the forms of policy/mcs, and unknown forms give no answer", "[kb][selinux-model]")
{
    using virtdeny::kb::mcs_expression_holds;
    using virtdeny::kb::McsSide;
    using virtdeny::kb::parse_mcs_high;
    using virtdeny::kb::parse_mcs_low;
    const auto side = [](const char* level, bool constrained) {
        McsSide s;
        s.low = parse_mcs_low(level);
        s.high = parse_mcs_high(level);
        s.constrained = constrained;
        return s;
    };
    const McsSide vm = side("s0:c1,c2", true);
    const McsSide other = side("s0:c3", true);
    const McsSide mine = side("s0:c1", false);
    CHECK(mcs_expression_holds("h1 dom h2 or ( t1 != mcs_constrained_type )", vm, mine) == true);
    CHECK(mcs_expression_holds("h1 dom h2 or ( t1 != mcs_constrained_type )", vm, other) == false);
    CHECK(mcs_expression_holds("h1 dom h2 or ( t1 != mcs_constrained_type )", side("s0:c1", false), other) == true);
    // "and" binds tighter than "or": (l1 dom l2) or ((t1 != ...) and (t2 != ...))
    CHECK(mcs_expression_holds("l1 dom l2 or ( t1 != mcs_constrained_type ) and ( t2 != mcs_constrained_type )",
                               side("s0:c1", false), other) == false);
    CHECK(mcs_expression_holds("h1 dom h2 and ( l2 == h2 ) or ( t1 != mcs_constrained_type )", vm,
                               side("s0-s0:c1", false)) == false);
    CHECK(mcs_expression_holds("h1 dom h2 and ( l2 == h2 ) or ( t1 != mcs_constrained_type )", vm, mine) == true);
    CHECK_FALSE(mcs_expression_holds("r1 == r2 or ( t1 != mcs_constrained_type )", vm, other).has_value());
    CHECK_FALSE(mcs_expression_holds("h1 dom h2 or ( t1 != other_attribute )", vm, other).has_value());
    CHECK_FALSE(mcs_expression_holds("h1 dom h2 or (", vm, other).has_value());
    CHECK_FALSE(mcs_expression_holds("h1 dom h2 extra", vm, other).has_value());
    CHECK_FALSE(mcs_expression_holds("h1 dom h2", side("bogus", true), other).has_value());
}

TEST_CASE("policy fixes: seed 000's AVC is fixed by a809f095d, first in v40.18",
          "[kb][policy-fixes]")
{
    const auto* fix = fixes().first_fix("svirt_tcg_t", "svirt_image_t", "file", "map");
    REQUIRE(fix != nullptr);
    CHECK(fix->commit == "a809f095d");
    CHECK(fix->first_tag == "v40.18");
    CHECK(fix->branch == "rawhide");
    CHECK(fix->subject == "Allow svirt_tcg_t map svirt_image_t files");
    // backports carry their own commit and first tag (Fedora 39: 39.7)
    const auto rows = fixes().fixes_for("svirt_tcg_t", "svirt_image_t", "file", "map");
    const auto f39 = std::find_if(rows.begin(), rows.end(),
                                  [](const auto* r) { return r->branch == "f39"; });
    REQUIRE(f39 != rows.end());
    CHECK((*f39)->commit == "fa52f807a");
    CHECK((*f39)->first_tag == "v39.7");
    // the rule row is written for virt_domain: found through membership
    const auto member = [](std::string_view type, std::string_view attr) {
        return model().has_attribute(type, attr)
            || (attr == "virt_domain" && (type == "svirt_t" || type == "svirt_tcg_t"));
    };
    const auto with_rules = fixes().fixes_for("svirt_tcg_t", "svirt_image_t", "file", "map", member);
    CHECK(std::any_of(with_rules.begin(), with_rules.end(), [](const auto* r) {
        return r->kind == "rule" && r->source == "virt_domain" && r->commit == "a809f095d";
    }));
    CHECK(fixes().first_fix("svirt_tcg_t", "svirt_image_t", "file", "nosuchperm") == nullptr);
}

TEST_CASE("policy tables: bad input is an error with file and line, never a crash",
          "[kb][policy-fixes][selinux-model]")
{
    std::string error;
    PolicyFixes pf;
    CHECK_FALSE(pf.load_text("# c\nnot the header\n", "x.tsv", error));
    CHECK(error.rfind("x.tsv:2:", 0) == 0);
    const std::string header =
        "kind\tsource\ttarget\tclass\tperms\tcondition\tcommit\tdate\tfirst_tag\tbranch\tsubject\n";
    CHECK_FALSE(pf.load_text(header + "rule\tsvirt_t\n", "x.tsv", error));
    CHECK(error.rfind("x.tsv:2:", 0) == 0);
    CHECK_FALSE(pf.load_text(header + "other\ts\tt\tfile\tmap\t\tabc\td\tv1\trawhide\tsubj\n", "x.tsv",
                             error));
    CHECK_FALSE(pf.load_text(header + "rule\ts\tt\tfile\tmap\t\tzz\td\tv1\trawhide\tsubj\n", "x.tsv",
                             error));
    CHECK(pf.load_text(header + "rule\ts\tt\tfile\tmap\t\tabc\td\tv1\trawhide\tsubj\n", "x.tsv", error));
    CHECK(pf.size() == 1);
    VirtAllowTable t;
    CHECK_FALSE(t.load_allow_text("", "y.tsv", error));
    CHECK_FALSE(t.load_allow_text("source\tvia\ttarget\tclass\tperms\tcondition\na\tb\tc\td\t\t\n",
                                  "y.tsv", error));
    CHECK(error.rfind("y.tsv:2:", 0) == 0);
    CHECK_FALSE(t.load_mcs_text("class\tperms\texpression\nfile\tread\n", "z.tsv", error));
}

TEST_CASE("virt-aa-helper facts: what it writes per device", "[kb][apparmor-facts]")
{
    // rules/apparmor/virt-aa-helper.tsv, hand-derived from libvirt's virt-aa-helper.c
    const std::string path = std::string(VIRTDENY_SOURCE_DIR) + "/rules/apparmor/virt-aa-helper.tsv";
    std::string text, error;
    REQUIRE(virtdeny::kb::tsv::read_file(path, text));
    std::map<std::string, std::vector<std::string>> rows;
    const bool ok = virtdeny::kb::tsv::for_each_row(
        text, path, "device\txml\tpath\tperms\trecursive\tdeny_w\tnotes", error,
        [&](const std::vector<std::string_view>& f, const std::string& where, std::string& err) {
            if (rows.count(std::string(f[0])) != 0) {
                err = where + ": duplicate device";
                return false;
            }
            rows[std::string(f[0])] = std::vector<std::string>(f.begin(), f.end());
            return true;
        });
    INFO(error);
    REQUIRE(ok);
    // a share: rwl on the whole tree (the next denial after a bare w would be r or l)
    REQUIRE(rows.count("filesystem") == 1);
    CHECK(rows["filesystem"][3] == "rwl");
    CHECK(rows["filesystem"][4] == "yes");
    CHECK(rows["filesystem-readonly"][3] == "r");
    CHECK(rows["nvdimm"][3] == "rw");
    CHECK(rows["disk"][3] == "rwk");
    CHECK(rows["disk-backing"][3] == "rk");
    CHECK(rows["hostdev-pci-vfio"][2].find("/dev/vfio/[0-9]*") != std::string::npos);
    CHECK(rows["vhost-net"][2] == "/dev/vhost-net");
    // the header states that glob characters are not escaped (seed 004)
    CHECK(text.find("NO escaping of AppArmor pattern characters") != std::string::npos);
}
