// Cause rules: the loader's errors, sample validation, template safety, and the boolean
// fixes from rules/selinux/booleans.tsv.
#include "../support.hpp"

#include <analyzer/emit/apparmor_writer.hpp>
#include <analyzer/emit/fix_text.hpp>
#include <analyzer/kb/advisor.hpp>
#include <analyzer/kb/cause_rules.hpp>
#include <analyzer/kb/cause_template.hpp>
#include <analyzer/kb/knowledge_base.hpp>
#include <analyzer/kb/sample_findings.hpp>

#include <catch2/catch.hpp>

#include <filesystem>

using namespace virtdeny;

namespace {

// A fix text template as emit/fix_text writes it for the context's finding; nullopt when the
// template has no safe value there (the fix is dropped).
std::optional<std::string> written(std::string_view text, const kb::TemplateContext& context)
{
    model::Fix fix;
    const kb::TemplateContext binding{context.finding, context.xml, context.needs_apparmor, &fix.grant};
    auto parts = kb::bind_template(text, binding);
    if (!parts) {
        return std::nullopt;
    }
    fix.text_parts = std::move(*parts);
    return emit::fix_text(context.finding, fix);
}

const char* const k_sample =
    "type=AVC msg=audit(1712100000.100:2001): apparmor=\"DENIED\" operation=\"open\" "
    "profile=\"libvirt-5b7c9e2a-1f3d-4c6b-8a9e-0d2f4b6c8e1a\" name=\"/dev/vfio/12\" pid=6120 "
    "comm=\"qemu-system-x86\" requested_mask=\"wr\" denied_mask=\"wr\" fsuid=64055 ouid=0";

std::string rule_yaml(const std::string& id, const std::string& match, const std::string& extra,
                      const std::string& fix_text = "{apparmor_rule}", bool samples = true)
{
    std::string y = "- id: " + id + "\n  desc: test rule\n  match: " + match + "\n" + extra
        + "  explanation: 'QEMU of {vm} was denied {path}'\n"
          "  fixes:\n    - {kind: apparmor-rule, scope: domain, text: '" + fix_text + "', note: 'why'}\n";
    if (samples) {
        y += "  samples: ['" + std::string(k_sample) + "']\n";
    }
    return y;
}

// The bundled device vocabulary, which cause rules' device kinds are checked against.
const kb::DeviceRules& bundled_devices()
{
    static const kb::DeviceRules devices = [] {
        kb::DeviceRules d;
        std::vector<std::string> errors;
        d.load(kb::default_rules_dir(), errors);
        return d;
    }();
    return devices;
}

std::vector<std::string> load_errors(const std::string& yaml, kb::CauseRules& rules)
{
    std::vector<std::string> errors;
    rules.load_text(yaml, "bad.yaml", bundled_devices(), errors);
    return errors;
}

std::vector<std::string> load_errors(const std::string& yaml)
{
    kb::CauseRules rules;
    return load_errors(yaml, rules);
}

model::Finding file_finding(const std::string& path)
{
    model::Finding f;
    f.mac = model::Mac::apparmor;
    f.subject = "libvirt-5b7c9e2a-1f3d-4c6b-8a9e-0d2f4b6c8e1a";
    f.domain = model::DomainRef{"web01", "5b7c9e2a-1f3d-4c6b-8a9e-0d2f4b6c8e1a", "apparmor-profile"};
    f.tclass = "file";
    f.path = path;
    f.permissions = {"read", "write"};
    return f;
}

} // namespace

TEST_CASE("cause loader: a good rule loads and matches its sample", "[kb][causes]")
{
    kb::CauseRules rules;
    const auto errors = load_errors(rule_yaml("vd-aa-test-vfio", "{lsm: apparmor, path: '^/dev/vfio/[0-9]+$'}", ""), rules);
    REQUIRE(errors.empty());
    REQUIRE(rules.rules().size() == 1);
    std::uint64_t bad = 0;
    auto findings = kb::sample_findings(k_sample, bad);
    REQUIRE(bad == 0);
    REQUIRE(findings.size() == 1);
    CHECK(rules.match(findings.front()) == &rules.rules().front());
    findings.front().path = "/dev/vfio/vfio";
    CHECK(rules.match(findings.front()) == nullptr);
}

