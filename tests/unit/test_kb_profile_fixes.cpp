// rules/apparmor/profile-fixes.tsv (issue 14 item 4): rules libvirt's own AppArmor profiles
// gained, with the commit and the first libvirt release. Hand-derived from stored libvirt
// material (see the table's header and scripts/gen-apparmor-fixes); the facts asserted here
// are the ones the table's source column supports: libvirt 1.2.12's release notes list the
// three daemon-profile commits whose message quotes seed 003's denials.
#include "../rules_tables.hpp"

#include <analyzer/kb/apparmor_grant.hpp>
#include <analyzer/kb/profile_fixes.hpp>
#include <analyzer/kb/tsv_table.hpp>

#include <catch2/catch.hpp>

#include <regex>
#include <string>
#include <vector>

namespace {

struct Row {
    std::string profile, topic, rule, commit, date, first_tag, subject, source;
};

std::vector<Row> load_profile_fixes(std::string& error)
{
    const std::string path = std::string(VIRTDENY_SOURCE_DIR) + "/rules/apparmor/profile-fixes.tsv";
    std::string text;
    std::vector<Row> rows;
    if (!virtdeny::kb::tsv::read_file(path, text)) {
        error = path + ": cannot read";
        return rows;
    }
    const std::regex commit_re("[0-9a-f]{12}|-");
    const std::regex tag_re("v[0-9]+\\.[0-9]+\\.[0-9]+|-");
    const bool ok = virtdeny::kb::tsv::for_each_row(
        text, path, "profile\ttopic\trule\tcommit\tdate\tfirst_tag\tsubject\tsource", error,
        [&](const std::vector<std::string_view>& f, const std::string& where, std::string& err) {
            Row r{std::string(f[0]), std::string(f[1]), std::string(f[2]), std::string(f[3]),
                  std::string(f[4]), std::string(f[5]), std::string(f[6]), std::string(f[7])};
            if (!std::regex_match(r.commit, commit_re) || !std::regex_match(r.first_tag, tag_re)) {
                err = where + ": bad commit or first_tag";
                return false;
            }
            if (r.commit == "-" && r.first_tag == "-") {
                err = where + ": neither commit nor release established";
                return false;
            }
            if (r.source.empty() || r.rule.empty() || r.rule.back() != ',') {
                err = where + ": rule must end with ',' and source is required";
                return false;
            }
            rows.push_back(std::move(r));
            return true;
        });
    if (!ok)
        rows.clear();
    return rows;
}

const Row* find_rule(const std::vector<Row>& rows, const std::string& profile, const std::string& rule)
{
    for (const auto& r : rows)
        if (r.profile == profile && r.rule == rule)
            return &r;
    return nullptr;
}

std::string read_fixture(const std::string& rel)
{
    std::string text;
    virtdeny::kb::tsv::read_file(std::string(VIRTDENY_SOURCE_DIR) + "/fixtures/" + rel, text);
    return text;
}

}  // namespace

