#include <analyzer/correlate/libvirt_events.hpp>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <system_error>

namespace virtdeny::correlate {

namespace {

void quiet_error(void*, virErrorPtr) {}

// libvirt's default event loop: registered once per process, before any connection that
// wants events is opened.
bool event_loop_ready()
{
    static std::once_flag once;
    static bool ok = false;
    std::call_once(once, [] {
        virInitialize();
        virSetErrorFunc(nullptr, quiet_error);
        ok = virEventRegisterDefaultImpl() == 0;
    });
    return ok;
}

std::string one_line(std::string s)
{
    for (char& c : s) {
        if (c == '\n' || c == '\r') {
            c = ' ';
        }
    }
    return s;
}

struct Callbacks
{
    std::atomic<bool>* changed;
    std::atomic<std::uint64_t>* events;
    std::atomic<bool>* closed;
};

int on_lifecycle(virConnectPtr, virDomainPtr, int event, int, void* opaque)
{
    auto* cb = static_cast<Callbacks*>(opaque);
    ++*cb->events;
    // a new run (new labels, a new QEMU pid) or a new definition (its <seclabel>): list again;
    // a stop changes nothing a denial of that VM could still need
    if (event == VIR_DOMAIN_EVENT_STARTED || event == VIR_DOMAIN_EVENT_DEFINED) {
        cb->changed->store(true);
    }
    return 0;
}

void on_close(virConnectPtr, int, void* opaque)
{
    static_cast<Callbacks*>(opaque)->closed->store(true);
}

void on_tick(int, void*) {}

} // namespace

LibvirtEvents::~LibvirtEvents()
{
    stop();
}

std::string LibvirtEvents::error() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_error;
}

bool LibvirtEvents::start(const std::string& uri)
{
    stop();
    m_stop = false;
    m_ended = false;
    m_listening = false;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_error.clear();
    }
    try {
        m_thread = std::thread([this, uri] { run(uri); });
    } catch (const std::system_error& e) {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_error = std::string("cannot start a thread: ") + e.what();
        m_ended = true;
        return false;
    }
    return true;
}

void LibvirtEvents::stop()
{
    m_stop = true;
    if (m_thread.joinable()) {
        m_thread.join();  // the loop wakes at least every 200 ms (its timer)
    }
}

void LibvirtEvents::run(std::string uri)
{
    auto fail = [this](const std::string& what) {
        const char* msg = virGetLastErrorMessage();
        std::lock_guard<std::mutex> lock(m_mutex);
        m_error = one_line(what + (msg && *msg ? std::string(": ") + msg : std::string()));
    };
    if (!event_loop_ready()) {
        fail("cannot set up libvirt's event loop");
        m_ended = true;
        return;
    }
    // the loop must turn while the connection opens (a remote one talks through it)
    const int timer = virEventAddTimeout(200, on_tick, nullptr, nullptr);
    virConnectPtr conn = virConnectOpenReadOnly(uri.c_str());
    if (!conn) {
        fail("cannot connect for lifecycle events");
        if (timer >= 0) {
            virEventRemoveTimeout(timer);
        }
        m_ended = true;
        return;
    }
    std::atomic<bool> closed{false};
    Callbacks callbacks{&m_changed, &m_events, &closed};
    const int id = virConnectDomainEventRegisterAny(conn, nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                    VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), &callbacks, nullptr);
    if (id < 0) {
        fail("cannot register for lifecycle events");
    } else {
        virConnectRegisterCloseCallback(conn, on_close, &callbacks, nullptr);
        virConnectSetKeepAlive(conn, 5, 3);  // a remote daemon that stops answering closes it
        m_listening = true;
        while (!m_stop.load() && !closed.load()) {
            if (virEventRunDefaultImpl() < 0) {
                fail("libvirt's event loop failed");
                break;
            }
        }
        m_listening = false;
        if (closed.load() && !m_stop.load()) {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_error = "the connection for lifecycle events closed";
        }
        virConnectUnregisterCloseCallback(conn, on_close);
        virConnectDomainEventDeregisterAny(conn, id);
    }
    virConnectClose(conn);
    if (timer >= 0) {
        virEventRemoveTimeout(timer);
    }
    m_ended = true;
}

} // namespace virtdeny::correlate
