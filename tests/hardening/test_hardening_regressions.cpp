// Tests for what the fuzzers found (inputs in fixtures/fuzz/, see its README).
#include <analyzer/kb/device_rules.hpp>
#include <analyzer/kb/knowledge_base.hpp>

#include "../support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace virtdeny;
namespace fs = std::filesystem;

TEST_CASE("fuzz_rules: a class-only device rule with samples validates without a path pattern",
          "[hardening][fuzz][regression]")
{
    const std::string dir = test::temp_dir();
    fs::create_directories(dir + "/devices");
    fs::copy_file(test::fixtures_dir() + "/fuzz/rules/tclass-rule-with-samples.yaml", dir + "/devices/x.yaml");
    fs::copy_file(test::fixtures_dir() + "/fuzz/rules/device-path.yaml", dir + "/devices/y.yaml");
    kb::DeviceRules devices;
    std::vector<std::string> errors;
    devices.load(kb::default_rules_dir(), errors, true);  // the vocabulary (kinds) only
    devices.load(dir, errors);
    INFO(errors.size());
    CHECK(errors.empty());
    REQUIRE(devices.rules().size() == 2);
    devices.validate(errors);  // used to dereference the class rule's missing pattern
    CHECK(errors.empty());
    // it classifies by class, the path rule by path
    CHECK(devices.classify_path("/whatever", "capability") == "capability");
    CHECK(devices.classify_path("/fuzz/a.img", "file") == "disk-image");
    // a path rule's wrong sample is still reported
    test::write_file(dir + "/devices/y.yaml", "- id: vd-dev-fuzz-image\n  device: disk-image\n  desc: d\n"
                                              "  match: {path: '^/fuzz/.*\\.img$'}\n  samples: ['/elsewhere/a.img']\n");
    kb::DeviceRules again;
    std::vector<std::string> errors2;
    again.load(kb::default_rules_dir(), errors2, true);
    again.load(dir, errors2);
    again.validate(errors2);
    CHECK(errors2.size() == 1);
    std::error_code ec;
    fs::remove_all(dir, ec);
}