TEST_CASE("libvirt AppArmor profile fixes: rows, releases and seed 003", "[kb][apparmor-facts]")
{
    std::string error;
    const auto rows = load_profile_fixes(error);
    INFO(error);
    REQUIRE(!rows.empty());

    // seed 003's daemon denials are exactly what libvirt 1.2.12's three commits allowed
    const std::string log = read_fixture("seed-003-libvirtd-profile/input.log");
    REQUIRE(!log.empty());
    struct Expect {
        std::string rule, evidence;
    };
    const std::vector<Expect> seed003 = {
        {"network packet raw,", "family=\"packet\" sock_type=\"raw\""},
        {"capability ipc_lock,", "capname=\"ipc_lock\""},
        {"capability sys_pacct,", "capname=\"sys_pacct\""},
        {"/usr/{lib,lib64}/libvirt/libvirt_parthelper ix,", "name=\"/usr/lib/libvirt/libvirt_parthelper\""},
        {"/usr/{lib,lib64}/libvirt/libvirt_iohelper ix,", "name=\"/usr/lib/libvirt/libvirt_iohelper\""},
    };
    for (const auto& e : seed003) {
        INFO(e.rule);
        const Row* r = find_rule(rows, "usr.sbin.libvirtd", e.rule);
        REQUIRE(r != nullptr);
        CHECK(r->first_tag == "v1.2.12");
        CHECK(r->source.find("news-2015.html.in") != std::string::npos);
        CHECK(log.find(e.evidence) != std::string::npos);
    }

    // a row whose release is not established says so ('-'), and keeps its commit
    const Row* vfio = find_rule(rows, "libvirt-qemu", "/dev/vfio/vfio rw,");
    REQUIRE(vfio != nullptr);
    CHECK(vfio->first_tag == "-");
    CHECK(vfio->commit == "a15bab0c687e");
    const Row* modules = find_rule(rows, "libvirt-qemu", "/{var/,}run/qemu/*/*.so mr,");
    REQUIRE(modules != nullptr);
    CHECK(modules->first_tag == "v6.7.0");

    // no row claims an upstream fix for QEMU's memfd fallback files or an unconfined swtpm
    // peer (seed 001, swtpm): no stored libvirt-qemu version grants either
    for (const auto& r : rows) {
        CHECK(r.rule.find("memfd") == std::string::npos);
        CHECK(r.rule.find("peer=unconfined") == std::string::npos);
    }
}

TEST_CASE("profile-fixes: a denial is covered only by a dated row of its own profile that holds all it needs",
          "[kb][apparmor]")
{
    using virtdeny::kb::apparmor_rule_grant;
    using virtdeny::model::Finding;
    const auto& table = virtdeny::test::bundled_table<virtdeny::kb::ProfileFixes>("apparmor");
    const auto finding = [](const std::string& profile, const std::string& tclass, std::vector<std::string> perms) {
        Finding f;
        f.mac = virtdeny::model::Mac::apparmor;
        f.subject = profile;
        f.tclass = tclass;
        f.permissions = std::move(perms);
        f.host_level = profile.rfind("libvirt-", 0) != 0;
        return f;
    };
    // seed 003's capability: libvirt 1.2.12's usr.sbin.libvirtd
    Finding cap = finding("/usr/sbin/libvirtd", "cap", {"ipc_lock"});
    const auto* row = table.covering(cap, apparmor_rule_grant(cap));
    REQUIRE(row != nullptr);
    CHECK(row->first_tag == "v1.2.12");
    // the same capability in another daemon's profile: no row for it
    Finding other = finding("virtqemud", "cap", {"ipc_lock"});
    CHECK(table.covering(other, apparmor_rule_grant(other)) == nullptr);
    // network: exactly the family and type upstream grants
    Finding raw = finding("/usr/sbin/libvirtd", "net", {"create"});
    raw.sample.family = "packet";
    raw.sample.sock_type = "raw";
    CHECK(table.covering(raw, apparmor_rule_grant(raw)) != nullptr);
    raw.sample.sock_type = "dgram";
    CHECK(table.covering(raw, apparmor_rule_grant(raw)) == nullptr);
    // the helper exec: the glob /usr/{lib,lib64}/libvirt/... matches lib64 too, the mode must be ix
    Finding exec = finding("/usr/sbin/libvirtd", "file", {"exec"});
    exec.path = "/usr/lib64/libvirt/libvirt_iohelper";
    CHECK(table.covering(exec, apparmor_rule_grant(exec)) != nullptr);
    exec.path = "/usr/lib/libvirt/libvirt_lxc";
    CHECK(table.covering(exec, apparmor_rule_grant(exec)) == nullptr);
    // a write to the helper is not what "ix" grants
    Finding write = finding("/usr/sbin/libvirtd", "file", {"write"});
    write.path = "/usr/lib/libvirt/libvirt_iohelper";
    CHECK(table.covering(write, apparmor_rule_grant(write)) == nullptr);
    // /dev/vfio/vfio rw in libvirt-qemu has no established release: never an "upgrade to"
    Finding vfio = finding("libvirt-2afa1131-bc8c-43d2-9c4a-962c1bf7723e", "file", {"read", "write"});
    vfio.path = "/dev/vfio/vfio";
    CHECK(table.covering(vfio, apparmor_rule_grant(vfio)) == nullptr);
}
