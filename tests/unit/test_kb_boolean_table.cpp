#include "../rules_tables.hpp"

#include <analyzer/kb/boolean_table.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#ifndef VIRTDENY_SOURCE_DIR
#error "VIRTDENY_SOURCE_DIR must name the project root"
#endif

using virtdeny::kb::BooleanGrant;
using virtdeny::kb::BooleanTable;

namespace {

const BooleanTable& table()
{
    return virtdeny::test::bundled_table<BooleanTable>("selinux");
}

const BooleanTable::Answer* find_answer(const std::vector<BooleanTable::Answer>& answers,
                                        const std::string& boolean)
{
    const auto it = std::find_if(answers.begin(), answers.end(),
                                 [&](const auto& a) { return a.boolean == boolean; });
    return it == answers.end() ? nullptr : &*it;
}

std::string names_of(const std::vector<BooleanTable::Answer>& answers)
{
    std::string out;
    for (const auto& answer : answers) {
        out += answer.boolean + (answer.complete ? "(complete) " : "(partial) ");
    }
    return out;
}

// A concrete type standing for a rule side, as it would appear in a real AVC.
std::string concrete_source(const std::string& source)
{
    if (source == "virt_domain") {
        return "svirt_t";
    }
    if (source == "domain") {
        return "svirt_tcg_t";
    }
    if (source == "svirt_sandbox_domain") {
        return "container_t";
    }
    return source;
}

std::string concrete_target(const std::string& target, const std::string& stype)
{
    if (target == "self") {
        return stype;
    }
    if (target == "file_type") {
        return "user_home_t";
    }
    if (target == "device_node") {
        return "fixed_disk_device_t";
    }
    if (target == "virt_domain") {
        return "svirt_t";
    }
    return target;
}

}  // namespace

TEST_CASE("boolean table loads the generated rules", "[kb][selinux]")
{
    CHECK(table().grant_count() > 100);
    CHECK(table().type_count() > 50);
    CHECK(table().has_attribute("svirt_t", "virt_domain"));
    CHECK(table().has_attribute("svirt_tcg_t", "virt_domain"));
    CHECK(table().has_attribute("svirt_image_t", "virt_image_type"));
    CHECK(table().has_attribute("svirt_image_t", "file_type"));
    CHECK(table().has_attribute("user_home_t", "file_type"));
    CHECK(table().has_attribute("nfs_t", "file_type"));
    CHECK(table().has_attribute("usb_device_t", "device_node"));
    CHECK_FALSE(table().has_attribute("usb_device_t", "file_type"));
    CHECK_FALSE(table().has_attribute("svirt_t", "file_type"));
}

TEST_CASE("sample AVCs are answered with the boolean that grants them", "[kb][selinux]")
{
    struct Case
    {
        const char* boolean;
        const char* stype;
        const char* ttype;
        const char* tclass;
        std::vector<std::string> perms;
    };
    const std::vector<Case> cases = {
        {"virt_use_nfs", "svirt_t", "nfs_t", "file", {"read", "open"}},
        {"virt_use_samba", "svirt_t", "cifs_t", "file", {"read", "open", "write"}},
        {"virt_use_fusefs", "svirt_t", "fusefs_t", "file", {"getattr", "read"}},
        {"virt_use_usb", "svirt_t", "usb_device_t", "chr_file", {"open", "read", "write", "ioctl"}},
        {"virt_use_execmem", "svirt_t", "svirt_t", "process", {"execmem"}},
        {"domain_can_mmap_files", "svirt_tcg_t", "user_home_t", "file", {"map"}},
        {"virt_use_comm", "svirt_tcg_t", "tty_device_t", "chr_file", {"open", "write"}},
        {"virt_use_rawip", "svirt_t", "svirt_t", "rawip_socket", {"create"}},
        {"virt_use_sanlock", "svirt_t", "sanlock_t", "unix_stream_socket", {"connectto"}},
        {"virt_use_xserver", "svirt_t", "xserver_t", "unix_stream_socket", {"connectto"}},
        {"virt_use_pcscd", "svirt_t", "pcscd_var_run_t", "sock_file", {"write"}},
        {"virt_use_glusterd", "svirt_t", "glusterd_var_run_t", "file", {"create", "write"}},
    };
    for (const Case& c : cases) {
        const auto answers = table().lookup(c.stype, c.ttype, c.tclass, c.perms);
        INFO(c.boolean << ": " << c.stype << " -> " << c.ttype << ":" << c.tclass
                       << " answered " << names_of(answers));
        const auto* answer = find_answer(answers, c.boolean);
        REQUIRE(answer != nullptr);
        CHECK(answer->complete);
        CHECK(answer->required_value);
        CHECK_FALSE(answer->desc.empty());
        CHECK(answers.front().complete);
    }
}