TEST_CASE("cause loader: each bad rule is reported with file, line and rule id", "[kb][causes]")
{
    SECTION("bad regex")
    {
        const auto e = load_errors(rule_yaml("vd-aa-bad-re", "{lsm: apparmor, path: '^/dev/(vfio'}", ""));
        REQUIRE(e.size() == 1);
        CHECK(e[0].rfind("bad.yaml:3: rule vd-aa-bad-re: bad path pattern '^/dev/(vfio': missing )", 0) == 0);
    }
    SECTION("missing samples")
    {
        const auto e = load_errors(rule_yaml("vd-aa-no-samples", "{lsm: apparmor}", "", "{apparmor_rule}", false));
        REQUIRE(e.size() == 1);
        CHECK(e[0] == "bad.yaml:1: rule vd-aa-no-samples: no samples: every rule needs at least one log line that fires it");
    }
    SECTION("unknown device")
    {
        const auto e = load_errors(rule_yaml("vd-aa-bad-device", "{lsm: apparmor}", "  device: gpu\n"));
        REQUIRE(e.size() == 1);
        CHECK(e[0] == "bad.yaml:4: rule vd-aa-bad-device: unknown device kind 'gpu'");
    }
    SECTION("unknown match key")
    {
        const auto e = load_errors(rule_yaml("vd-aa-bad-key", "{lsm: apparmor, pth: '^/x'}", ""));
        REQUIRE(e.size() == 1);
        CHECK(e[0] == "bad.yaml:3: rule vd-aa-bad-key: unknown match key 'pth'");
    }
    SECTION("raw log text in a fix")
    {
        const auto e = load_errors(rule_yaml("vd-aa-raw-path", "{lsm: apparmor}", "", "{path} rw,"));
        REQUIRE(e.size() == 1);
        CHECK(e[0].find("bad.yaml:6: rule vd-aa-raw-path: fix text: placeholder {path} puts raw log text into a fix") == 0);
    }
    SECTION("unknown placeholder")
    {
        const auto e = load_errors(rule_yaml("vd-aa-typo", "{lsm: apparmor}", "", "{aparmor_rule}"));
        REQUIRE(e.size() == 1);
        CHECK(e[0] == "bad.yaml:6: rule vd-aa-typo: fix text: unknown placeholder {aparmor_rule}");
    }
    SECTION("bad id and bad lsm")
    {
        CHECK(load_errors(rule_yaml("rule1", "{lsm: apparmor}", "")).at(0)
              == "bad.yaml:1: rule rule1: rule id 'rule1' must look like vd-se-NAME, vd-aa-NAME or vd-lv-NAME");
        CHECK(load_errors(rule_yaml("vd-aa-x", "{lsm: smack}", "")).at(0)
              == "bad.yaml:3: rule vd-aa-x: match.lsm must be selinux or apparmor, not 'smack'");
    }
    SECTION("not YAML")
    {
        const auto e = load_errors("- id: [unclosed\n");
        REQUIRE(e.size() == 1);
        CHECK(e[0].rfind("bad.yaml:", 0) == 0);
    }
}

TEST_CASE("cause loader: a later rule with the same id replaces the earlier one in place", "[kb][causes]")
{
    kb::CauseRules rules;
    REQUIRE(load_errors(rule_yaml("vd-aa-one", "{lsm: apparmor, path: '^/dev/vfio/'}", "")
                            + rule_yaml("vd-aa-two", "{lsm: apparmor}", ""),
                        rules)
                .empty());
    REQUIRE(load_errors(rule_yaml("vd-aa-one", "{lsm: apparmor, path: '^/nothing$'}", "  device: usb\n"), rules).empty());
    REQUIRE(rules.rules().size() == 2);
    CHECK(rules.rules()[0].id == "vd-aa-one");
    CHECK(rules.rules()[0].device == "usb");
    std::uint64_t bad = 0;
    auto findings = kb::sample_findings(k_sample, bad);
    REQUIRE(findings.size() == 1);
    CHECK(rules.match(findings.front())->id == "vd-aa-two");
}

