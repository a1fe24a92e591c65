#include <analyzer/correlate/libvirt_events.hpp>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <chrono>
#include <system_error>
#include <thread>

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

struct LibvirtEvents::State
{
    std::atomic<bool> stop{false};
    std::atomic<bool> changed{false};
    std::atomic<bool> listening{false};
    std::atomic<bool> ended{false};
    std::atomic<std::uint64_t> events{0};
    std::mutex mutex;
    std::string error;

    void fail(const std::string& what)
    {
        const char* msg = virGetLastErrorMessage();
        std::lock_guard<std::mutex> lock(mutex);
        error = one_line(what + (msg && *msg ? std::string(": ") + msg : std::string()));
    }
};

namespace {

void run(const std::shared_ptr<LibvirtEvents::State>& state, const std::string& uri)
{
    if (!event_loop_ready()) {
        state->fail("cannot set up libvirt's event loop");
        state->ended = true;
        return;
    }
    // the loop must turn while the connection opens (a remote one talks through it), and wakes
    // this often to see stop
    const int timer = virEventAddTimeout(200, on_tick, nullptr, nullptr);
    virConnectPtr conn = virConnectOpenReadOnly(uri.c_str());
    if (!conn) {
        state->fail("cannot connect for lifecycle events");
        if (timer >= 0) {
            virEventRemoveTimeout(timer);
        }
        state->ended = true;
        return;
    }
    std::atomic<bool> closed{false};
    Callbacks callbacks{&state->changed, &state->events, &closed};
    const int id = virConnectDomainEventRegisterAny(conn, nullptr, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                    VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), &callbacks, nullptr);
    if (id < 0) {
        state->fail("cannot register for lifecycle events");
    } else {
        const bool close_cb = virConnectRegisterCloseCallback(conn, on_close, &callbacks, nullptr) == 0;
        virConnectSetKeepAlive(conn, 5, 3);  // a remote daemon that stops answering closes it
        virResetLastError();
        state->listening = true;
        while (!state->stop.load() && !closed.load()) {
            if (virEventRunDefaultImpl() < 0) {
                state->fail("libvirt's event loop failed");
                break;
            }
        }
        state->listening = false;
        if (closed.load() && !state->stop.load()) {
            std::lock_guard<std::mutex> lock(state->mutex);
            state->error = "the connection for lifecycle events closed";
        }
        if (close_cb) {
            virConnectUnregisterCloseCallback(conn, on_close);
        }
        virConnectDomainEventDeregisterAny(conn, id);
    }
    virConnectClose(conn);
    if (timer >= 0) {
        virEventRemoveTimeout(timer);
    }
    state->ended = true;
}

} // namespace

LibvirtEvents::LibvirtEvents() : m_state(std::make_shared<State>()) {}

LibvirtEvents::~LibvirtEvents()
{
    stop();
}

bool LibvirtEvents::take_change()
{
    return m_state->changed.exchange(false);
}

std::uint64_t LibvirtEvents::events() const
{
    return m_state->events.load();
}

bool LibvirtEvents::listening() const
{
    return m_state->listening.load();
}

bool LibvirtEvents::ended() const
{
    return m_state->ended.load();
}

std::string LibvirtEvents::error() const
{
    std::lock_guard<std::mutex> lock(m_state->mutex);
    return m_state->error;
}

bool LibvirtEvents::start(const std::string& uri)
{
    stop();
    m_state = std::make_shared<State>();
    try {
        m_thread = std::thread([state = m_state, uri] { run(state, uri); });
    } catch (const std::system_error& e) {
        std::lock_guard<std::mutex> lock(m_state->mutex);
        m_state->error = std::string("cannot start a thread: ") + e.what();
        m_state->ended = true;
        return false;
    }
    return true;
}

void LibvirtEvents::stop()
{
    m_state->stop = true;
    if (!m_thread.joinable()) {
        return;
    }
    for (int waited = 0; waited < k_stop_wait_ms && !m_state->ended.load(); waited += 10) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (m_state->ended.load()) {
        m_thread.join();
    } else {
        m_thread.detach();  // still opening a connection that does not answer: it ends by itself
        std::lock_guard<std::mutex> lock(m_state->mutex);
        if (m_state->error.empty()) {
            m_state->error = "stopped while the connection had not answered";
        }
    }
}

} // namespace virtdeny::correlate
