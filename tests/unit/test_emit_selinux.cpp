// SELinux writer: modules compile with checkmodule + semodule_package, relabel commands stay
// one shell word per path and match only that path, and over the SELinux corpus (tests/corpus/data/selinux)
// every allow rule has exactly its AVC's types and class and never more permissions.
#include "../support.hpp"

#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/emit/selinux_writer.hpp>
#include <analyzer/util/escape.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace virtdeny;

namespace {

// checkmodule and semodule_package present, or the test fails (VIRTDENY_REQUIRE_TOOLS=1) or
// is skipped
#define REQUIRE_CHECKMODULE()                                                        \
    do {                                                                             \
        if (!test::require_tool("checkmodule", "checkpolicy")                        \
            || !test::require_tool("semodule_package", "semodule-utils")) {          \
            return;                                                                  \
        }                                                                            \
    } while (0)

test::RunResult compile_module(const emit::SelinuxModule& mod)
{
    const std::string dir = test::temp_dir();
    const std::string te = dir + "/" + mod.name + ".te";
    test::write_file(te, mod.te);
    const std::string base = test::shell_quote(dir + "/" + mod.name);
    return test::run("checkmodule -M -m -o " + base + ".mod " + base + ".te && semodule_package -o " + base + ".pp -m "
                     + base + ".mod");
}

model::Finding avc(const std::string& scontext, const std::string& tcontext, const std::string& tclass,
                   std::vector<std::string> perms, const std::string& path = {})
{
    model::Finding f;
    f.mac = model::Mac::selinux;
    f.subject = scontext;
    f.tcontext = tcontext;
    f.tclass = tclass;
    f.permissions = std::move(perms);
    f.path = path;
    f.domain = model::DomainRef{"lab01", "6f0c2a4e-8d1b-4b7e-9a53-2c41d7e8b905", "vm-ctx"};
    return f;
}

std::set<std::string> words(const std::string& s)
{
    std::set<std::string> out;
    std::istringstream in(s);
    std::string w;
    while (in >> w) {
        out.insert(w);
    }
    return out;
}

} // namespace

TEST_CASE("selinux per-VM module with its own type compiles", "[emit][selinux][checkmodule]")
{
    REQUIRE_CHECKMODULE();
    auto a = avc("system_u:system_r:svirt_tcg_t:s0:c23,c892", "system_u:object_r:svirt_image_t:s0:c23,c892", "file", {"map"});
    auto b = avc("system_u:system_r:svirt_tcg_t:s0:c23,c892", "system_u:object_r:user_home_t:s0", "file", {"read", "open"});
    auto c = avc("system_u:system_r:svirt_tcg_t:s0:c23,c892", "system_u:system_r:svirt_tcg_t:s0:c23,c892", "process", {"execmem"});
    const std::string own = emit::selinux_vm_type("jiyin-centos-9-stream_aarch64", "");
    CHECK(own == "svirt_jiyin_centos_9_stream_aarch64_t");
    const auto mod = emit::selinux_module(emit::selinux_module_name("jiyin-centos-9-stream_aarch64", ""), own, {&a, &b, &c});
    CHECK(mod.name == "virtdeny_jiyin_centos_9_stream_aarch64");
    REQUIRE(mod.rules.size() == 3);
    CHECK(mod.rules[0] == "allow " + own + " svirt_image_t:file { map };");
    CHECK(mod.rules[1] == "allow " + own + " user_home_t:file { read open };");
    CHECK(mod.rules[2] == "allow " + own + " self:process { execmem };");
    CHECK(mod.te.find("type " + own + ";") != std::string::npos);
    const auto r = compile_module(mod);
    INFO(mod.te << "\n" << r.err);
    CHECK(r.status == 0);
    CHECK(mod.cil.find("(allow " + own + " svirt_image_t (file (map)))") != std::string::npos);

    // host module: daemon types unchanged
    auto d = avc("system_u:system_r:virtqemud_t:s0", "system_u:object_r:user_home_t:s0", "dir", {"search"});
    d.domain.reset();
    const auto host = emit::selinux_module("virtdeny_host", "", {&d});
    REQUIRE(host.rules.size() == 1);
    CHECK(host.rules[0] == "allow virtqemud_t user_home_t:dir { search };");
    CHECK(compile_module(host).status == 0);
}

