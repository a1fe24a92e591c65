#include <analyzer/correlate/domain_xml.hpp>

#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/util/text.hpp>

#include <pugixml.hpp>

#include <algorithm>
#include <filesystem>
#include <string_view>

namespace virtdeny::correlate {

namespace fs = std::filesystem;

namespace {

void add_device(DomainInfo& dom, std::string_view raw, std::string kind, bool tree = false, bool raw_args = false)
{
    std::string path(util::trim(raw));
    if (path.empty()) {
        return;
    }
    while (tree && path.size() > 1 && path.back() == '/') {
        path.pop_back();
    }
    dom.devices.push_back(DeviceSource{std::move(path), std::move(kind), tree, raw_args});
}

std::string source_path(const pugi::xml_node& source)
{
    for (const char* attr : {"file", "dev", "dir", "path", "socket"}) {
        if (auto a = source.attribute(attr)) {
            return a.value();
        }
    }
    return {};
}

void read_disks(const pugi::xml_node& devices, DomainInfo& dom)
{
    for (auto disk : devices.children("disk")) {
        const std::string device = disk.attribute("device").as_string("disk");
        const std::string kind = device == "cdrom" ? "cdrom-image" : "disk-image";
        add_device(dom, source_path(disk.child("source")), kind);
        // backing chain
        for (auto store = disk.child("backingStore"); store; store = store.child("backingStore")) {
            add_device(dom, source_path(store.child("source")), kind);
        }
    }
}

void read_filesystems(const pugi::xml_node& devices, DomainInfo& dom)
{
    for (auto fsn : devices.children("filesystem")) {
        const std::string driver = fsn.child("driver").attribute("type").as_string();
        const std::string kind = driver == "virtiofs" ? "virtiofs" : "share-9p";
        add_device(dom, source_path(fsn.child("source")), kind, true);
    }
}

void read_memory(const pugi::xml_node& devices, DomainInfo& dom)
{
    for (auto mem : devices.children("memory")) {
        const std::string model = mem.attribute("model").as_string();
        const std::string path = mem.child("source").child_value("path");
        add_device(dom, path, model == "nvdimm" ? "nvdimm" : "memory-backing");
    }
}

void read_other_devices(const pugi::xml_node& devices, DomainInfo& dom)
{
    for (auto tpm : devices.children("tpm")) {
        add_device(dom, tpm.child("backend").child("device").attribute("path").as_string(), "tpm");
    }
    for (auto host : devices.children("hostdev")) {
        const std::string type = host.attribute("type").as_string();
        if (type == "usb") {
            add_device(dom, "/dev/bus/usb", "usb", true);
        } else if (type == "pci") {
            add_device(dom, "/dev/vfio", "vfio", true);
        }
    }
    for (const char* chardev : {"serial", "console", "channel", "parallel"}) {
        for (auto c : devices.children(chardev)) {
            // the guest agent's virtio-serial channel has a kind of its own
            const bool agent = std::string_view(c.child("target").attribute("name").as_string()) == "org.qemu.guest_agent.0";
            add_device(dom, source_path(c.child("source")), agent ? "guest-agent" : "chardev");
            add_device(dom, c.child("log").attribute("file").as_string(), "log");
        }
    }
    for (auto iface : devices.children("interface")) {
        if (std::string_view(iface.attribute("type").as_string()) == "vdpa") {
            add_device(dom, iface.child("source").attribute("dev").as_string(), "vdpa");  // /dev/vhost-vdpa-N
        } else {
            add_device(dom, iface.child("source").attribute("path").as_string(), "vhost");
        }
    }
}

// -fsdev local,...,path=/dir and -drive file=... in <qemu:commandline>
void read_qemu_commandline(const pugi::xml_node& root, DomainInfo& dom)
{
    for (auto cmd : root.children()) {
        const std::string tag = cmd.name();
        if (tag != "qemu:commandline" && !(util::ends_with(tag, ":commandline") || tag == "commandline")) {
            continue;
        }
        std::string previous;
        for (auto arg : cmd.children()) {
            const std::string value = arg.attribute("value").as_string();
            if (previous == "-fsdev" || previous == "-virtfs") {
                const std::size_t p = value.find("path=");
                if (p != std::string::npos) {
                    std::size_t end = value.find(',', p);
                    add_device(dom, value.substr(p + 5, end == std::string::npos ? std::string::npos : end - p - 5),
                               "share-9p", true, true);
                }
            }
            previous = value;
        }
    }
}

} // namespace

bool DomainXmlIndex::add_document(std::string_view xml, const std::string& file, std::string& error,
                                  std::string_view via, int id)
{
    pugi::xml_document doc;
    auto result = doc.load_buffer(xml.data(), xml.size());
    if (!result) {
        error = file + ": offset " + std::to_string(result.offset) + ": " + result.description();
        return false;
    }
    auto root = doc.child("domain");
    if (!root) {
        error = file + ": not a libvirt domain XML (no <domain>)";
        return false;
    }
    DomainInfo dom;
    dom.file = file;
    dom.via = std::string(via);
    dom.id = id;
    dom.name = std::string(util::trim(root.child_value("name")));
    dom.uuid = std::string(util::trim(root.child_value("uuid")));
    for (auto sec : root.children("seclabel")) {
        const std::string model = sec.attribute("model").as_string();
        for (const char* label : {"label", "imagelabel"}) {
            const std::string value(util::trim(sec.child_value(label)));
            if (value.empty()) {
                continue;
            }
            if (model == "apparmor") {
                dom.apparmor_labels.push_back(value);
            } else if (model == "selinux") {
                auto level = mcs_level(value);
                if (!level.empty()) {
                    dom.levels.emplace_back(level);
                }
            }
        }
    }
    auto os = root.child("os");
    add_device(dom, os.child_value("nvram"), "nvram");
    add_device(dom, os.child("nvram").child("source").attribute("file").as_string(), "nvram");
    add_device(dom, os.child_value("loader"), "nvram");
    add_device(dom, os.child_value("kernel"), "kernel-image");
    add_device(dom, os.child_value("initrd"), "kernel-image");
    auto backing = root.child("memoryBacking");
    if (backing.child("hugepages")) {
        add_device(dom, "/dev/hugepages", "hugepages", true);
    }
    auto devices = root.child("devices");
    read_disks(devices, dom);
    read_filesystems(devices, dom);
    read_memory(devices, dom);
    read_other_devices(devices, dom);
    read_qemu_commandline(root, dom);
    if (dom.uuid.empty() && dom.name.empty()) {
        error = file + ": domain without <name> or <uuid>";
        return false;
    }
    // the same domain twice (a file and libvirt, or two files): the last one read wins, so a
    // device path it names stays evidence of one domain
    for (auto& known : m_domains) {
        if (!dom.uuid.empty() && known.uuid == dom.uuid) {
            known = std::move(dom);
            return true;
        }
    }
    m_domains.push_back(std::move(dom));
    return true;
}

void DomainXmlIndex::load(const std::string& path, std::vector<std::string>& errors)
{
    std::error_code ec;
    std::vector<fs::path> files;
    if (fs::is_directory(path, ec)) {
        for (const auto& entry : fs::directory_iterator(path, ec)) {
            if (entry.path().extension() == ".xml") {
                files.push_back(entry.path());
            }
        }
        std::sort(files.begin(), files.end());
    } else if (fs::exists(path, ec)) {
        files.emplace_back(path);
    } else {
        errors.push_back(path + ": no such file or directory");
        return;
    }
    for (const auto& file : files) {
        pugi::xml_document doc;
        std::string text;
        {
            FILE* f = std::fopen(file.c_str(), "rb");
            if (!f) {
                errors.push_back(file.string() + ": cannot open");
                continue;
            }
            char buf[65536];
            std::size_t n = 0;
            while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && text.size() < (16u << 20)) {
                text.append(buf, n);
            }
            std::fclose(f);
        }
        std::string error;
        if (!add_document(text, file.string(), error)) {
            errors.push_back(error);
        }
    }
}

