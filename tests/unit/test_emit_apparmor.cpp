// AppArmor writer: rules compile with the real apparmor_parser, adversarial file names match
// only that file (checked on the compiled expression tree), globs only for known families.
#include <analyzer/emit/apparmor_writer.hpp>
#include <analyzer/kb/apparmor_grant.hpp>
#include <analyzer/kb/knowledge_base.hpp>
#include <analyzer/util/escape.hpp>

#include "../apparmor_tree.hpp"
#include "../support.hpp"

#include <analyzer/kb/apparmor_glob.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <cctype>
#include <vector>

using namespace virtdeny;

namespace {

// apparmor_parser present, or the test fails (VIRTDENY_REQUIRE_TOOLS=1) or is skipped
#define REQUIRE_APPARMOR_PARSER()                                  \
    do {                                                           \
        if (!test::require_tool("apparmor_parser", "apparmor")) {  \
            return;                                                \
        }                                                          \
    } while (0)

struct Compiled
{
    int status = -1;
    std::vector<std::string> patterns;  // one per rule, expr-tree form, profile attachment excluded
    std::string err;
};

// Wraps rules in a test profile and compiles it with -QK -D expr-tree.
Compiled compile_rules(const std::string& rules)
{
    const std::string dir = test::temp_dir();
    const std::string file = dir + "/profile";
    test::write_file(file, test::apparmor_test_profile(rules));
    auto r = test::run("apparmor_parser -QK -D expr-tree " + test::shell_quote(file));
    Compiled c;
    c.status = r.status;
    c.err = r.err;
    c.patterns = test::expr_tree_patterns(r.out + "\n" + r.err);  // stderr or stdout, by version
    return c;
}

// The finding's device kind and that kind's writer hints, from the bundled vocabulary
// (rules/devices/devices.yaml), as the advisor sets them.
void set_kind(model::Finding& f, const std::string& kind)
{
    static const kb::DeviceRules devices = [] {
        kb::DeviceRules d;
        std::vector<std::string> errors;
        d.load(kb::default_rules_dir(), errors);
        return d;
    }();
    REQUIRE(devices.is_kind(kind));
    f.device = kind;
    f.device_hints = devices.hints(kind);
}

model::Finding file_finding(const std::string& path, std::vector<std::string> perms, bool owner = false)
{
    model::Finding f;
    f.mac = model::Mac::apparmor;
    f.subject = "libvirt-2afa1131-bc8c-43d2-9c4a-962c1bf7723e";
    f.domain = model::DomainRef{"vm1", "2afa1131-bc8c-43d2-9c4a-962c1bf7723e", "apparmor-profile"};
    f.tclass = "file";
    f.path = path;
    f.permissions = std::move(perms);
    if (owner) {
        f.sample.fsuid = 107;
        f.sample.ouid = 107;
    } else {
        f.sample.fsuid = 107;
        f.sample.ouid = 0;
    }
    return f;
}

const std::vector<std::string>& adversarial_names()
{
    static const std::vector<std::string> k_names = {
        "plain.qcow2",
        "with space.img",
        "quote\"d.img",
        "single'quote.img",
        "comma,rw,.img",
        "star*.img",
        "q?.img",
        "brace{a,b}.img",
        "{,**}",
        "caret^.img",
        "bracket[0-9].img",
        "back\\slash.img",
        "newline\n/** rwlkmix,\n.img",
        "x\" rw,\n  /** rwix,\n  \"y",
        std::string("non-utf8-\xff\xfe-\xc3(.img"),
        "@{HOME}.img",
        "#include <abstractions/base>",
        "tab\there.img",
        "dollar$(id).img",
        "paren(1)|+.img",
    };
    return k_names;
}

} // namespace

TEST_CASE("util::apparmor_path escapes every special character", "[emit][apparmor]")
{
    CHECK(util::apparmor_path("/a b") == "\"/a b\"");
    CHECK(util::apparmor_path("/a*?[]{}^\"\\") == "\"/a\\*\\?\\[\\]\\{\\}\\^\\\"\\\\\"");
    CHECK(util::apparmor_path("/a\nb") == "\"/a\\012b\"");
    CHECK(util::apparmor_path(std::string("/\xff")) == "\"/\\377\"");
    CHECK(util::apparmor_path("/x@{HOME}") == "\"/x@\\{HOME\\}\"");
}