TEST_CASE("knowledge base: a sample that does not fire its rule is an error", "[kb][causes]")
{
    const std::string dir = test::temp_dir();
    std::filesystem::create_directories(dir + "/causes");
    test::write_file(dir + "/causes/x.yaml", rule_yaml("vd-aa-wrong-sample", "{lsm: apparmor, path: '^/dev/usb'}", "")
                                                 + rule_yaml("vd-aa-shadowed", "{lsm: apparmor, path: '^/dev/vfio/12$'}", ""));
    kb::KnowledgeBase kb;
    std::vector<std::string> errors;
    CHECK_FALSE(kb.load({dir}, errors));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("x.yaml:1: rule vd-aa-wrong-sample: sample does not match the rule: type=AVC") != std::string::npos);

    test::write_file(dir + "/causes/x.yaml", rule_yaml("vd-aa-first", "{lsm: apparmor}", "")
                                                 + rule_yaml("vd-aa-shadowed", "{lsm: apparmor, path: '^/dev/vfio/12$'}", ""));
    kb::KnowledgeBase kb2;
    errors.clear();
    CHECK_FALSE(kb2.load({dir}, errors));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("rule vd-aa-shadowed: sample is taken by the earlier rule vd-aa-first") != std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("bundled rules load cleanly and every sample fires its own rule", "[kb][causes]")
{
    kb::KnowledgeBase kb;
    std::vector<std::string> errors;
    const bool ok = kb.load({kb::default_rules_dir()}, errors);
    for (const auto& e : errors) {
        UNSCOPED_INFO(e);
    }
    REQUIRE(ok);
    REQUIRE(kb.causes.rules().size() >= 20);
    REQUIRE(kb.booleans.grant_count() > 0);
    for (const auto& rule : kb.causes.rules()) {
        REQUIRE_FALSE(rule.samples.empty());
        for (const auto& sample : rule.samples) {
            INFO(rule.id << ": " << sample);
            if (rule.match.in_xml.value_or(false)) {
                continue;  // fires only with the VM's domain XML: KnowledgeBase::validate_cause_samples checks it
            }
            const auto findings = test::explain_text(sample + "\n");
            REQUIRE(findings.size() == 1);
            CHECK(findings.front().rule_id == rule.id);
            CHECK_FALSE(findings.front().fixes.empty());
        }
    }
}

TEST_CASE("SELinux: an AVC a boolean would allow names that boolean, last, with what else it opens", "[kb][causes][booleans]")
{
    const auto findings = test::explain_text(
        "type=AVC msg=audit(1712000100.200:610): avc:  denied  { read } for  pid=5120 comm=\"qemu-kvm\" "
        "path=\"/mnt/nfs/images/db01.qcow2\" dev=\"0:52\" ino=4407 scontext=system_u:system_r:svirt_t:s0:c12,c345 "
        "tcontext=system_u:object_r:nfs_t:s0 tclass=file permissive=0\n");
    REQUIRE(findings.size() == 1);
    const auto& fixes = findings.front().fixes;
    REQUIRE(fixes.size() >= 2);
    const auto& last = fixes.back();
    CHECK(last.kind == "selinux-boolean");
    CHECK(last.scope == model::Scope::host);
    CHECK(last.text == "setsebool -P virt_use_nfs 1");
    CHECK(last.note.find("Host-wide") == 0);
    CHECK(last.note.find("virt_domain") != std::string::npos);
    CHECK(last.note.find("nfs_t") != std::string::npos);
    CHECK(last.note.find("Default: off.") != std::string::npos);
    CHECK(fixes.front().kind != "selinux-boolean");
}

