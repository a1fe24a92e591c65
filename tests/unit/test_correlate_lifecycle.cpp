// Issue 16, follow --connect: libvirt's domain lifecycle events. libvirt's test driver keeps
// one shared state for every connection to test:///default inside one process, and emits
// lifecycle events when a domain is started through any of them: so a second connection in
// this test starts a domain and the listener (and FollowEngine) must see it. What this does
// not cover: a real daemon (virtqemud) and its socket, and a file node (test:///PATH/node.xml),
// which gives each connection a state of its own (no event crosses connections there).
#include "../silent_socket.hpp"
#include "../support.hpp"

#include <analyzer/correlate/libvirt_events.hpp>
#include <analyzer/kb/knowledge_base.hpp>
#include <analyzer/live/follow_engine.hpp>
#include <analyzer/util/diagnostics.hpp>

#include <libvirt/libvirt.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

using namespace virtdeny;

namespace {

bool wait_for(const std::function<bool()>& done, int ms = 5000)
{
    for (int waited = 0; waited < ms; waited += 10) {
        if (done()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
}

std::string domain_xml(const std::string& name, const std::string& level)
{
    return "<domain type='test'><name>" + name + "</name><memory>131072</memory><vcpu>1</vcpu>"
           "<os><type>hvm</type></os>"
           "<seclabel type='static' model='selinux' relabel='yes'><label>system_u:system_r:svirt_t:" + level
           + "</label><imagelabel>system_u:object_r:svirt_image_t:" + level + "</imagelabel></seclabel></domain>";
}

std::string read_all(std::FILE* f)
{
    std::string out;
    std::rewind(f);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
        out.append(buf, n);
    }
    return out;
}

} // namespace

TEST_CASE("lifecycle: a domain started after the listener began raises one change, a stop none", "[correlate][lifecycle]")
{
    correlate::LibvirtEvents events;
    REQUIRE(events.start("test:///default"));
    REQUIRE(wait_for([&] { return events.listening() || events.ended(); }));
    INFO(events.error());
    REQUIRE(events.listening());
    CHECK_FALSE(events.take_change());

    virConnectPtr rw = virConnectOpen("test:///default");
    REQUIRE(rw);
    virDomainPtr dom = virDomainCreateXML(rw, domain_xml("late-starter-1", "s0:c7,c9").c_str(), 0);
    REQUIRE(dom);
    CHECK(wait_for([&] { return events.events() >= 1; }));
    CHECK(events.take_change());
    CHECK_FALSE(events.take_change());  // once per start, not once per look

    const auto seen = events.events();
    REQUIRE(virDomainDestroy(dom) == 0);  // a stop is an event, not a change to list
    CHECK(wait_for([&] { return events.events() > seen; }));
    CHECK_FALSE(events.take_change());
    virDomainFree(dom);
    virConnectClose(rw);
    events.stop();
    CHECK(events.ended());
}

TEST_CASE("lifecycle: a refused connection ends the listener with one reason, never blocks", "[correlate][lifecycle]")
{
    correlate::LibvirtEvents events;
    REQUIRE(events.start("test:///nonexistent/dir/node.xml"));
    REQUIRE(wait_for([&] { return events.ended(); }));
    CHECK_FALSE(events.listening());
    CHECK_FALSE(events.error().empty());
    CHECK(events.error().find('\n') == std::string::npos);
}

TEST_CASE("lifecycle: a daemon that never answers does not hold stop()", "[correlate][lifecycle]")
{
    const test::SilentSocket daemon;  // closed last: the connection left in its backlog is reset
    {
        correlate::LibvirtEvents events;
        REQUIRE(events.start("qemu+unix:///system?socket=" + daemon.path));
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        CHECK_FALSE(events.listening());
        const auto t0 = std::chrono::steady_clock::now();
        events.stop();
        const auto took = std::chrono::steady_clock::now() - t0;
        CHECK(took < std::chrono::milliseconds(correlate::LibvirtEvents::k_stop_wait_ms + 1000));
        CHECK_FALSE(events.error().empty());
    }
}

TEST_CASE("lifecycle: follow names a VM started after it began, from libvirt's event, without a VIRT record", "[correlate][lifecycle][live]")
{
    pipeline::Options options;
    options.rules_dirs = {kb::default_rules_dir()};
    options.policy_file = "none";
    options.virt_aa_helper = "none";
    options.connect = "test:///default";
    util::Diagnostics diagnostics(nullptr);
    std::FILE* out = std::tmpfile();
    REQUIRE(out);
    {
        live::FollowEngine engine(options, true, diagnostics, out);
        REQUIRE(engine.setup());
        REQUIRE(engine.lifecycle());
        REQUIRE(wait_for([&] { return engine.lifecycle()->listening() || engine.lifecycle()->ended(); }));
        REQUIRE(engine.lifecycle()->listening());

        // started after follow listed the domains at setup: only the event can tell (the
        // retry for unknown VMs waits 30 s after the last listing)
        virConnectPtr rw = virConnectOpen("test:///default");
        REQUIRE(rw);
        virDomainPtr dom = virDomainCreateXML(rw, domain_xml("late-starter-2", "s0:c11,c12").c_str(), 0);
        REQUIRE(dom);
        REQUIRE(wait_for([&] { return engine.lifecycle()->events() >= 1; }));

        engine.line("type=AVC msg=audit(1728910803.551:501): avc:  denied  { read } for  pid=7001 comm=\"qemu-kvm\" "
                    "name=\"seed.iso\" dev=\"dm-0\" ino=42 scontext=system_u:system_r:svirt_t:s0:c11,c12 "
                    "tcontext=system_u:object_r:user_home_t:s0 tclass=file permissive=0",
                    "test");
        engine.finish();
        virDomainDestroy(dom);
        virDomainFree(dom);
        virConnectClose(rw);
    }
    const std::string text = read_all(out);
    std::fclose(out);
    INFO(text);
    CHECK(text.find("\"name\":\"late-starter-2\"") != std::string::npos);
    CHECK(text.find("\"via\":\"libvirt-api\"") != std::string::npos);
}