TEST_CASE("apparmor masks map to rule permissions", "[emit][apparmor]")
{
    CHECK(kb::apparmor_mask_perms("c") == "w");
    CHECK(kb::apparmor_mask_perms("rc") == "rw");
    CHECK(kb::apparmor_mask_perms("::r") == "r");
    CHECK(kb::apparmor_mask_perms("a") == "a");
    CHECK(kb::apparmor_mask_perms("wa") == "w");
    CHECK(kb::apparmor_mask_perms("mr") == "rm");
    CHECK(kb::apparmor_mask_perms("x") == "ix");
    CHECK(kb::apparmor_merge_perms("r", "w") == "rw");
    CHECK(kb::apparmor_merge_perms("rix", "k") == "rkix");
    CHECK(emit::apparmor_rule(file_finding("/tmp/f", {"create"}, true)) == "owner \"/tmp/f\" w,");
    CHECK(emit::apparmor_rule(file_finding("/tmp/f", {"read"}, false)) == "\"/tmp/f\" r,");
}

TEST_CASE("adversarial file names compile to a rule that matches only that file", "[emit][apparmor][parser]")
{
    REQUIRE_APPARMOR_PARSER();
    int checked = 0;
    for (const auto& name : adversarial_names()) {
        const std::string path = "/var/lib/libvirt/images/" + name;
        const auto f = file_finding(path, {"read", "write"});
        const std::string rule = emit::apparmor_rule(f);
        INFO("path: " << path << "\nrule: " << rule);
        REQUIRE(!rule.empty());
        CHECK(rule.find('\n') == std::string::npos);
        const Compiled c = compile_rules("  " + rule);
        INFO("stderr: " << c.err);
        REQUIRE(c.status == 0);
        REQUIRE(c.patterns.size() == 1);  // the name added no rule
        std::string literal;
        CHECK(test::decode_literal(c.patterns.front(), literal));
        CHECK(literal == path);
        ++checked;
    }
    CHECK(checked == static_cast<int>(adversarial_names().size()));
}

TEST_CASE("a /proc path of a process gets @{pid} and @{tid}, so the rule survives the next start",
          "[emit][apparmor][parser]")
{
    CHECK(emit::apparmor_rule(file_finding("/proc/6120/task/6133/comm", {"read", "write"}, true))
          == "owner \"/proc/@{pid}/task/@{tid}/comm\" rw,");
    CHECK(emit::apparmor_rule(file_finding("/proc/6120/stat", {"read"})) == "\"/proc/@{pid}/stat\" r,");
    // not a process id: kept literally
    CHECK(emit::apparmor_rule(file_finding("/proc/sys/vm/overcommit_memory", {"read"}))
          == "\"/proc/sys/vm/overcommit_memory\" r,");
    CHECK(emit::apparmor_rule(file_finding("/proc/0123/stat", {"read"})) == "\"/proc/0123/stat\" r,");
    // the fix check's matcher reads the variables as any id
    CHECK(kb::apparmor_glob_matches("\"/proc/@{pid}/task/@{tid}/comm\"", "/proc/77/task/78/comm"));
    CHECK_FALSE(kb::apparmor_glob_matches("\"/proc/@{pid}/stat\"", "/proc/self/stat"));
    // a path that spells "@{pid}" itself stays a literal (the '{' is escaped)
    CHECK(emit::apparmor_rule(file_finding("/srv/@{pid}", {"read"})) == "\"/srv/@\\{pid\\}\" r,");
    REQUIRE_APPARMOR_PARSER();
    const Compiled c = compile_rules("  owner \"/proc/@{pid}/task/@{tid}/comm\" rw,");
    INFO("stderr: " << c.err);
    REQUIRE(c.status == 0);
}