std::string DomainXmlIndex::name_of(std::string_view uuid) const
{
    const DomainInfo* d = by_uuid(uuid);
    return d ? d->name : std::string();
}

const DomainInfo* DomainXmlIndex::by_uuid(std::string_view uuid) const
{
    for (const auto& d : m_domains) {
        if (!uuid.empty() && d.uuid == uuid) {
            return &d;
        }
    }
    return nullptr;
}

const DomainInfo* DomainXmlIndex::by_name(std::string_view name) const
{
    for (const auto& d : m_domains) {
        if (!name.empty() && d.name == name) {
            return &d;
        }
    }
    return nullptr;
}

const DomainInfo* DomainXmlIndex::by_level(std::string_view level) const
{
    if (!util::contains(level, ":c")) {
        return nullptr;
    }
    for (const auto& d : m_domains) {
        if (std::find(d.levels.begin(), d.levels.end(), level) != d.levels.end()) {
            return &d;
        }
    }
    return nullptr;
}

const DeviceSource* DomainXmlIndex::device_at(const DomainInfo& domain, std::string_view path)
{
    for (const auto& dev : domain.devices) {
        if (path == dev.path) {
            return &dev;
        }
    }
    for (const auto& dev : domain.devices) {
        if (dev.tree && util::starts_with(path, dev.path)
            && (path.size() == dev.path.size() || path[dev.path.size()] == '/')) {
            return &dev;
        }
    }
    return nullptr;
}

const DomainInfo* DomainXmlIndex::by_path(std::string_view path) const
{
    const DomainInfo* found = nullptr;
    for (const auto& d : m_domains) {
        if (device_at(d, path)) {
            if (found) {
                return nullptr;  // shared by several domains: not evidence of one
            }
            found = &d;
        }
    }
    return found;
}

} // namespace virtdeny::correlate
