// A pipe on a descriptor (standard input): journalctl -k -f, dmesg -w, or auditd's plugin
// stream (--audisp, auditd's "string" format: the audit.log lines, EOE records included).
#pragma once

#include <analyzer/live/source.hpp>

namespace virtdeny::live {

class StreamSource : public Source
{
public:
    StreamSource(int fd, std::string name);

    int wait_fd() const override { return m_ended ? -1 : m_fd; }
    int timeout_ms() const override { return -1; }
    bool read_available(const LineHandler& handler) override;
    const std::string& name() const override { return m_name; }

private:
    int m_fd;
    std::string m_name;
    LineSplitter m_splitter;
    bool m_ended = false;
};

} // namespace virtdeny::live