TEST_CASE("every grant of the sample booleans answers its own AVC", "[kb][selinux]")
{
    const std::vector<std::string> booleans = {
        "virt_use_nfs",  "virt_use_samba",   "virt_use_fusefs",  "virt_use_usb",
        "virt_use_execmem", "virt_use_comm", "virt_use_rawip",   "virt_use_sanlock",
        "domain_can_mmap_files", "virt_use_xserver", "virt_use_glusterd", "virt_use_pcscd",
    };
    for (const std::string& boolean : booleans) {
        const auto grants = table().grants_of(boolean);
        INFO(boolean);
        REQUIRE_FALSE(grants.empty());
        for (const BooleanGrant* grant : grants) {
            CHECK(grant->boolean == boolean);
            const std::string stype = concrete_source(grant->source);
            const std::string ttype = concrete_target(grant->target, stype);
            const auto answers = table().lookup(stype, ttype, grant->tclass, grant->perms);
            INFO(stype << " -> " << ttype << ":" << grant->tclass << " answered "
                       << names_of(answers));
            const auto* answer = find_answer(answers, boolean);
            REQUIRE(answer != nullptr);
            CHECK(answer->complete);
        }
    }
}

TEST_CASE("unrelated AVCs get no boolean", "[kb][selinux]")
{
    CHECK(table().lookup("svirt_t", "shadow_t", "file", {"read"}).empty());
    CHECK(table().lookup("svirt_t", "shadow_t", "file", {"open", "read", "getattr"}).empty());
    CHECK(table().lookup("svirt_t", "nfs_t", "tcp_socket", {"name_connect"}).empty());
    // usb_device_t is a device node, not a file_type: domain_can_mmap_files does not cover it
    CHECK(table().lookup("svirt_t", "usb_device_t", "chr_file", {"map"}).empty());
}

TEST_CASE("self means the source's own type", "[kb][selinux]")
{
    const auto own = table().lookup("svirt_t", "svirt_t", "process", {"execmem"});
    CHECK(find_answer(own, "virt_use_execmem") != nullptr);
    const auto other = table().lookup("svirt_t", "svirt_tcg_t", "process", {"execmem"});
    CHECK(find_answer(other, "virt_use_execmem") == nullptr);
    // virtqemud_use_execmem is for virtqemud_t only
    CHECK(find_answer(own, "virtqemud_use_execmem") == nullptr);
}

TEST_CASE("narrower booleans first, partial grants flagged", "[kb][selinux]")
{
    const auto map_nfs = table().lookup("svirt_t", "nfs_t", "file", {"map", "read"});
    REQUIRE(map_nfs.size() >= 2);
    CHECK(map_nfs.front().boolean == "virt_use_nfs");
    CHECK(map_nfs.front().complete);
    const auto* mmap_any = find_answer(map_nfs, "domain_can_mmap_files");
    REQUIRE(mmap_any != nullptr);
    CHECK_FALSE(mmap_any->complete);
    CHECK(mmap_any->granted == std::vector<std::string>{"map"});

    // svirt_t may not execute NFS files under virt_use_nfs (only sandbox domains may)
    const auto exec_nfs = table().lookup("svirt_t", "nfs_t", "file", {"read", "execute"});
    const auto* nfs = find_answer(exec_nfs, "virt_use_nfs");
    REQUIRE(nfs != nullptr);
    CHECK_FALSE(nfs->complete);
    CHECK(nfs->granted == std::vector<std::string>{"read"});
}

TEST_CASE("process sources count as domain even when not listed", "[kb][selinux]")
{
    const auto answers = table().lookup("myapp_t", "user_home_t", "file", {"map"});
    CHECK(find_answer(answers, "domain_can_mmap_files") != nullptr);
}

TEST_CASE("booleans granted while off are marked", "[kb][selinux]")
{
    const auto answers = table().lookup("container_t", "container_t", "process", {"ptrace"});
    const auto* answer = find_answer(answers, "deny_ptrace");
    REQUIRE(answer != nullptr);
    CHECK_FALSE(answer->required_value);
    CHECK_FALSE(table().grants_of("!deny_ptrace").empty());
}

TEST_CASE("boolean table reports bad input with file and line", "[kb][selinux]")
{
    const std::string header = "boolean\tdefault\tdesc\tsource\ttarget\tclass\tperms\n";
    std::string error;

    BooleanTable bad_default;
    CHECK_FALSE(bad_default.load_booleans_text(
        "# comment\n" + header + "b\tmaybe\td\ts_t\tt_t\tfile\tread\n", "x.tsv", error));
    CHECK(error.rfind("x.tsv:3: ", 0) == 0);

    BooleanTable bad_columns;
    CHECK_FALSE(bad_columns.load_booleans_text(header + "b\ttrue\td\ts_t\tt_t\tfile\n", "y.tsv",
                                               error));
    CHECK(error.rfind("y.tsv:2: ", 0) == 0);

    BooleanTable no_header;
    CHECK_FALSE(no_header.load_booleans_text("b\ttrue\td\ts_t\tt_t\tfile\tread\n", "z.tsv", error));
    CHECK(error.rfind("z.tsv:1: ", 0) == 0);

    BooleanTable bad_attrs;
    CHECK_FALSE(bad_attrs.load_attributes_text("type\tattributes\nfoo_t\n", "a.tsv", error));
    CHECK(error.rfind("a.tsv:2: ", 0) == 0);

    BooleanTable missing;
    CHECK_FALSE(missing.load("/nonexistent/virtdeny/rules", error));
    CHECK(error.find("booleans.tsv") != std::string::npos);

    BooleanTable good;
    REQUIRE(good.load_booleans_text(header + "b\ttrue\td\ts_t\tt_t\tfile\tread open\n", "g.tsv",
                                    error));
    CHECK(good.lookup("s_t", "t_t", "file", {"open"}).size() == 1);
}