TEST_CASE("family globs compile to exactly the intended pattern", "[emit][apparmor][parser]")
{
    REQUIRE_APPARMOR_PARSER();
    // the VM's memfd fallback files: two denials merge into one owner rule with six ?s
    auto a = file_finding("/tmp/memfd-tNpKSj", {"create"}, true);
    auto b = file_finding("/tmp/memfd-Qe7xLm", {"create"}, true);
    set_kind(a, "memfd");
    set_kind(b, "memfd");
    auto sets = emit::apparmor_rule_sets({&a, &b}, nullptr);
    REQUIRE(sets.size() == 1);
    REQUIRE(sets.front().entries.size() == 1);
    const auto& e = sets.front().entries.front();
    CHECK(e.rule == "owner \"/tmp/memfd-??????\" w,");
    CHECK(e.glob);
    CHECK(!e.reason.empty());
    CHECK(sets.front().target_file == "/etc/apparmor.d/libvirt/libvirt-2afa1131-bc8c-43d2-9c4a-962c1bf7723e");
    Compiled c = compile_rules("  " + e.rule);
    REQUIRE(c.status == 0);
    REQUIRE(c.patterns.size() == 1);
    CHECK(c.patterns.front() == "/tmp/memfd-[^\\x0/][^\\x0/][^\\x0/][^\\x0/][^\\x0/][^\\x0/]");

    // not owned by the VM's user: no glob
    auto n = file_finding("/tmp/memfd-AAAAAA", {"create"}, false);
    set_kind(n, "memfd");
    sets = emit::apparmor_rule_sets({&n}, nullptr);
    REQUIRE(sets.size() == 1);
    CHECK(sets.front().entries.front().rule == "\"/tmp/memfd-AAAAAA\" w,");

    // one 9p share tree: directory and everything under it, special characters escaped
    auto r = file_finding("/srv/share/pro*jects/", {"read"});
    auto w = file_finding("/srv/share/pro*jects/build/", {"create"}, true);
    auto x = file_finding("/srv/share/pro*jects/README.md", {"write"});
    set_kind(r, "share-9p");
    set_kind(w, "share-9p");
    set_kind(x, "share-9p");
    sets = emit::apparmor_rule_sets({&r, &w, &x}, nullptr);
    REQUIRE(sets.size() == 1);
    REQUIRE(sets.front().entries.size() == 1);
    CHECK(sets.front().entries.front().rule == "\"/srv/share/pro\\*jects/{,**}\" rw,");
    CHECK(sets.front().entries.front().paths.size() == 3);
    c = compile_rules("  " + sets.front().entries.front().rule);
    REQUIRE(c.status == 0);
    REQUIRE(c.patterns.size() == 1);
    CHECK(c.patterns.front() == "/srv/share/pro\\*jects/(([^\\x0])*|[])");
}

TEST_CASE("family globs are never rooted at /, /tmp or a home directory", "[emit][apparmor]")
{
    for (const char* dir : {"/", "/tmp", "/tmp/", "/var/tmp", "/home", "/home/alice", "/home/alice/", "/root", "/srv",
                            "/dev/shm", "/run/user/1000", "/srv/../tmp", "/srv/a\nb"}) {
        INFO(dir);
        CHECK_FALSE(emit::apparmor_glob_root_allowed(dir));
    }
    CHECK(emit::apparmor_glob_root_allowed("/srv/share/projects"));
    CHECK(emit::apparmor_glob_root_allowed("/home/alice/shared"));

    // share paths straight under /home/<user>: literal rules only
    auto a = file_finding("/home/alice/a.txt", {"read"});
    auto b = file_finding("/home/alice/b.txt", {"write"});
    set_kind(a, "share-9p");
    set_kind(b, "share-9p");
    auto sets = emit::apparmor_rule_sets({&a, &b}, nullptr);
    REQUIRE(sets.size() == 1);
    REQUIRE(sets.front().entries.size() == 2);
    for (const auto& e : sets.front().entries) {
        CHECK_FALSE(e.glob);
        CHECK(e.rule.find('*') == std::string::npos);
    }
}

TEST_CASE("merged per path, only the denied permissions", "[emit][apparmor]")
{
    auto a = file_finding("/var/lib/x.img", {"read"});
    auto b = file_finding("/var/lib/x.img", {"lock"});
    auto c = file_finding("/var/lib/y.img", {"append"});
    set_kind(c, "disk-image");
    auto sets = emit::apparmor_rule_sets({&a, &b, &c}, nullptr);
    REQUIRE(sets.size() == 1);
    REQUIRE(sets.front().entries.size() == 2);
    CHECK(sets.front().entries[0].rule == "\"/var/lib/x.img\" rk,");
    CHECK(sets.front().entries[1].rule == "\"/var/lib/y.img\" a,");
    // a write to a disk image may be shadowed by virt-aa-helper's deny rule: said so
    CHECK(sets.front().entries[1].warning.find("deny") != std::string::npos);
    CHECK(sets.front().entries[1].warning.find("no log line") != std::string::npos);
}

