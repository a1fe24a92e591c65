// libFuzzer target: the domain XML reader.
#include <analyzer/correlate/domain_xml.hpp>

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    virtdeny::correlate::DomainXmlIndex index;
    std::string error;
    index.add_document(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.xml", error);
    for (const auto& dom : index.domains()) {
        for (const auto& dev : dom.devices) {
            index.by_path(dev.path);
        }
        index.by_level(dom.levels.empty() ? "s0:c1,c2" : dom.levels.front());
    }
    return 0;
}