TEST_CASE("selinux module rejects injected identifiers", "[emit][selinux]")
{
    auto bad = avc("system_u:system_r:svirt_t;allow x y:file *;:s0", "u:object_r:t:s0", "file", {"read"});
    auto bad2 = avc("system_u:system_r:svirt_t:s0", "u:object_r:t:s0", "file", {"read }; allow a b:c {"});
    auto bad3 = avc("system_u:system_r:svirt_t:s0", "u:object_r:t:s0", "file{", {"read"});
    const auto mod = emit::selinux_module("virtdeny_x", "svirt_x_t", {&bad, &bad2, &bad3});
    CHECK(mod.rules.empty());
    CHECK(emit::selinux_vm_type("a;b} allow", "") == "svirt_a_b_allow_t");
    CHECK(emit::selinux_vm_type("", "") == "svirt_vm_t");
    CHECK(emit::selinux_vm_type("9lives", "") == "svirt_vm9lives_t");
}

TEST_CASE("relabel commands: regex escaped, one shell word per path", "[emit][selinux]")
{
    const std::vector<std::string> names = {"nvdimm-0.dev",     "with space.img", "quote'd.img",   "a.b*c?[d]{e}(f)|g+h^$.img",
                                            "new\nline.img",    "back\\slash",    std::string("bin\xff\xfe.img"),
                                            "$(touch x).img",   "`id`.img"};
    for (const auto& name : names) {
        const std::string path = "/home/u/VMs/" + name;
        INFO(path);
        auto f = avc("system_u:system_r:svirt_tcg_t:s0:c1,c2", "unconfined_u:object_r:user_home_t:s0", "file", {"map"}, path);
        f.device = "nvdimm";
        auto fix = emit::selinux_relabel_fix(f);
        REQUIRE(fix);
        CHECK(fix->kind == "selinux-fcontext");
        CHECK(fix->scope == model::Scope::domain);
        const std::string regex = util::selinux_fcontext_regex(path);
        CHECK(regex.find(' ') == std::string::npos);
        CHECK(regex.find('\n') == std::string::npos);
        // the regex matches the path and nothing else that differs in one character
        const std::regex re(regex, std::regex::ECMAScript);
        CHECK(std::regex_match(path, re));
        std::string other = path;
        other.back() = other.back() == 'x' ? 'y' : 'x';
        CHECK_FALSE(std::regex_match(other, re));
        CHECK_FALSE(std::regex_match(path + "x", re));
        // the shell sees exactly the regex and the path, one argument each
        const std::string lines = fix->text;
        const std::size_t nl = lines.find("\nrestorecon");
        REQUIRE(nl != std::string::npos);
        auto r = test::run("set -- " + lines.substr(std::string("semanage fcontext -a -t svirt_image_t").size(), nl - 37)
                           + "; printf '%s|%s' \"$#\" \"$1\"");
        CHECK(r.out == "1|" + regex);
        r = test::run("set -- " + lines.substr(nl + std::string("\nrestorecon -v").size()) + "; printf '%s|%s' \"$#\" \"$1\"");
        CHECK(r.out == "1|" + path);
    }
    // already a virt image type: no relabel
    auto f = avc("system_u:system_r:svirt_tcg_t:s0:c1,c2", "system_u:object_r:svirt_image_t:s0:c1,c2", "file", {"map"}, "/x");
    CHECK_FALSE(emit::selinux_relabel_fix(f));
    CHECK(util::selinux_fcontext_regex("/srv/share", true) == "/srv/share(/.*)?");
}

