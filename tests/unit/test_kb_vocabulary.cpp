// One device vocabulary: rules/devices/devices.yaml's `kinds` is the source; rules/schema.json
// (deviceKind, deviceHints), docs/json.md's device table and the shell completion must say the
// same. And the embedded schema checks rule files with the YAML line of each problem.
#include <analyzer/correlate/domain_xml.hpp>
#include <analyzer/kb/knowledge_base.hpp>
#include <analyzer/kb/rules_schema.hpp>

#include "../support.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace virtdeny;

namespace {

const kb::DeviceRules& bundled()
{
    static const kb::DeviceRules devices = [] {
        kb::DeviceRules d;
        std::vector<std::string> errors;
        d.load(test::source_dir() + "/rules", errors);
        REQUIRE(errors.empty());
        return d;
    }();
    return devices;
}

std::vector<std::string> kind_names()
{
    std::vector<std::string> names;
    for (const auto& k : bundled().kinds()) {
        names.push_back(k.name);
    }
    return names;
}

std::vector<std::string> problems_of(const std::string& yaml, const std::string& def)
{
    std::vector<std::string> out;
    for (const auto& p : kb::check_against_schema(YAML::Load(yaml), def)) {
        out.push_back(std::to_string(p.line) + ": " + p.where + ": " + p.message);
    }
    return out;
}

} // namespace

TEST_CASE("vocabulary: schema.json's deviceKind enum is devices.yaml's kinds in order", "[kb][vocabulary]")
{
    const auto schema = nlohmann::json::parse(test::read_file(test::source_dir() + "/rules/schema.json"));
    std::vector<std::string> enum_kinds;
    for (const auto& v : schema.at("$defs").at("deviceKind").at("enum")) {
        enum_kinds.push_back(v.get<std::string>());
    }
    CHECK(enum_kinds == kind_names());
    CHECK(std::find(enum_kinds.begin(), enum_kinds.end(), model::k_unknown_device) != enum_kinds.end());
    // the binary carries this same schema
    CHECK(kb::rules_schema() == schema);
}

TEST_CASE("vocabulary: the schema's hints are the ones the loader reads", "[kb][vocabulary]")
{
    std::set<std::string> schema_hints;
    for (const auto& [key, value] : kb::rules_schema().at("$defs").at("deviceHints").at("properties").items()) {
        (void)value;
        schema_hints.insert(key);
    }
    // every hint the schema names loads (an unknown one is an error), and sets its flag
    for (const auto& hint : schema_hints) {
        const std::string dir = test::temp_dir();
        std::filesystem::create_directories(dir + "/devices");
        test::write_file(dir + "/devices/k.yaml", "kinds:\n  - {name: test-kind, desc: d, hints: {" + hint + ": true}}\n");
        kb::DeviceRules d;
        std::vector<std::string> errors;
        d.load(dir, errors);
        INFO(hint);
        CHECK(errors.empty());
        CHECK_FALSE(d.hints("test-kind") == model::DeviceHints{});
    }
    const std::string dir = test::temp_dir();
    std::filesystem::create_directories(dir + "/devices");
    test::write_file(dir + "/devices/k.yaml", "kinds:\n  - {name: test-kind, desc: d, hints: {no_such_hint: true}}\n");
    kb::DeviceRules d;
    std::vector<std::string> errors;
    d.load(dir, errors);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("unknown hint 'no_such_hint'") != std::string::npos);
}

TEST_CASE("vocabulary: docs/json.md's device table is devices.yaml's kinds", "[kb][vocabulary]")
{
    const std::string doc = test::read_file(test::source_dir() + "/docs/json.md");
    const std::size_t start = doc.find("\n## Device kinds\n");
    REQUIRE(start != std::string::npos);
    const std::size_t end = doc.find("\n## ", start + 1);
    std::istringstream in(doc.substr(start, end == std::string::npos ? std::string::npos : end - start));
    std::vector<std::pair<std::string, std::string>> rows;
    std::string line;
    const std::regex row(R"(^\| `([^`]+)` \| (.*) \|$)");
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_match(line, m, row)) {
            rows.emplace_back(m[1], m[2]);
        }
    }
    std::vector<std::pair<std::string, std::string>> expected;
    for (const auto& k : bundled().kinds()) {
        expected.emplace_back(k.name, k.desc);
    }
    CHECK(rows == expected);
    // and the `device` field points at it rather than listing kinds of its own
    CHECK(doc.find("| `device` | string | the device kind: one of the [device kinds](#device-kinds) |")
          != std::string::npos);
}