TEST_CASE("SELinux: a finding no boolean allows gets no boolean fix", "[kb][causes][booleans]")
{
    const auto findings = test::explain_text(
        "type=AVC msg=audit(1712000100.200:611): avc:  denied  { write } for  pid=5120 comm=\"qemu-kvm\" "
        "path=\"/etc/shadow\" dev=\"dm-0\" ino=44 scontext=system_u:system_r:svirt_t:s0:c12,c345 "
        "tcontext=system_u:object_r:shadow_t:s0 tclass=file permissive=0\n");
    REQUIRE(findings.size() == 1);
    for (const auto& fix : findings.front().fixes) {
        CHECK(fix.kind != "selinux-boolean");
    }
    CHECK(findings.front().rule_id.empty());
    REQUIRE(findings.front().fixes.size() == 1);
    CHECK(findings.front().fixes[0].text == "allow svirt_t shadow_t:file { write };");
}

TEST_CASE("templates: log text never escapes into a generated rule or command", "[kb][causes][template]")
{
    // (the escapers themselves: tests/unit/test_util_escape.cpp, against their consumers)

    auto f = file_finding("/srv/share/evil\" rw, /** rwx, \"/x/file");
    CHECK(emit::apparmor_rule_text(kb::share_tree_grant(f, nullptr)) == "\"/srv/share/evil\\\" rw, /\\*\\* rwx, \\\"/x/{,**}\" rw,");
    f.path = "/srv/share/{a,b}/file";
    CHECK(emit::apparmor_rule_text(kb::share_tree_grant(f, nullptr)) == "\"/srv/share/\\{a,b\\}/{,**}\" rw,");
    f.path = "/tmp/file";
    CHECK(emit::apparmor_rule_text(kb::share_tree_grant(f, nullptr)).empty());
    f.path = "/home/alice/file";
    CHECK(emit::apparmor_rule_text(kb::share_tree_grant(f, nullptr)).empty());
    f.path = "/srv/x";
    CHECK(emit::apparmor_rule_text(kb::share_tree_grant(f, nullptr)).empty());

    f.path = "/tmp/memfd-tNpKSj";
    CHECK(emit::apparmor_rule_text(kb::memfd_grant(f)) == "owner \"/tmp/memfd-??????\" rw,");  // mkstemp's six characters
    f.path = "/tmp/memfd-5b7c9e2a-1f3d-4c6b-8a9e-0d2f4b6c8e1a-qeHrBV";
    CHECK(emit::apparmor_rule_text(kb::memfd_grant(f)) == "owner \"/tmp/memfd-5b7c9e2a-1f3d-4c6b-8a9e-0d2f4b6c8e1a-??????\" rw,");
    f.path = "/tmp/memfd-pc.ram.0";  // not a mkstemp name: the prefix and one '*' (never a '/')
    CHECK(emit::apparmor_rule_text(kb::memfd_grant(f)) == "owner \"/tmp/memfd-*\" rw,");
    f.path = "/srv/memfd-x";
    CHECK(emit::apparmor_rule_text(kb::memfd_grant(f)).empty());

    f.path = "/srv/vms/a'b.img";
    const kb::TemplateContext context{f, nullptr, {}, nullptr};
    CHECK(written("semanage fcontext -a -t svirt_image_t {path_regex_quoted}", context)
          == "semanage fcontext -a -t svirt_image_t '/srv/vms/a'\\''b\\.img'");
    {
        // a space is \x20 in the file-contexts regex: a raw one would split the
        // file_contexts.local line (it was kept before the escapers were merged)
        auto spaced = f;
        spaced.path = "/home/u/My VMs/x.qcow2";
        CHECK(written("{path_regex_quoted}", kb::TemplateContext{spaced, nullptr, {}, nullptr})
              == "'/home/u/My\\x20VMs/x\\.qcow2'");
        spaced.path = "relative/x";
        CHECK_FALSE(written("{path_regex_quoted}", kb::TemplateContext{spaced, nullptr, {}, nullptr}));
        spaced.path = std::string("/srv/a\x01b");
        CHECK_FALSE(written("{path_xml}", kb::TemplateContext{spaced, nullptr, {}, nullptr}));
    }
    CHECK(kb::expand_template("{vm} {path}", context) == "web01 /srv/vms/a'b.img");
    CHECK(kb::expand_template("\"/x/{,**}\" {uuid}", context) == "\"/x/{,**}\" 5b7c9e2a-1f3d-4c6b-8a9e-0d2f4b6c8e1a");
    {
        // no VM known: the prose reads as English
        model::Finding anon = f;
        anon.domain.reset();
        anon.comm = "qemu-kvm";
        const kb::TemplateContext none{anon, nullptr, {}, nullptr};
        CHECK(kb::expand_template("QEMU ({comm}) of VM {vm} was denied", none) == "QEMU (qemu-kvm) of an unidentified VM was denied");
        CHECK(kb::expand_template("VM {vm} ({comm}) was denied", none) == "An unidentified VM (qemu-kvm) was denied");
        CHECK(kb::expand_template("It failed. VM {vm} stopped", none) == "It failed. An unidentified VM stopped");
    }
    // SELinux types that are not identifiers drop the fix.
    f.mac = model::Mac::selinux;
    f.subject = "system_u:system_r:svirt_t:s0";
    f.tcontext = "system_u:object_r:bad;type:s0";
    CHECK_FALSE(kb::expand_template("{target_type}", context).has_value());
    CHECK(kb::expand_template("{subject_type}", context) == "svirt_t");
}

