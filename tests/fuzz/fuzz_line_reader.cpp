// libFuzzer target: the line reader and the three ways a scan reads lines. Checks:
//  - LineReader over a file read at once, and the same file growing piece by piece as in
//    follow mode (a partial last line held back until completed), both give exactly the
//    lines of a plain reference split: over-long lines (a small max_line) and a
//    half-written last line reported with their line numbers and skipped, one CR dropped;
//  - the streaming scan (LineReader), the mapped scan (Scanner::scan_region) and the
//    parallel scan (scan_file_in_chunks, two threads, tiny chunks) give the same events,
//    VM registry, statistics and messages; an input that looks pasted (looks_like_paste) is
//    read by the stream and parallel scans through the paste normaliser (the mapped region
//    scan has no paste path, so it is compared only on other inputs);
//  - the paste normaliser (joiner and splitter, journal entries, summaries) over the same lines:
//    every line it emits is non-empty, holds no newline, and an ausearch -i record it made raw
//    again parses as a record with its stamp; a summary denial has its class or profile, its
//    permissions or operation, and the command giving the raw record;
//  - binary lines are said once per input, the same in every scan.
#include "fuzz_support.hpp"

#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/ingest/event_assembler.hpp>
#include <analyzer/ingest/line_reader.hpp>
#include <analyzer/ingest/parallel_scan.hpp>
#include <analyzer/ingest/paste_normaliser.hpp>
#include <analyzer/ingest/record_parser.hpp>
#include <analyzer/ingest/scanner.hpp>
#include <analyzer/util/diagnostics.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace virtdeny::fuzz::line_reader {

struct Line
{
    std::uint64_t number = 0;
    bool error = false;  // reported and skipped
    std::string text;    // the line, or the reason
};

bool operator==(const Line& a, const Line& b)
{
    return a.number == b.number && a.error == b.error && (a.error || a.text == b.text);
}

std::vector<Line> reference_lines(std::string_view data, std::size_t max_line)
{
    std::vector<Line> out;
    std::uint64_t number = 0;
    while (!data.empty()) {
        const std::size_t nl = data.find('\n');
        std::string_view line = data.substr(0, nl);
        data.remove_prefix(nl == std::string_view::npos ? data.size() : nl + 1);
        ++number;
        if (line.size() > max_line || nl == std::string_view::npos) {
            out.push_back({number, true, {}});
            continue;
        }
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        out.push_back({number, false, std::string(line)});
    }
    return out;
}

int make_file(std::string_view data)
{
    const int fd = ::memfd_create("virtdeny-fuzz", MFD_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(done));
        if (n <= 0) {
            ::close(fd);
            return -1;
        }
        done += static_cast<std::size_t>(n);
    }
    return fd;
}

std::vector<Line> read_lines(ingest::LineReader& reader)
{
    std::vector<Line> out;
    reader.on_error([&out](std::uint64_t n, const std::string& why) { out.push_back({n, true, why}); });
    std::string_view line;
    while (reader.next(line)) {
        out.push_back({reader.line_number(), false, std::string(line)});
    }
    return out;
}

// The file grows piece by piece; the reader is drained after each piece (follow mode).
std::vector<Line> read_growing(std::string_view data, std::size_t max_line, std::uint8_t seed)
{
    std::vector<Line> out;
    const int fd = ::memfd_create("virtdeny-fuzz-grow", MFD_CLOEXEC);
    if (fd < 0) {
        return reference_lines(data, max_line);
    }
    auto reader = ingest::LineReader::from_fd(fd, "grow", max_line);
    reader->set_hold_partial(true);
    reader->on_error([&out](std::uint64_t n, const std::string& why) { out.push_back({n, true, why}); });
    std::size_t written = 0;
    std::uint32_t state = seed * 2654435761u + 1;
    std::string_view line;
    while (written < data.size()) {
        state = state * 1103515245u + 12345u;
        const std::size_t piece = std::min<std::size_t>(data.size() - written, 1 + (state >> 16) % (2 * max_line + 7));
        if (::pwrite(fd, data.data() + written, piece, static_cast<off_t>(written)) != static_cast<ssize_t>(piece)) {
            ::close(fd);
            return reference_lines(data, max_line);
        }
        written += piece;
        while (reader->next(line)) {
            out.push_back({reader->line_number(), false, std::string(line)});
        }
        reader->clear_eof();
    }
    reader->set_hold_partial(false);
    while (reader->next(line)) {
        out.push_back({reader->line_number(), false, std::string(line)});
    }
    reader.reset();
    ::close(fd);
    return out;
}

