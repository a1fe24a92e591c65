#include <analyzer/ingest/scanner.hpp>


#include <analyzer/ingest/denial_parser.hpp>
#include <analyzer/ingest/paste_normaliser.hpp>
#include <analyzer/ingest/summary_forms.hpp>

#include <algorithm>

#include <cstring>
#include <ctime>
#include <string>

namespace virtdeny::ingest {

namespace {

int current_year()
{
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    return tm.tm_year + 1900;
}

// The last field's value opens a quote that never closes (`comm="qemu-k` at the end). Looks
// only at the last field, from the end, so sibling lines cost next to nothing.
bool ends_inside_quote(std::string_view body)
{
    // memrchr/memchr, not string_view::rfind/find: those are byte loops, and this runs on
    // every SYSCALL/PATH/CWD/PROCTITLE line
    const void* eq_at = body.empty() ? nullptr : ::memrchr(body.data(), '=', body.size());
    if (!eq_at) {
        return false;
    }
    const std::size_t eq = static_cast<std::size_t>(static_cast<const char*>(eq_at) - body.data());
    if (eq + 1 >= body.size() || body[eq + 1] != '"') {
        return false;
    }
    return std::memchr(body.data() + eq + 2, '"', body.size() - eq - 2) == nullptr;
}

} // namespace

ScanStats& ScanStats::operator+=(const ScanStats& o)
{
    lines += o.lines;
    bytes += o.bytes;
    records += o.records;
    denial_records += o.denial_records;
    not_denials += o.not_denials;
    malformed += o.malformed;
    virt_records += o.virt_records;
    return *this;
}

ScanStats ScanStats::operator-(const ScanStats& o) const
{
    ScanStats r;
    r.lines = lines - o.lines;
    r.bytes = bytes - o.bytes;
    r.records = records - o.records;
    r.denial_records = denial_records - o.denial_records;
    r.not_denials = not_denials - o.not_denials;
    r.malformed = malformed - o.malformed;
    r.virt_records = virt_records - o.virt_records;
    return r;
}

Scanner::Scanner(EventAssembler& assembler, util::Diagnostics& diagnostics)
    : m_assembler(assembler), m_diagnostics(diagnostics)
{
    set_default_year(current_year());
}

void Scanner::set_default_year(int year, bool fixed)
{
    m_default_year = year;
    m_year_fixed = fixed;
    m_parser.set_default_year(year, fixed, static_cast<std::int64_t>(std::time(nullptr)) * 1000);
}

void Scanner::bad_line(std::string_view input_name, std::uint64_t line_number, std::string_view why)
{
    if (m_on_bad_line) {
        m_on_bad_line(line_number, why, 0);
    } else {
        m_diagnostics.bad_line(input_name, line_number, why);
    }
}

void Scanner::binary_line(std::string_view input_name, std::uint64_t line_number, std::size_t bytes)
{
    if (m_on_bad_line) {
        m_on_bad_line(line_number, {}, bytes);
    } else if (m_in_input > 0) {
        add_binary(line_number, 1, bytes);
    } else {
        m_diagnostics.bad_line(input_name, line_number, m_parser.reason());
    }
}

void Scanner::add_binary(std::uint64_t first_line, std::uint64_t lines, std::uint64_t bytes)
{
    if (lines == 0) {
        return;
    }
    if (m_binary.lines == 0 || first_line < m_binary.first_line) {
        m_binary.first_line = first_line;
    }
    m_binary.lines += lines;
    m_binary.bytes += bytes;
}

namespace {

std::string_view base_name(std::string_view p)
{
    const std::size_t slash = p.rfind('/');
    return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

// What a raw denial and another tool's summary of it share. SELinux (setroubleshoot): class,
// permissions, the target's last name, the program (comm, cut to the kernel's 15 bytes).
// AppArmor (aa-notify): profile, operation, name, denied mask.
std::string summary_key(const model::Denial& d)
{
    if (d.mac == model::Mac::apparmor) {
        return "aa\x1f" + d.profile + '\x1f' + d.operation + '\x1f' + d.name + '\x1f' + d.denied_mask + '\x1f' + d.family;
    }
    std::vector<std::string> perms = d.permissions;
    std::sort(perms.begin(), perms.end());
    std::string k = d.tclass;
    for (const auto& p : perms) {
        k += ',';
        k += p;
    }
    k += '\x1f';
    k += base_name(d.path.empty() ? std::string_view(d.name) : std::string_view(d.path));
    k += '\x1f';
    const std::string_view prog = d.comm.empty() ? base_name(d.exe) : std::string_view(d.comm);
    k += prog.substr(0, 15);
    return k;
}

} // namespace

void Scanner::remember_raw(const model::Denial& d)
{
    if (m_raw_seen.size() < k_max_raw_seen) {
        m_raw_seen.emplace(summary_key(d), d.time_ms);
    }
}

bool Scanner::summarised_raw(const model::Denial& d) const
{
    // setroubleshoot logs its summary seconds after the record, but in the host's local time
    // when the line has a syslog date (the record's stamp is UTC): any zone, 15 hours
    constexpr std::int64_t k_slack_ms = 15 * 3600 * 1000LL;
    auto [it, end] = m_raw_seen.equal_range(summary_key(d));
    for (; it != end; ++it) {
        const std::int64_t t = it->second;
        if (d.time_ms == 0 || t == 0 || (d.time_ms - t <= k_slack_ms && t - d.time_ms <= k_slack_ms)) {
            return true;
        }
    }
    return false;
}

void Scanner::flush_deferred_summaries()
{
    std::vector<model::Denial> deferred;
    deferred.swap(m_deferred);
    for (auto& d : deferred) {
        if (summarised_raw(d)) {
            ++m_stats.not_denials;  // the raw record of this summary was read: counted there
            ++m_summary_dropped;
            continue;
        }
        add_summary_now(std::move(d));
    }
    m_raw_seen.clear();
}

void Scanner::add_summary_now(model::Denial&& d)
{
    ++m_summary_read[d.summary == k_summary_setroubleshoot ? 0 : d.summary == k_summary_aa_notify ? 1 : 2];
    if (!m_window.contains(d.time_ms)) {
        m_assembler.tick();
        return;
    }
    ++m_stats.denial_records;
    Record r;
    r.type = RecordType::avc;
    r.type_name = d.record_type;
    m_assembler.add_denial(r, std::move(d));
}

void Scanner::add_summary_denial(model::Denial& d, std::string_view text, std::string_view /*input_name*/,
                                 std::uint64_t line_number, std::uint32_t input_index, std::uint64_t seq)
{
    ++m_stats.records;
    if (d.time_ms == 0) {
        d.time_ms = parse_syslog_time(text, m_default_year);
    }
    d.line = line_number;
    d.input = input_index;
    d.seq = seq;
    if (m_remember_raw && d.summary != k_summary_aureport && m_deferred.size() < k_max_deferred) {
        m_deferred.push_back(std::move(d));  // its raw record may come later in the paste (a sealert report)
        return;
    }
    add_summary_now(std::move(d));
}

void Scanner::scan(LineReader& reader, std::uint32_t input_index)
{
    const InInput in_input(m_in_input);
    reader.on_error([this, &reader](std::uint64_t line, const std::string& why) {
        ++m_stats.malformed;
        bad_line(reader.name(), line, why);
    });
    std::string_view line;
    const std::uint64_t before = reader.bytes_read();
    const ScanStats stats_before = m_stats;
    const std::string_view head = reader.peek(k_paste_sniff_bytes);
    std::string note = head.empty() ? std::string() : unrecognised_note(head);
    if (looks_like_paste(head)) {
        // pasted text (ausearch -i, wrapped, quoted, run together): through the normaliser
        reader.set_accept_unterminated(true);
        PasteNormaliser normaliser;
        std::uint64_t logical = 0;
        const PasteNormaliser::Emit emit = [&](std::string_view l, std::uint64_t number) {
            scan_line(l, reader.name(), number, input_index, seq_base(input_index, ++logical));
        };
        normaliser.on_summary([&](model::Denial& d, std::string_view text, std::uint64_t number) {
            add_summary_denial(d, text, reader.name(), number, input_index, seq_base(input_index, ++logical));
        });
        m_remember_raw = true;
        const std::uint64_t lines_before = m_stats.lines;
        std::uint64_t physical = 0;
        while (reader.next(line)) {
            ++physical;
            normaliser.feed(line, reader.line_number(), emit);
        }
        normaliser.finish(emit);
        flush_deferred_summaries();
        m_remember_raw = false;
        m_stats.lines = lines_before + physical;  // the input's lines, not the records made of them
        // once per input: what a summary left out, and which command prints the raw records
        std::string said;
        auto say = [&](std::uint64_t n, const char* what) {
            if (n > 0) {
                said += (said.empty() ? "" : "; ") + std::to_string(n) + what;
            }
        };
        say(m_summary_read[0],
            " denials read from setroubleshoot's one-line summaries, which carry no security contexts: only the "
            "answers that need no types are given; `sealert -l UUID` (the UUID ends each line) or `ausearch -m AVC "
            "-ts recent` prints the raw records");
        say(m_summary_read[1],
            " denials read from aa-notify's summaries, which carry no pid, time or class: `journalctl -k -o cat "
            "--grep apparmor=` or `ausearch --raw -m AVC` prints the raw records");
        say(m_summary_read[2],
            " denials read from `aureport --avc` rows, which carry no path: `ausearch --raw -m AVC -a EVENT` "
            "prints the raw record of each");
        if (m_summary_dropped > 0) {
            said += (said.empty() ? "" : "; ") + std::to_string(m_summary_dropped)
                + " summaries of records also in the input counted once, as those records";
        }
        m_summary_read[0] = m_summary_read[1] = m_summary_read[2] = 0;
        m_summary_dropped = 0;
        if (!normaliser.too_little().empty() && said.empty()) {
            said = "it holds " + normaliser.too_little();
        }
        if (!said.empty()) {
            m_diagnostics.error(std::string(reader.name()) + ": " + said);
            note.clear();  // said already, with the command giving raw records
        }
    } else {
        while (reader.next(line)) {
            scan_line(line, reader.name(), reader.line_number(), input_index);
        }
    }
    m_stats.bytes += reader.bytes_read() - before;
    note_unrecognised(reader.name(), stats_before, note);
}

void Scanner::note_unrecognised(std::string_view input_name, const ScanStats& before, const std::string& note)
{
    const bool none = m_stats.records == before.records && m_stats.lines > before.lines;
    if (m_binary.lines > 0) {
        // binary data: one line per input, not one per line
        // "FILE: line L: ..." as a malformed line is said, L the first binary line
        std::string msg = std::string(input_name) + ": line " + std::to_string(m_binary.first_line)
            + ": binary data (not text), skipped with the input's other binary lines: " + std::to_string(m_binary.lines)
            + (m_binary.lines == 1 ? " line, " : " lines, ") + std::to_string(m_binary.bytes) + " bytes in all";
        const std::size_t raw = note.find("raw records come from");
        if (none && raw != std::string::npos) {
            msg += "; no audit record recognised; " + note.substr(raw);
        }
        m_binary = BinarySkip();
        m_diagnostics.error(msg);
        return;
    }
    // never silently nothing: one line when an input held no record virtdeny reads
    if (!note.empty() && none) {
        m_diagnostics.error(std::string(input_name) + ": " + note);
    }
}

RegionPos Scanner::scan_region(const char* data, std::size_t size, std::uint64_t offset, std::uint64_t first_line,
                               bool at_eof, std::string_view input_name, std::uint32_t input_index,
                               std::uint64_t max_lines, std::size_t max_line)
{
    // every line stays valid until this returns: siblings are kept as views, copied at the end
    struct DeferCopies
    {
        EventAssembler& assembler;
        explicit DeferCopies(EventAssembler& a) : assembler(a) { assembler.defer_copies(true); }
        ~DeferCopies()
        {
            assembler.pin();
            assembler.defer_copies(false);
        }
        DeferCopies(const DeferCopies&) = delete;
        DeferCopies& operator=(const DeferCopies&) = delete;
    } defer(m_assembler);
    const InInput in_input(m_in_input);
    RegionPos pos;
    const char* p = data;
    const char* const end = data + size;
    std::uint64_t line_number = first_line;
    while (pos.lines < max_lines && p < end) {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
        if (!nl) {
            if (!at_eof) {
                break;
            }
            ++line_number;
            ++pos.lines;
            ++m_stats.malformed;
            if (static_cast<std::size_t>(end - p) > max_line) {
                bad_line(input_name, line_number, "line longer than " + std::to_string(max_line) + " bytes, skipped");
            } else {
                bad_line(input_name, line_number, "half-written last line (no newline at end of input), skipped");
            }
            p = end;
            break;
        }
        ++line_number;
        ++pos.lines;
        std::size_t len = static_cast<std::size_t>(nl - p);
        if (len > max_line) {
            ++m_stats.malformed;
            bad_line(input_name, line_number, "line longer than " + std::to_string(max_line) + " bytes, skipped");
        } else {
            const std::uint64_t at = offset + static_cast<std::uint64_t>(p - data);
            if (len > 0 && p[len - 1] == '\r') {
                --len;
            }
            scan_line(std::string_view(p, len), input_name, line_number, input_index, seq_base(input_index, at));
        }
        p = nl + 1;
    }
    pos.bytes = static_cast<std::size_t>(p - data);
    m_stats.bytes += pos.bytes;
    return pos;
}

void Scanner::scan_line(std::string_view line, std::string_view input_name, std::uint64_t line_number,
                        std::uint32_t input_index)
{
    scan_line(line, input_name, line_number, input_index, seq_base(input_index, line_number));
}

void Scanner::scan_line(std::string_view line, std::string_view input_name, std::uint64_t line_number,
                        std::uint32_t input_index, std::uint64_t seq)
{
    ++m_stats.lines;
    const LineKind kind = m_parser.parse(line);
    if (kind == LineKind::irrelevant) {
        // libvirt's own "Domain id=N name='X' uuid=U" lines name VMs: to the on_virt handler
        // like the VIRT_* records (correlate/libvirt_log.hpp parses them)
        if (line.find("Domain id=") != std::string_view::npos) {
            Record r;
            r.type = RecordType::libvirt_log;
            r.type_name = "libvirt";
            r.body = line;
            report_virt(r);
        }
        m_assembler.tick();
        return;
    }
    if (kind == LineKind::malformed) {
        ++m_stats.malformed;
        if (m_parser.binary()) {
            binary_line(input_name, line_number, line.size() + 1);
        } else {
            bad_line(input_name, line_number, m_parser.reason());
        }
        m_assembler.tick();
        return;
    }
    for (int i = 0; i < m_parser.record_count(); ++i) {
        const Record& r = m_parser.record(i);
        ++m_stats.records;
        if (is_denial_type(r.type)) {
            model::Denial d;
            std::string reason;
            const DenialParse result = parse_denial(r, d, reason);
            if (result == DenialParse::malformed) {
                ++m_stats.malformed;
                bad_line(input_name, line_number, reason);
                m_assembler.tick();
                continue;
            }
            if (result == DenialParse::not_denial) {
                ++m_stats.not_denials;
                m_assembler.tick();
                continue;
            }
            if (!m_window.contains(d.time_ms)) {
                m_assembler.tick();
                continue;
            }
            ++m_stats.denial_records;
            d.line = line_number;
            d.input = input_index;
            d.seq = seq + static_cast<std::uint64_t>(i);
            if (m_remember_raw) {
                remember_raw(d);
            }
            m_assembler.add_denial(r, std::move(d));
        } else if (is_sibling_type(r.type)) {
            if (ends_inside_quote(r.body)) {
                // a record cut inside its last quoted value (a crash or a half-copied log):
                // its fields cannot be trusted, so it joins no event
                ++m_stats.malformed;
                bad_line(input_name, line_number, "truncated record (its last quoted value never closes), skipped");
                m_assembler.tick();
                continue;
            }
            if (r.has_stamp) {
                // an EXECVE of QEMU is an event even without a denial: its pid is that VM's
                m_assembler.add_sibling(r, r.type == RecordType::execve && execve_starts_qemu(r.body));
            }
        } else if (r.type == RecordType::eoe) {
            m_assembler.end_of_event(r);
        } else if (is_virt_type(r.type)) {
            ++m_stats.virt_records;
            report_virt(r);
            m_assembler.tick();
        }
    }
}

} // namespace virtdeny::ingest
