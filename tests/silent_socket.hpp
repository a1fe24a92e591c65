// A unix socket that accepts connections (the kernel's backlog) and never answers: a libvirt
// daemon that hangs. Closed, unlinked and its directory removed at the end of its scope (a
// connection still waiting in the backlog is then reset).
#pragma once

#include "support.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace virtdeny::test {

struct SilentSocket
{
    std::string dir = temp_dir();
    std::string path = dir + "/silent-sock";
    int fd = -1;
    SilentSocket()
    {
        fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        REQUIRE(fd >= 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        REQUIRE(path.size() < sizeof addr.sun_path);
        path.copy(addr.sun_path, path.size());
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(fd, 16) == 0);
    }
    SilentSocket(const SilentSocket&) = delete;
    SilentSocket& operator=(const SilentSocket&) = delete;
    ~SilentSocket()
    {
        ::close(fd);
        ::unlink(path.c_str());
        ::rmdir(dir.c_str());
    }
};

} // namespace virtdeny::test