TEST_CASE("vocabulary: the shell completion lists no device kinds of its own", "[kb][vocabulary]")
{
    // (it completes commands, options and rule ids from `rules list`; a kind list added there
    // would have to be generated from the YAML)
    for (const char* file : {"/dist/completion/virtdeny.bash", "/dist/completion/_virtdeny"}) {
        const std::string text = test::read_file(test::source_dir() + file);
        for (const auto& name : kind_names()) {
            if (name == "other" || name == "log" || name == "network" || name == "helper") {
                continue;  // ordinary words
            }
            INFO(file << ": " << name);
            CHECK(text.find(name) == std::string::npos);
        }
    }
}

TEST_CASE("vocabulary: the new kinds classify their paths and the hints come from the YAML",
          "[kb][vocabulary]")
{
    const auto& d = bundled();
    CHECK(d.classify_path("/dev/kvm", "chr_file") == "kvm");
    CHECK(d.classify_path("/dev/kvmx", "chr_file") != "kvm");
    CHECK(d.classify_path("/dev/sgx_vepc", "chr_file") == "sgx");
    CHECK(d.classify_path("/dev/sgx_provision", "chr_file") == "sgx");
    CHECK(d.classify_path("/dev/vhost-vdpa-3", "chr_file") == "vdpa");
    CHECK(d.classify_path("/dev/vhost-net", "chr_file") == "vhost");
    CHECK(d.classify_path("/var/lib/libvirt/qemu/channel/target/domain-4-db/org.qemu.guest_agent.0", "sock_file")
          == "guest-agent");
    CHECK(d.classify_path("/var/lib/libvirt/qemu/channel/target/domain-4-db/org.libguestfs.channel.0", "sock_file")
          == "chardev");
    // the hints the writers use come from the YAML
    CHECK(d.hints("share-9p").share_root);
    CHECK(d.hints("share-9p").shared_tree);
    CHECK(d.hints("virtiofs").shared_tree);
    CHECK_FALSE(d.hints("virtiofs").share_root);
    CHECK(d.hints("disk-image").shareable_disk);
    CHECK(d.hints("cdrom-image").guest_image);
    CHECK(d.hints("nvram").read_only_content);
    CHECK(d.hints("memfd").mkstemp_name);
    CHECK(d.hints("no-such-kind") == model::DeviceHints{});
}

TEST_CASE("rules schema: the bundled rule files pass and the checker knows every keyword the schema uses",
          "[kb][vocabulary][schema]")
{
    const auto& devices = bundled();
    const auto is_kind = [&](const std::string& k) { return devices.is_kind(k); };
    for (const auto& [sub, def] : {std::pair<std::string, std::string>{"devices", "deviceFile"}, {"causes", "causeFile"}}) {
        for (const auto& file : kb::yaml_files(test::source_dir() + "/rules/" + sub)) {
            INFO(file);
            const auto problems = kb::check_against_schema(YAML::LoadFile(file), def, is_kind);
            for (const auto& p : problems) {
                FAIL_CHECK(p.line << ": " << p.where << ": " << p.message);
            }
        }
    }
    // an unsupported keyword would be silently ignored: none may be used
    const auto& supported = kb::supported_schema_keywords();
    const std::set<std::string> annotations = {"$schema", "$id", "$defs", "title", "description"};
    std::vector<const nlohmann::json*> stack = {&kb::rules_schema()};
    while (!stack.empty()) {
        const nlohmann::json* s = stack.back();
        stack.pop_back();
        if (s->is_array()) {
            for (const auto& v : *s) {
                stack.push_back(&v);
            }
            continue;
        }
        if (!s->is_object()) {
            continue;
        }
        for (const auto& [key, value] : s->items()) {
            INFO(key);
            CHECK((annotations.count(key) || std::find(supported.begin(), supported.end(), key) != supported.end()));
            if (key == "properties" || key == "$defs") {
                for (const auto& [name, sub] : value.items()) {
                    (void)name;
                    stack.push_back(&sub);
                }
            } else if (key != "enum" && key != "required") {
                stack.push_back(&value);
            }
        }
    }
}

