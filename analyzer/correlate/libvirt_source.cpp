#include <analyzer/correlate/libvirt_source.hpp>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <sys/stat.h>
#include <thread>

namespace virtdeny::correlate {

namespace {

// Read-only sockets of the modular daemon (virtqemud) and of the monolithic libvirtd; the
// client library picks the one that exists for qemu:///system.
constexpr const char* k_readonly_sockets[] = {"/run/libvirt/virtqemud-sock-ro", "/run/libvirt/libvirt-sock-ro"};

bool is_socket(const char* path)
{
    struct stat st{};
    return ::stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

// libvirt prints every error on stderr unless a handler is set; we say one line ourselves.
void quiet_error(void*, virErrorPtr) {}

void init_libvirt()
{
    static std::once_flag once;
    std::call_once(once, [] {
        virInitialize();
        virSetErrorFunc(nullptr, quiet_error);
    });
}

std::string last_error(const char* what)
{
    const char* msg = virGetLastErrorMessage();
    std::string out = what;
    if (msg && *msg) {
        out += ": ";
        out += msg;
    }
    // one line: libvirt messages may carry a newline
    for (char& c : out) {
        if (c == '\n' || c == '\r') {
            c = ' ';
        }
    }
    return out;
}

LibvirtListing list_now(const std::string& uri)
{
    init_libvirt();
    LibvirtListing out;
    virConnectPtr conn = virConnectOpenReadOnly(uri.c_str());
    if (!conn) {
        out.error = last_error("cannot connect");
        return out;
    }
    virDomainPtr* doms = nullptr;
    const int n = virConnectListAllDomains(conn, &doms, 0);
    if (n < 0) {
        out.error = last_error("cannot list domains");
        virConnectClose(conn);
        return out;
    }
    for (int i = 0; i < n; ++i) {
        virDomainPtr dom = doms[i];
        LibvirtDomain d;
        char uuid[VIR_UUID_STRING_BUFLEN] = {};
        if (virDomainGetUUIDString(dom, uuid) == 0) {
            d.uuid = uuid;
        }
        if (const char* name = virDomainGetName(dom)) {
            d.name = name;
        }
        const unsigned int id = virDomainGetID(dom);
        d.id = id == static_cast<unsigned int>(-1) ? -1 : static_cast<int>(id);
        // flags 0: the live XML of a running domain (with its dynamic labels), else the
        // persistent one; VIR_DOMAIN_XML_SECURE is not allowed read-only and not needed
        if (char* xml = virDomainGetXMLDesc(dom, 0)) {
            d.xml = xml;
            std::free(xml);
        }
        virDomainFree(dom);
        // a domain undefined between the list and its XML has no XML: skip it
        if (!d.xml.empty()) {
            out.domains.push_back(std::move(d));
        }
    }
    std::free(doms);
    virConnectClose(conn);
    out.ok = true;
    return out;
}

// A listing thread that has not come back yet (a connection that does not answer).
std::atomic<bool> g_hanging{false};

} // namespace

ConnectTarget resolve_connect(const std::string& option)
{
    std::string value = option;
    if (value.empty()) {
        if (const char* env = std::getenv("VIRTDENY_CONNECT")) {
            value = env;
        }
    }
    ConnectTarget t;
    if (value == "none") {
        return t;
    }
    if (!value.empty()) {
        t.uri = value;
        t.explicit_uri = true;
        return t;
    }
    for (const char* sock : k_readonly_sockets) {
        if (is_socket(sock)) {
            t.uri = "qemu:///system";
            return t;
        }
    }
    return t;  // no libvirt on this host: off, silently
}

std::chrono::milliseconds connect_timeout()
{
    if (const char* v = std::getenv("VIRTDENY_CONNECT_TIMEOUT_MS")) {
        const long long ms = std::strtoll(v, nullptr, 10);
        if (ms > 0) {
            return std::chrono::milliseconds(ms);
        }
    }
    return std::chrono::milliseconds(10000);
}

LibvirtListing list_libvirt_domains(const std::string& uri, std::chrono::milliseconds timeout)
{
    LibvirtListing out;
    if (g_hanging.load()) {
        out.error = "an earlier connection still has not answered";
        return out;
    }
    struct Shared
    {
        std::mutex mutex;
        std::condition_variable done_cv;
        bool done = false;
        LibvirtListing result;
    };
    auto shared = std::make_shared<Shared>();
    g_hanging = true;
    try {
        std::thread([shared, uri] {
            LibvirtListing r = list_now(uri);
            std::lock_guard<std::mutex> lock(shared->mutex);
            shared->result = std::move(r);
            shared->done = true;
            g_hanging = false;
            shared->done_cv.notify_all();
        }).detach();
    } catch (const std::system_error& e) {
        g_hanging = false;
        out.error = std::string("cannot start a thread: ") + e.what();
        return out;
    }
    std::unique_lock<std::mutex> lock(shared->mutex);
    if (!shared->done_cv.wait_for(lock, timeout, [&] { return shared->done; })) {
        out.error = "no answer within " + std::to_string(timeout.count()) + " ms";
        return out;  // the thread keeps its own reference; it ends with the process at worst
    }
    return std::move(shared->result);
}

std::size_t add_libvirt_domains(const LibvirtListing& listing, const std::string& uri, DomainXmlIndex& xml,
                                std::vector<std::string>& errors)
{
    std::size_t added = 0;
    for (const auto& d : listing.domains) {
        std::string error;
        const std::string file = uri + " domain " + (d.name.empty() ? d.uuid : d.name);
        if (xml.add_document(d.xml, file, error, "libvirt-api", d.id)) {
            ++added;
        } else {
            errors.push_back(error);
        }
    }
    return added;
}

std::string load_from_libvirt(const std::string& option, DomainXmlIndex& xml)
{
    const ConnectTarget target = resolve_connect(option);
    if (target.uri.empty()) {
        return {};
    }
    const LibvirtListing listing = list_libvirt_domains(target.uri, connect_timeout());
    if (!listing.ok) {
        return "connect " + target.uri + ": " + listing.error
               + "; going on from the log alone (--connect none turns this off)";
    }
    std::vector<std::string> errors;
    add_libvirt_domains(listing, target.uri, xml, errors);
    if (!errors.empty()) {
        return "connect " + target.uri + ": " + errors.front()
               + (errors.size() > 1 ? " (and " + std::to_string(errors.size() - 1) + " more)" : std::string());
    }
    return {};
}

} // namespace virtdeny::correlate
