// The kernel's audit netlink multicast group (AUDIT_NLGRP_READLOG): read-only, next to
// auditd. Needs CAP_AUDIT_READ in the initial user namespace; open() says why when not.
#pragma once

#include <analyzer/live/source.hpp>

#include <cstdint>
#include <string_view>

namespace virtdeny::live {

// "audit(SEC.MS:SERIAL): body" of message type T -> "type=NAME msg=audit(SEC.MS:SERIAL): body".
std::string netlink_to_line(int type, std::string_view body);

class NetlinkSource : public Source
{
public:
    NetlinkSource() = default;
    ~NetlinkSource() override;
    NetlinkSource(const NetlinkSource&) = delete;
    NetlinkSource& operator=(const NetlinkSource&) = delete;

    // false with a one-line reason ("permission denied (needs CAP_AUDIT_READ)").
    bool open(std::string& reason);

    int wait_fd() const override { return m_fd; }
    int timeout_ms() const override { return -1; }
    bool read_available(const LineHandler& handler) override;
    const std::string& name() const override { return m_name; }
    std::uint64_t lost() const { return m_lost; }

private:
    int m_fd = -1;
    std::string m_name = "netlink";
    std::uint64_t m_lost = 0;
};

} // namespace virtdeny::live