TEST_CASE("rules schema: problems are located by line and pointer", "[kb][vocabulary][schema]")
{
    CHECK(problems_of("- id: vd-dev-x\n  device: disk-image\n  match: {path: '^/x', pathh: 1}\n  samples: ['/x']\n",
                      "deviceFile")
          == std::vector<std::string>{"3: /0/match/pathh: unknown key 'pathh' (allowed: path, tclass)"});
    CHECK(problems_of("- id: vd-dev-x\n  device: floppy\n  match: {path: '^/x'}\n", "deviceFile")
          == std::vector<std::string>{"2: /0/device: 'floppy' is not one of " + [] {
                 std::string all;
                 for (const auto& n : kind_names()) {
                     all += (all.empty() ? "" : ", ") + n;
                 }
                 return all;
             }()});
    CHECK(problems_of("- id: vd-dev-x\n  device: disk-image\n  match: {}\n", "deviceFile")
          == std::vector<std::string>{"3: /0/match: missing 'path'"});
    CHECK(problems_of("kinds:\n  - {name: Bad, desc: ''}\nrules: []\n", "deviceFile")
          == std::vector<std::string>{"2: /kinds/0/name: 'Bad' does not match ^[a-z0-9]+(-[a-z0-9]+)*$",
                                      "2: /kinds/0/desc: must not be empty"});
    CHECK(problems_of("kinds: []\nother: 1\n", "deviceFile")
          == std::vector<std::string>{"2: /other: unknown key 'other' (allowed: kinds, rules)"});
    CHECK(problems_of("- id: vd-aa-x\n  desc: d\n  match: {lsm: apparmor, host_level: maybe}\n  explanation: x\n"
                      "  samples: ['x']\n",
                      "causeFile")
          == std::vector<std::string>{"3: /0/match/host_level: expected a boolean"});
    CHECK(problems_of("- id: vd-aa-x\n  desc: d\n  match: {lsm: apparmor}\n  explanation: x\n  samples: []\n",
                      "causeFile")
          == std::vector<std::string>{"5: /0/samples: needs at least 1 item(s)"});
    CHECK(problems_of("- id: Not-An-Id\n  desc: d\n  match: {lsm: apparmor}\n  explanation: x\n  samples: x\n",
                      "causeFile")
          == std::vector<std::string>{"1: /0/id: 'Not-An-Id' does not match ^vd-(se|aa|lv)-[a-z0-9]+(-[a-z0-9]+)*$"});
    // a kind a --rules DIR adds is a kind where the schema says deviceKind
    const auto added = kb::check_against_schema(YAML::Load("- {id: x, device: floppy, match: {path: '^/fd'}}\n"),
                                                "deviceFile", [](const std::string& k) { return k == "floppy"; });
    CHECK(added.empty());
}

TEST_CASE("vocabulary: the kinds domain XML gives are kinds of the YAML", "[kb][vocabulary]")
{
    // one domain with a device of each kind the XML reader knows (written for this test, in
    // libvirt's domain XML format)
    const std::string xml = R"(<domain type='kvm'>
  <name>vocab</name>
  <uuid>7d3c1a52-2f41-4a4e-9d8e-1b2c3d4e5f60</uuid>
  <os><loader>/usr/share/OVMF/OVMF_CODE.fd</loader><nvram>/var/lib/libvirt/qemu/nvram/vocab_VARS.fd</nvram>
      <kernel>/boot/vmlinuz-vocab</kernel></os>
  <memoryBacking><hugepages/></memoryBacking>
  <devices>
    <disk type='file' device='disk'><source file='/data/vocab.qcow2'/></disk>
    <disk type='file' device='cdrom'><source file='/data/seed.iso'/></disk>
    <filesystem type='mount'><source dir='/srv/p9'/><target dir='p9'/></filesystem>
    <filesystem type='mount'><driver type='virtiofs'/><source dir='/srv/vfs'/><target dir='vfs'/></filesystem>
    <memory model='nvdimm'><source><path>/data/nv.dev</path></source></memory>
    <tpm model='tpm-crb'><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm>
    <hostdev mode='subsystem' type='pci'/>
    <hostdev mode='subsystem' type='usb'/>
    <channel type='unix'><source mode='bind' path='/run/ga.sock'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <channel type='unix'><source mode='bind' path='/run/other.sock'/><target type='virtio' name='org.example.0'/></channel>
    <serial type='file'><source path='/var/log/vocab-serial.txt'/><log file='/var/log/vocab-serial.log'/></serial>
    <interface type='vhostuser'><source type='unix' path='/run/vhost-user.sock' mode='client'/></interface>
    <interface type='vdpa'><source dev='/dev/vhost-vdpa-0'/></interface>
  </devices>
</domain>)";
    correlate::DomainXmlIndex index;
    std::string error;
    REQUIRE(index.add_document(xml, "vocab.xml", error));
    REQUIRE(index.domains().size() == 1);
    std::set<std::string> kinds;
    for (const auto& dev : index.domains().front().devices) {
        INFO(dev.path << " " << dev.kind);
        CHECK(bundled().is_kind(dev.kind));
        kinds.insert(dev.kind);
    }
    CHECK(kinds == std::set<std::string>{"cdrom-image", "chardev", "disk-image", "guest-agent", "hugepages",
                                         "kernel-image", "log", "nvdimm", "nvram", "share-9p", "tpm", "usb", "vdpa",
                                         "vfio", "vhost", "virtiofs"});
    const auto& dom = index.domains().front();
    CHECK(correlate::DomainXmlIndex::device_at(dom, "/run/ga.sock")->kind == "guest-agent");
    CHECK(correlate::DomainXmlIndex::device_at(dom, "/run/other.sock")->kind == "chardev");
    CHECK(correlate::DomainXmlIndex::device_at(dom, "/dev/vhost-vdpa-0")->kind == "vdpa");
}