TEST_CASE("non-file AppArmor rules compile", "[emit][apparmor][parser]")
{
    REQUIRE_APPARMOR_PARSER();
    std::vector<model::Finding> fs;
    model::Finding cap;
    cap.mac = model::Mac::apparmor;
    cap.subject = "/usr/sbin/libvirtd";
    cap.host_level = true;
    cap.tclass = "cap";
    cap.permissions = {"ipc_lock", "sys_pacct"};
    fs.push_back(cap);
    model::Finding net = cap;
    net.tclass = "net";
    net.permissions = {"create"};
    net.sample.family = "packet";
    net.sample.sock_type = "raw";
    fs.push_back(net);
    model::Finding sig = cap;
    sig.tclass = "signal";
    sig.permissions = {"send"};
    sig.sample.signal = "term";
    sig.sample.peer = "libvirt-2afa1131-bc8c-43d2-9c4a-962c1bf7723e";
    fs.push_back(sig);
    model::Finding pt = cap;
    pt.tclass = "ptrace";
    pt.permissions = {"read"};
    pt.sample.peer = "libvirt-2afa1131-bc8c-43d2-9c4a-962c1bf7723e";
    fs.push_back(pt);
    model::Finding ux = cap;
    ux.tclass = "unix";
    ux.permissions = {"connect", "send"};
    ux.sample.sock_type = "stream";
    ux.sample.peer = "virtlogd";
    fs.push_back(ux);
    model::Finding mnt = cap;
    mnt.tclass = "mount";
    mnt.path = "/run/libvirt/qemu/1-vm/dev/";
    mnt.sample.operation = "mount";
    mnt.sample.fstype = "tmpfs";
    mnt.sample.flags = "rw, nosuid";
    mnt.sample.srcname = "devfs";
    fs.push_back(mnt);
    model::Finding bus = cap;  // as libvirtd's USER_AVC from dbus-daemon (fixtures/user-avc)
    bus.tclass = "dbus";
    bus.permissions = {"send"};
    bus.sample.bus = "system";
    bus.sample.dbus_path = "/org/freedesktop/machine1";
    bus.sample.interface = "org.freedesktop.machine1.Manager";
    bus.sample.member = "CreateMachineWithNetwork";
    bus.sample.name = "org.freedesktop.machine1";
    fs.push_back(bus);
    std::vector<const model::Finding*> ptrs;
    for (const auto& f : fs) {
        ptrs.push_back(&f);
    }
    auto sets = emit::apparmor_rule_sets(ptrs, nullptr);
    REQUIRE(sets.size() == 1);
    CHECK(sets.front().target_file == "/etc/apparmor.d/local/usr.sbin.libvirtd");
    CHECK(sets.front().profile_file == "/etc/apparmor.d/usr.sbin.libvirtd");
    const std::string text = emit::apparmor_rules_text(sets.front());
    CHECK(text.find("capability ipc_lock,") != std::string::npos);
    CHECK(text.find("capability sys_pacct,") != std::string::npos);
    CHECK(text.find("network packet raw,") != std::string::npos);
    CHECK(text.find("signal (send) set=(term) peer=\"libvirt-2afa1131-bc8c-43d2-9c4a-962c1bf7723e\",") != std::string::npos);
    CHECK(text.find("ptrace (read) peer=") != std::string::npos);
    CHECK(text.find("unix (connect send) type=stream peer=(label=\"virtlogd\"),") != std::string::npos);
    CHECK(text.find("mount fstype=tmpfs options=(rw,nosuid) \"devfs\" -> \"/run/libvirt/qemu/1-vm/dev/\",") != std::string::npos);
    CHECK(text.find("dbus (send) bus=system path=\"/org/freedesktop/machine1\" interface=\"org.freedesktop.machine1.Manager\" "
                    "member=\"CreateMachineWithNetwork\" peer=(name=\"org.freedesktop.machine1\"),") != std::string::npos);
    const Compiled c = compile_rules(text);
    INFO(text << "\n" << c.err);
    CHECK(c.status == 0);
}

TEST_CASE("a dbus rule names the one method call, and hostile values give no rule", "[emit][apparmor]")
{
    model::Finding f;
    f.mac = model::Mac::apparmor;
    f.subject = "libvirtd";
    f.host_level = true;
    f.tclass = "dbus";
    f.permissions = {"send"};
    f.sample.bus = "system";
    f.sample.dbus_path = "/org/freedesktop/login1";
    f.sample.interface = "org.freedesktop.login1.Manager";
    f.sample.member = "Inhibit";
    f.sample.name = "org.freedesktop.login1";
    CHECK(emit::apparmor_rule(f) == "dbus (send) bus=system path=\"/org/freedesktop/login1\" "
                                "interface=\"org.freedesktop.login1.Manager\" member=\"Inhibit\" "
                                "peer=(name=\"org.freedesktop.login1\"),");
    // a value D-Bus itself would refuse can only come from a forged record: no rule, not a wider one
    for (std::string model::Denial::*field : {&model::Denial::member, &model::Denial::interface, &model::Denial::name}) {
        model::Finding bad = f;
        bad.sample.*field = "x\" peer=(label=unconfined), dbus (send) bus=system,";
        CHECK(emit::apparmor_rule(bad).empty());
    }
    model::Finding glob = f;
    glob.sample.dbus_path = "/org/**";
    CHECK(emit::apparmor_rule(glob).empty());
    model::Finding bus = f;
    bus.sample.bus = "system,";
    CHECK(emit::apparmor_rule(bus).empty());
}

TEST_CASE("a comment can never end early", "[emit][apparmor]")
{
    CHECK(emit::apparmor_comment("a\n/** rw,") == "# a?/** rw,");
}
