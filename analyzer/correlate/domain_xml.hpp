// Domain XML (/etc/libvirt/qemu/*.xml, /run/libvirt/qemu/*.xml): uuid <-> name, the
// <seclabel> labels, and the host paths of each device with the device kind they mean.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace virtdeny::correlate {

struct DeviceSource
{
    std::string path;
    std::string kind;  // a kind of rules/devices/devices.yaml
    bool tree = false; // a directory whose whole tree belongs to the device (shares)
    bool raw_args = false;  // from <qemu:commandline>: libvirt and virt-aa-helper do not see it
};

struct DomainInfo
{
    std::string name;
    std::string uuid;
    std::string file;                 // the file, or "URI domain NAME" for --connect
    std::string via = "libvirt-xml";  // where the XML came from: libvirt-xml (a file) or libvirt-api
    int id = -1;                      // libvirt's domain id while running (--connect), else -1
    std::vector<std::string> levels;  // MCS levels of <seclabel> <label>/<imagelabel>
    std::vector<std::string> apparmor_labels;
    std::vector<DeviceSource> devices;
};

class DomainXmlIndex
{
public:
    // Loads one file or every *.xml in a directory; errors go to errors (one per line).
    void load(const std::string& path, std::vector<std::string>& errors);
    // Parses one domain XML document.
    // via and id: see DomainInfo.
    bool add_document(std::string_view xml, const std::string& file, std::string& error,
                      std::string_view via = "libvirt-xml", int id = -1);

    // Adds a domain already read (follow keeps libvirt's earlier list when a new one fails).
    void add(const DomainInfo& domain) { m_domains.push_back(domain); }

    const std::vector<DomainInfo>& domains() const { return m_domains; }
    std::string name_of(std::string_view uuid) const;
    const DomainInfo* by_uuid(std::string_view uuid) const;
    const DomainInfo* by_name(std::string_view name) const;
    const DomainInfo* by_level(std::string_view level) const;
    // The domain that has a device at path (or a share tree containing it).
    const DomainInfo* by_path(std::string_view path) const;
    // The device at path of that domain (exact or inside a share tree), or nullptr.
    static const DeviceSource* device_at(const DomainInfo& domain, std::string_view path);

private:
    std::vector<DomainInfo> m_domains;
};

} // namespace virtdeny::correlate