// What a scan handed on, as text (seq left out when the two scans number records apart).
struct Outcome
{
    std::vector<std::string> events;
    std::string registry;
    ingest::ScanStats stats;
    std::string messages;
    std::uint64_t bad_lines = 0;
};

std::string digest(const model::Event& e, bool with_seq)
{
    std::string s = e.node + "|" + std::to_string(e.serial) + "|" + std::to_string(e.time_ms) + "|" + std::to_string(e.pid)
        + "|" + e.comm + "|" + e.exe + "|" + e.cwd + "|" + e.avc_path + "|" + e.proctitle + "|" + e.arch + "|"
        + std::to_string(e.syscall) + "|" + e.subj;
    for (const auto& p : e.paths) {
        s += "|P:" + p.name + "," + p.nametype + "," + p.obj;
    }
    for (const auto& d : e.denials) {
        s += "|D:" + std::to_string(d.line) + "," + (with_seq ? std::to_string(d.seq) : std::string()) + ","
            + d.record_type + "," + std::to_string(d.time_ms) + "," + d.scontext + "," + d.tcontext + "," + d.tclass
            + "," + d.name + "," + d.path + "," + d.profile + "," + d.operation + "," + d.denied_mask + ","
            + std::to_string(d.pid) + "," + d.comm + "," + (d.enforced ? "E" : "A");
        for (const auto& p : d.permissions) {
            s += "," + p;
        }
    }
    return s;
}

std::string registry_digest(const correlate::VmRegistry& registry)
{
    std::string s;
    for (const auto& vm : registry.instances()) {
        s += vm.node + "|" + vm.name + "|" + vm.uuid + "|" + vm.vm_level + "|" + vm.img_level + "|"
            + std::to_string(vm.pid) + "|" + std::to_string(vm.first_ms) + "|" + std::to_string(vm.start_ms) + "|"
            + std::to_string(vm.stop_ms) + "|" + std::to_string(vm.paths.size()) + "\n";
    }
    return s;
}

enum class Mode { stream, region, parallel };

Outcome scan(Mode mode, int fd, const std::string& path, std::string_view data, std::size_t max_line,
             const ingest::ParallelOptions& options, bool with_seq)
{
    Outcome out;
    MemoryFile capture;
    util::Diagnostics diagnostics(capture.file);
    correlate::VmRegistry registry;
    const ingest::EventAssembler::EventHandler on_event = [&](model::Event& e) {
        out.events.push_back(digest(e, with_seq));
    };
    ingest::EventAssembler assembler(on_event);
    ingest::Scanner scanner(assembler, diagnostics);
    scanner.on_virt([&](const ingest::Record& r) { registry.add(r); });
    scanner.set_default_year(2024);
    if (mode == Mode::stream) {
        ::lseek(fd, 0, SEEK_SET);
        auto reader = ingest::LineReader::from_fd(fd, path, max_line);
        scanner.scan(*reader, 0);
    } else if (mode == Mode::region) {
        // the input-level note of scan() and scan_file_in_chunks (no record recognised) as they give it
        const ingest::ScanStats before = scanner.stats();
        scanner.scan_region(data.data(), data.size(), 0, 0, true, path, 0, UINT64_MAX, max_line);
        scanner.note_unrecognised(
            path, before, ingest::unrecognised_note(data.substr(0, std::min(data.size(), ingest::k_paste_sniff_bytes))));
    } else {
        std::string error;
        const bool ok = ingest::scan_file_in_chunks(path, 0, scanner, assembler, on_event, diagnostics, options, error);
        FUZZ_CHECK(ok);
    }
    assembler.flush_all();
    out.registry = registry_digest(registry);
    out.stats = scanner.stats();
    out.messages = capture.text();
    out.bad_lines = diagnostics.bad_lines();
    return out;
}

