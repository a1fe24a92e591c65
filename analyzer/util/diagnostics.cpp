#include <analyzer/util/diagnostics.hpp>

#include <analyzer/util/text.hpp>

namespace virtdeny::util {

void Diagnostics::bad_line(std::string_view input, std::uint64_t line, std::string_view why)
{
    ++m_bad_lines;
    if (m_quiet || !m_out || m_printed >= k_max_printed) {
        return;
    }
    ++m_printed;
    if (m_before_print) {
        m_before_print();
    }
    std::fprintf(m_out, "virtdeny: %s: line %llu: %s\n", printable(input).c_str(),
                 static_cast<unsigned long long>(line), printable(why).c_str());
}

void Diagnostics::error(std::string_view message)
{
    ++m_errors;
    if (m_out) {
        if (m_before_print) {
            m_before_print();
        }
        std::fprintf(m_out, "virtdeny: %s\n", printable(message).c_str());
    }
}

void Diagnostics::finish()
{
    if (!m_quiet && m_out && m_bad_lines > m_printed) {
        if (m_before_print) {
            m_before_print();
        }
        std::fprintf(m_out, "virtdeny: %llu more malformed lines not shown\n",
                     static_cast<unsigned long long>(m_bad_lines - m_printed));
    }
    if (m_out) {
        std::fflush(m_out);
    }
}

} // namespace virtdeny::util
