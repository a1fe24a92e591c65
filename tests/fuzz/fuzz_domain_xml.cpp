// libFuzzer target: the domain XML reader. Checks: a parsed domain has a name or a uuid;
// device kinds are words of the vocabulary (docs/json.md); every device path leads back to its domain
// (device_at), and by_uuid / by_name find what was read.
#include "fuzz_support.hpp"

#include <analyzer/correlate/domain_xml.hpp>

#include <set>
#include <string>
#include <string_view>

namespace virtdeny::fuzz::domain_xml {

bool known_kind(const std::string& kind)
{
    static const std::set<std::string> k_kinds = {
        "nvdimm", "memfd", "hugepages", "memory-backing", "disk-image", "cdrom-image", "nvram", "kernel-image",
        "share-9p", "virtiofs", "vfio", "vhost", "tap", "usb", "tpm", "monitor-socket", "chardev", "log", "audio",
        "graphics", "migration", "helper", "capability", "network", "other"};
    return k_kinds.count(kind) != 0;
}

int one_input(const std::uint8_t* data, std::size_t size)
{
    correlate::DomainXmlIndex index;
    std::string error;
    const bool ok =
        index.add_document(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.xml", error);
    FUZZ_CHECK(ok || !error.empty());
    FUZZ_CHECK(index.domains().size() <= 1);
    for (const auto& dom : index.domains()) {
        FUZZ_CHECK(!dom.name.empty() || !dom.uuid.empty());
        if (!dom.uuid.empty()) {
            FUZZ_CHECK(index.by_uuid(dom.uuid) == &dom);
        }
        if (!dom.name.empty()) {
            FUZZ_CHECK(index.by_name(dom.name) == &dom);
        }
        for (const auto& dev : dom.devices) {
            FUZZ_CHECK(known_kind(dev.kind));
            FUZZ_CHECK(correlate::DomainXmlIndex::device_at(dom, dev.path) != nullptr);
            FUZZ_CHECK(index.by_path(dev.path) == &dom);
        }
        index.by_level(dom.levels.empty() ? "s0:c1,c2" : dom.levels.front());
    }
    return 0;
}

} // namespace virtdeny::fuzz::domain_xml

VIRTDENY_FUZZ_MAIN(domain_xml)