TEST_CASE("fixes: kb binds a fix's text to values, emit writes it once, after the ranking", "[kb][causes][template]")
{
    kb::KnowledgeBase kb;
    std::vector<std::string> errors;
    REQUIRE(kb.load({kb::default_rules_dir()}, errors));
    // seed 001's memfd denial (rules/causes/apparmor.yaml, vd-aa-memfd-fallback)
    std::uint64_t bad = 0;
    auto findings = kb::sample_findings(
        "Aug 15 16:36:20 tkcompute01 kernel: [ 1194.973064] type=1400 audit(1471289780.407:76): apparmor=\"DENIED\" "
        "operation=\"mknod\" profile=\"libvirt-2afa1131-bc8c-43d2-9c4a-962c1bf7723e\" name=\"/tmp/memfd-tNpKSj\" "
        "pid=12625 comm=\"qemu-system-x86\" requested_mask=\"c\" denied_mask=\"c\" fsuid=107 ouid=107",
        bad);
    REQUIRE(findings.size() == 1);
    model::Finding& f = findings.front();
    kb::Advisor(kb, nullptr).advise(f);
    REQUIRE_FALSE(f.fixes.empty());
    for (const model::Fix& fix : f.fixes) {
        INFO(fix.kind);
        CHECK(fix.text.empty());  // kb writes no text
        CHECK_FALSE(fix.text_parts.empty());
    }
    const model::Fix& rule = f.fixes.front();
    CHECK(rule.grant.kind == model::GrantKind::apparmor_rule);
    CHECK(rule.grant.targets == std::vector<std::string>{"\"/tmp/memfd-??????\""});
    CHECK(rule.grant.perms == std::vector<std::string>{"rw"});
    CHECK(rule.grant.owner);
    emit::write_fix_texts(f);
    CHECK(f.fixes.front().text == "owner \"/tmp/memfd-??????\" rw,");
}

TEST_CASE("templates: prose and fix files take only values written as they are", "[kb][causes][template]")
{
    std::string error;
    CHECK(kb::check_template("{apparmor_file}", kb::TemplateUse::fix_file, error));
    CHECK(kb::check_template("{target_type} of {vm}", kb::TemplateUse::prose, error));
    for (const char* quoted : {"{path_quoted}", "{apparmor_rule}", "{path_xml}", "{selinux_allow}"}) {
        INFO(quoted);
        CHECK(kb::check_template(quoted, kb::TemplateUse::fix_text, error));
        CHECK_FALSE(kb::check_template(quoted, kb::TemplateUse::fix_file, error));
        CHECK_FALSE(kb::check_template(quoted, kb::TemplateUse::prose, error));
    }
    CHECK_FALSE(kb::check_template("{path}", kb::TemplateUse::fix_file, error));
}