void same_outcome(const Outcome& a, const Outcome& b)
{
    FUZZ_CHECK(a.events == b.events);
    FUZZ_CHECK(a.registry == b.registry);
    FUZZ_CHECK(a.stats.lines == b.stats.lines);
    FUZZ_CHECK(a.stats.bytes == b.stats.bytes);
    FUZZ_CHECK(a.stats.records == b.stats.records);
    FUZZ_CHECK(a.stats.denial_records == b.stats.denial_records);
    FUZZ_CHECK(a.stats.not_denials == b.stats.not_denials);
    FUZZ_CHECK(a.stats.malformed == b.stats.malformed);
    FUZZ_CHECK(a.stats.virt_records == b.stats.virt_records);
    FUZZ_CHECK(a.messages == b.messages);
    FUZZ_CHECK(a.bad_lines == b.bad_lines);
}

int one_input(const std::uint8_t* bytes, std::size_t size)
{
    fuzz::Input in(bytes, size);
    const std::uint8_t b0 = in.byte();
    const std::uint8_t b1 = in.byte();
    const std::uint8_t b2 = in.byte();
    // small limits so that over-long lines and chunk boundaries happen in small inputs
    const std::size_t max_line = (b0 & 0x80) ? 4096 : 1 + (b0 & 0x7f) * 3;
    const std::string_view data = in.rest();

    const int fd = make_file(data);
    if (fd < 0) {
        return 0;
    }
    const std::string path = "/proc/self/fd/" + std::to_string(fd);

    const std::vector<Line> expected = reference_lines(data, max_line);
    auto reader = ingest::LineReader::from_fd(fd, "once", max_line);
    const std::vector<Line> once = read_lines(*reader);
    reader.reset();
    FUZZ_CHECK(once == expected);
    FUZZ_CHECK(read_growing(data, max_line, b1) == expected);

    ingest::ParallelOptions options;
    options.threads = 2;
    options.chunk_bytes = 64 + (b2 & 0x0f) * 16;
    options.sync_lines = 1 + (b2 >> 4);
    options.max_line = max_line;
    const bool pasted = ingest::looks_like_paste(data.substr(0, std::min(data.size(), ingest::k_paste_sniff_bytes)));
    const Outcome stream = scan(Mode::stream, fd, path, data, max_line, options, false);
    if (pasted) {
        const Outcome parallel = scan(Mode::parallel, fd, path, data, max_line, options, false);
        same_outcome(stream, parallel);
    } else {
        const Outcome region = scan(Mode::region, fd, path, data, max_line, options, false);
        same_outcome(stream, region);
        const Outcome region_seq = scan(Mode::region, fd, path, data, max_line, options, true);
        const Outcome parallel = scan(Mode::parallel, fd, path, data, max_line, options, true);
        same_outcome(region_seq, parallel);
    }
    ::close(fd);

    // the paste normaliser's joiner and splitter over the same lines
    ingest::PasteNormaliser normaliser;
    ingest::RecordParser parser;
    std::string raw;
    const ingest::PasteNormaliser::Emit emit = [&](std::string_view l, std::uint64_t number) {
        FUZZ_CHECK(!l.empty());
        FUZZ_CHECK(l.find('\n') == std::string_view::npos);
        FUZZ_CHECK(number >= 1 && number <= expected.size());
        if (ingest::uninterpret_record(l, raw)) {
            FUZZ_CHECK(parser.parse(raw) == ingest::LineKind::records);
            FUZZ_CHECK(parser.record(0).has_stamp);
        }
    };
    // summaries of other tools (setroubleshoot, aa-notify, aureport): a denial with a class or a
    // profile, permissions or a mask, marked with its summary and the command giving the raw record
    normaliser.on_summary([&](model::Denial& d, std::string_view text, std::uint64_t number) {
        FUZZ_CHECK(!d.summary.empty());
        FUZZ_CHECK(!d.raw_command.empty());
        FUZZ_CHECK(!text.empty());
        FUZZ_CHECK(number >= 1 && number <= expected.size());
        if (d.mac == model::Mac::selinux) {
            FUZZ_CHECK(!d.tclass.empty());
            FUZZ_CHECK(!d.permissions.empty());
        } else {
            FUZZ_CHECK(!d.profile.empty());
            FUZZ_CHECK(!d.operation.empty());
        }
    });
    for (const Line& line : expected) {
        if (!line.error) {
            normaliser.feed(line.text, line.number, emit);
        }
    }
    normaliser.finish(emit);
    return 0;
}

} // namespace virtdeny::fuzz::line_reader

VIRTDENY_FUZZ_MAIN(line_reader)
