// libFuzzer target: the record parser (every wrapper form, stamps, node= prefixes, several
// records per line, ENRICHED), the denial parser and the sibling/VIRT record readers, on
// arbitrary lines. Checks: records point into their line, at most k_max_records_per_line,
// the ENRICHED part is split off, parse_stamp agrees with a plain reference parser, and
// every decoded field is safe once escaped for a terminal.
#include "fuzz_support.hpp"

#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/ingest/denial_parser.hpp>
#include <analyzer/ingest/event_assembler.hpp>
#include <analyzer/ingest/record_parser.hpp>
#include <analyzer/util/text.hpp>

#include <optional>

namespace virtdeny::fuzz::reader {

bool inside(std::string_view part, std::string_view whole)
{
    return part.empty()
        || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

// "SEC.FRAC:SERIAL)" the simple way: digits, '.', digits (milliseconds: the first three,
// padded), ':', digits, ')'; seconds up to year 9999, every number within 64 bits.
// (parse_stamp has a fast path for the usual 10.3 form; both must agree.)
struct Stamp
{
    std::int64_t time_ms = 0;
    std::uint64_t serial = 0;
    std::size_t used = 0;
};

std::optional<std::uint64_t> digits(std::string_view s, std::size_t& i)
{
    const std::size_t from = i;
    std::uint64_t v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        const auto d = static_cast<std::uint64_t>(s[i] - '0');
        if (v > (UINT64_MAX - 9) / 10) {  // util::parse_uint's (conservative) limit
            return std::nullopt;
        }
        v = v * 10 + d;
        ++i;
    }
    if (i == from) {
        return std::nullopt;
    }
    return v;
}

std::optional<Stamp> reference_stamp(std::string_view s)
{
    std::size_t i = 0;
    const auto secs = digits(s, i);
    if (!secs || i >= s.size() || s[i] != '.') {
        return std::nullopt;
    }
    ++i;
    const std::size_t frac_from = i;
    if (!digits(s, i)) {
        return std::nullopt;
    }
    std::int64_t ms = 0;
    for (std::size_t k = 0; k < 3; ++k) {
        ms = ms * 10 + (frac_from + k < i ? s[frac_from + k] - '0' : 0);
    }
    if (i >= s.size() || s[i] != ':') {
        return std::nullopt;
    }
    ++i;
    const auto serial = digits(s, i);
    if (!serial || i >= s.size() || s[i] != ')' || *secs > 253402300799ULL) {
        return std::nullopt;
    }
    Stamp st;
    st.time_ms = static_cast<std::int64_t>(*secs) * 1000 + ms;
    st.serial = *serial;
    st.used = i + 1;
    return st;
}

void check_stamp(std::string_view text)
{
    std::string_view s = text;
    std::int64_t time_ms = 0;
    std::uint64_t serial = 0;
    const bool ok = ingest::parse_stamp(s, time_ms, serial);
    const auto ref = reference_stamp(text);
    FUZZ_CHECK(ok == ref.has_value());
    if (ok) {
        FUZZ_CHECK(time_ms == ref->time_ms);
        FUZZ_CHECK(serial == ref->serial);
        FUZZ_CHECK(s.data() == text.data() + ref->used);
    }
}

void check_text(const std::string& s)
{
    FUZZ_CHECK(fuzz::terminal_safe(util::printable(s)));
    FUZZ_CHECK(fuzz::valid_utf8(util::sanitize_utf8(s)));
}

void check_denial(const model::Denial& d)
{
    for (const std::string* s : {&d.comm, &d.exe, &d.scontext, &d.tcontext, &d.path, &d.name, &d.profile, &d.operation,
                                 &d.peer, &d.peer_addr, &d.info}) {
        check_text(*s);
    }
}

int one_input(const std::uint8_t* data, std::size_t size)
{
    std::string_view input(reinterpret_cast<const char*>(data), size);
    check_stamp(input.substr(0, 64));
    ingest::RecordParser parser;
    parser.set_default_year(2024);
    correlate::VmRegistry registry;
    while (!input.empty()) {
        const std::size_t nl = input.find('\n');
        const std::string_view line = input.substr(0, nl);
        input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
        const ingest::LineKind kind = parser.parse(line);
        if (kind != ingest::LineKind::records) {
            FUZZ_CHECK(kind != ingest::LineKind::malformed || !parser.reason().empty());
            continue;
        }
        FUZZ_CHECK(parser.record_count() >= 1);
        FUZZ_CHECK(parser.record_count() <= ingest::RecordParser::k_max_records_per_line);
        for (int i = 0; i < parser.record_count(); ++i) {
            const auto& r = parser.record(i);
            FUZZ_CHECK(inside(r.body, line));
            FUZZ_CHECK(inside(r.node, line));
            FUZZ_CHECK(inside(r.type_name, line));
            FUZZ_CHECK(inside(r.enriched, line));
            FUZZ_CHECK(r.body.find('\x1d') == std::string_view::npos);
            if (ingest::is_denial_type(r.type)) {
                model::Denial d;
                std::string reason;
                if (ingest::parse_denial(r, d, reason) == ingest::DenialParse::malformed) {
                    FUZZ_CHECK(!reason.empty());
                }
                check_denial(d);
            } else if (ingest::is_sibling_type(r.type)) {
                model::Event ev;
                ingest::apply_sibling(ev, r.type, r.body);
                FUZZ_CHECK(ev.paths.size() <= 16);
                FUZZ_CHECK(ev.proctitle.find('\0') == std::string::npos);
                check_text(ev.comm);
                check_text(ev.exe);
                check_text(ev.proctitle);
            } else if (ingest::is_virt_type(r.type)) {
                registry.add(r);
            }
        }
    }
    return 0;
}

} // namespace virtdeny::fuzz::reader

VIRTDENY_FUZZ_MAIN(reader)
