#include <analyzer/live/netlink_source.hpp>

#include <libaudit.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace virtdeny::live {

namespace {

constexpr unsigned k_readlog_group = 1;  // AUDIT_NLGRP_READLOG
constexpr int k_receive_buffer = 8 << 20;
constexpr std::size_t k_header = (sizeof(nlmsghdr) + 3u) & ~std::size_t{3};

std::string reason_of(int err, const char* what)
{
    std::string r = std::string(what) + ": " + std::strerror(err);
    if (err == EPERM || err == EACCES) {
        r += " (reading the audit multicast group needs CAP_AUDIT_READ in the host's initial namespace)";
    } else if (err == EPROTONOSUPPORT || err == EAFNOSUPPORT) {
        r += " (no kernel audit support here, as in a container)";
    } else if (err == EINVAL) {
        r += " (this kernel has no audit multicast group; it needs Linux 3.16 or later)";
    }
    return r;
}

} // namespace

std::string netlink_to_line(int type, std::string_view body)
{
    while (!body.empty() && (body.back() == '\n' || body.back() == '\0')) {
        body.remove_suffix(1);
    }
    std::string line = "type=";
    const char* name = audit_msg_type_to_name(type);
    if (name) {
        line += name;
    } else {
        line += "UNKNOWN[" + std::to_string(type) + "]";
    }
    line += " msg=";
    line.append(body.data(), body.size());
    return line;
}

NetlinkSource::~NetlinkSource()
{
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

bool NetlinkSource::open(std::string& reason)
{
    m_fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_AUDIT);
    if (m_fd < 0) {
        reason = reason_of(errno, "socket");
        return false;
    }
    // SO_RCVBUF is silently capped at net.core.rmem_max (212992 on a stock Debian: room for a few
    // hundred records while we are descheduled; the kernel drops the rest of a burst); root
    // (CAP_NET_ADMIN) may go past the cap with SO_RCVBUFFORCE.
    const int size = k_receive_buffer;
    if (::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    sockaddr_nl addr{};
    addr.nl_family = AF_NETLINK;
    addr.nl_pid = 0;
    addr.nl_groups = 1u << (k_readlog_group - 1);
    if (::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        reason = reason_of(errno, "bind to the audit multicast group");
        ::close(m_fd);
        m_fd = -1;
        return false;
    }
    return true;
}

bool NetlinkSource::read_available(const LineHandler& handler)
{
    if (m_fd < 0) {
        return false;
    }
    std::vector<char> buf(MAX_AUDIT_MESSAGE_LENGTH + k_header + 64);
    for (;;) {
        const ssize_t got = ::recv(m_fd, buf.data(), buf.size(), 0);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == ENOBUFS) {
                // the kernel dropped messages (our receive buffer was full): say so, keep going
                ++m_lost;
                std::fprintf(stderr, "virtdeny: netlink: the kernel dropped audit records (receive buffer full, "
                                     "%llu times so far)\n", static_cast<unsigned long long>(m_lost));
                continue;
            }
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        if (got == 0) {
            return true;
        }
        // one datagram may carry several messages, each aligned to 4 bytes
        const auto len = static_cast<std::size_t>(got);
        std::size_t pos = 0;
        while (pos + sizeof(nlmsghdr) <= len) {
            nlmsghdr nh;
            std::memcpy(&nh, buf.data() + pos, sizeof nh);
            if (nh.nlmsg_len < sizeof(nlmsghdr) || pos + nh.nlmsg_len > len) {
                break;
            }
            if (nh.nlmsg_type != NLMSG_DONE && nh.nlmsg_type != NLMSG_ERROR && nh.nlmsg_type != NLMSG_NOOP) {
                const char* data = buf.data() + pos + k_header;
                const std::size_t body_len = nh.nlmsg_len > k_header ? nh.nlmsg_len - k_header : 0;
                handler(netlink_to_line(nh.nlmsg_type, std::string_view(data, strnlen(data, body_len))));
            }
            pos += (nh.nlmsg_len + 3u) & ~std::size_t{3};
        }
    }
}

} // namespace virtdeny::live