TEST_CASE("selinux allow rules over the corpus never exceed their AVC", "[emit][selinux][corpus]")
{
    namespace fs = std::filesystem;
    const fs::path root = fs::path(test::corpus_dir()) / "selinux";
    REQUIRE(fs::exists(root));
    const std::regex avc_re(R"(avc:\s+denied\s+\{([^}]*)\}.*?scontext=(\S+)\s.*?tcontext=(\S+)\s.*?tclass=(\S+))");
    const std::regex avc_re2(R"(avc:\s+denied\s+\{([^}]*)\}.*?tclass=(\S+)\s.*?scontext=(\S+)\s.*?tcontext=(\S+))");
    const std::regex rule_re(R"(allow (\S+) (\S+):(\S+) \{ ([^}]*) \};)");
    struct Avc
    {
        std::string line, perms, scon, tcon, tclass;
    };
    std::size_t avcs = 0;
    std::size_t distinct = 0;
    std::size_t rules = 0;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        if (!entry.is_regular_file() || entry.path().extension() != ".log") {
            continue;
        }
        // each distinct AVC (contexts, class, permission set) once; batches in which no two
        // AVCs share contexts and class, so every finding is exactly one AVC
        std::vector<std::vector<Avc>> batches;
        std::set<std::string> seen;
        std::istringstream in(test::read_file(entry.path().string()));
        std::string line;
        while (std::getline(in, line)) {
            std::smatch m;
            Avc a;
            a.line = line;
            if (std::regex_search(line, m, avc_re)) {
                a.perms = m[1];
                a.scon = m[2];
                a.tcon = m[3];
                a.tclass = m[4];
            } else if (std::regex_search(line, m, avc_re2)) {
                a.perms = m[1];
                a.tclass = m[2];
                a.scon = m[3];
                a.tcon = m[4];
            } else {
                continue;
            }
            ++avcs;
            std::string perm_key;
            for (const auto& p : words(a.perms)) {
                perm_key += p + " ";
            }
            const std::string triple = a.scon + " " + a.tcon + " " + a.tclass;
            if (!seen.insert(triple + " " + perm_key).second) {
                continue;
            }
            ++distinct;
            auto it = std::find_if(batches.begin(), batches.end(), [&](const std::vector<Avc>& b) {
                return std::none_of(b.begin(), b.end(), [&](const Avc& x) { return x.scon + " " + x.tcon + " " + x.tclass == triple; });
            });
            if (it == batches.end()) {
                batches.emplace_back();
                it = batches.end() - 1;
            }
            it->push_back(std::move(a));
        }
        for (const auto& batch : batches) {
            std::string text;
            for (const auto& a : batch) {
                text += a.line + "\n";
            }
            const auto findings = test::explain_text(text);
            for (const auto& a : batch) {
                INFO(entry.path().string() << "\n" << a.line);
                const auto f = std::find_if(findings.begin(), findings.end(), [&](const model::Finding& x) {
                    return x.mac == model::Mac::selinux && x.subject == a.scon && x.tcontext == a.tcon && x.tclass == a.tclass;
                });
                REQUIRE(f != findings.end());
                const std::string rule = emit::selinux_allow_rule(*f);
                REQUIRE(!rule.empty());
                ++rules;
                INFO(rule);
                std::smatch r;
                REQUIRE(std::regex_match(rule, r, rule_re));
                const std::string stype(correlate::context_type(a.scon));
                const std::string ttype(correlate::context_type(a.tcon));
                CHECK(r[1].str() == stype);
                CHECK(r[2].str() == (ttype == stype ? std::string("self") : ttype));
                CHECK(r[3].str() == a.tclass);
                const auto denied = words(a.perms);
                for (const auto& p : words(r[4])) {
                    CHECK(denied.count(p) == 1);
                }
            }
        }
    }
    WARN("corpus: " << avcs << " AVCs, " << distinct << " distinct, " << rules << " allow rules checked");
    CHECK(avcs > 1000);
    CHECK(rules == distinct);
}
