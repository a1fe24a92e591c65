// follow --connect: libvirt's domain lifecycle events, so that a VM started (or defined) after
// follow began is listed again at once, without waiting for a VIRT_* record or for a denial
// nobody can name. One read-only connection with a lifecycle callback
// (virConnectDomainEventRegisterAny, VIR_DOMAIN_EVENT_ID_LIFECYCLE), served by libvirt's default
// event loop (virEventRegisterDefaultImpl / virEventRunDefaultImpl) on a thread of its own.
//
// The callback only raises a flag: the caller asks libvirt for its domains again (bounded, as
// at start) when it sees the flag, once per start, never per denial. Nothing here blocks the
// caller: the connection is opened on the event thread; when it fails or closes later (the
// daemon restarted), error() says so and the caller may start again.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace virtdeny::correlate {

class LibvirtEvents
{
public:
    LibvirtEvents();
    ~LibvirtEvents();
    LibvirtEvents(const LibvirtEvents&) = delete;
    LibvirtEvents& operator=(const LibvirtEvents&) = delete;

    // Starts the event thread on uri (read-only). Returns false only when no thread could start.
    bool start(const std::string& uri);
    // Ends the thread: joined when it ends within k_stop_wait_ms, else left to end by itself (a
    // connection that never answers must not hold follow at its exit).
    void stop();
    static constexpr int k_stop_wait_ms = 2000;

    // A domain started or was defined since the last call: list the domains again.
    bool take_change();
    // Lifecycle events seen (started, defined, stopped, ...), for tests and diagnostics.
    std::uint64_t events() const;
    // The callback is registered and the connection open.
    bool listening() const;
    // The thread has ended: the connection failed or closed (error() says why), or stop().
    bool ended() const;
    std::string error() const;

    struct State;  // shared with the thread, which may outlive this object (see stop)

private:
    std::shared_ptr<State> m_state;
    std::thread m_thread;
};

} // namespace virtdeny::correlate
