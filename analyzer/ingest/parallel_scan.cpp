#include <analyzer/ingest/parallel_scan.hpp>

#include <analyzer/ingest/paste_normaliser.hpp>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <variant>
#include <vector>

namespace virtdeny::ingest {

namespace {

// A pool of chunk buffers, reused: a chunk is read into one with pread (one copy from the
// page cache) rather than mapped, so no page tables are built and torn down per chunk (with
// mmap that cost, munmap's TLB work above all, fell on the thread that replays the chunks).
class BufferPool
{
public:
    std::vector<char> take()
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (m_free.empty()) {
            return {};
        }
        std::vector<char> b = std::move(m_free.back());
        m_free.pop_back();
        return b;
    }
    void give(std::vector<char>&& b)
    {
        if (b.capacity() == 0) {
            return;
        }
        std::lock_guard<std::mutex> lock(m_mutex);
        m_free.push_back(std::move(b));
    }

private:
    std::mutex m_mutex;
    std::vector<std::vector<char>> m_free;
};

// One chunk's bytes: [begin, end) of the file.
struct Chunk
{
    std::vector<char> bytes;
    const char* data = nullptr;
    std::size_t size = 0;

    bool load(int fd, std::uint64_t begin, std::uint64_t end, BufferPool& pool, std::string& error)
    {
        size = static_cast<std::size_t>(end - begin);
        if (bytes.capacity() == 0) {
            bytes = pool.take();
        }
        if (bytes.size() < size) {
            bytes.resize(size);  // grows a pooled buffer only for a longer chunk
        }
        std::size_t got = 0;
        while (got < size) {
            const ssize_t n = ::pread(fd, bytes.data() + got, size - got, static_cast<off_t>(begin + got));
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                error = n == 0 ? std::string("file shrank while being read") : std::string(std::strerror(errno));
                return false;
            }
            got += static_cast<std::size_t>(n);
        }
        data = bytes.data();
        return true;
    }
    void release(BufferPool& pool)
    {
        pool.give(std::move(bytes));
        bytes = {};
        data = nullptr;
        size = 0;
    }
};

struct BadLine
{
    std::uint64_t line;
    std::string why;
};

using Item = std::variant<Record, model::Event>;

struct ChunkResult
{
    Chunk mapping;
    bool done = false;
    bool failed = false;
    std::string error;
    std::vector<Item> items;
    std::vector<BadLine> bad;
    std::uint64_t bad_dropped = 0;  // bad lines past the kept ones (never printed)
    // binary lines (said once per input): before the sync point, and after it
    struct Binary
    {
        std::uint64_t first = 0;
        std::uint64_t lines = 0;
        std::uint64_t bytes = 0;
    };
    Binary binary[2];
    bool past_sync = false;
    std::uint64_t lines = 0;
    ScanStats stats;
    // state after the first sync_lines lines
    RegionPos sync;
    std::unique_ptr<EventAssembler> snapshot;
    std::size_t items_at_sync = 0;
    std::size_t bad_at_sync = 0;
    std::uint64_t dropped_at_sync = 0;
    ScanStats stats_at_sync;
    std::unique_ptr<EventAssembler> assembler;  // state at the end of the chunk
};

// Chunk ends: each just past a newline (or the end of the file).
std::vector<std::uint64_t> chunk_ends(int fd, std::uint64_t size, std::size_t chunk_bytes)
{
    std::vector<std::uint64_t> ends;
    std::uint64_t pos = 0;
    std::vector<char> buf(1 << 16);
    while (pos < size) {
        std::uint64_t probe = pos + chunk_bytes;
        if (probe >= size) {
            ends.push_back(size);
            break;
        }
        std::uint64_t end = size;
        while (probe < size) {
            const ssize_t got = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(probe));
            if (got <= 0) {
                break;
            }
            const void* nl = std::memchr(buf.data(), '\n', static_cast<std::size_t>(got));
            if (nl) {
                end = probe + static_cast<std::uint64_t>(static_cast<const char*>(nl) - buf.data()) + 1;
                break;
            }
            probe += static_cast<std::uint64_t>(got);
        }
        ends.push_back(end);
        pos = end;
    }
    return ends;
}

void fix_lines(model::Event& event, std::uint64_t line_offset)
{
    for (auto& d : event.denials) {
        d.line += line_offset;
    }
}

} // namespace

bool is_chunkable_file(const std::string& path)
{
    if (path == "-") {
        return false;
    }
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return false;
    }
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    unsigned char magic[2] = {0, 0};
    const ssize_t got = ::pread(fd, magic, 2, 0);
    ::close(fd);
    return !(got == 2 && magic[0] == 0x1f && magic[1] == 0x8b);
}

bool scan_file_in_chunks(const std::string& path, std::uint32_t input_index, Scanner& scanner,
                         EventAssembler& assembler, const EventAssembler::EventHandler& on_event,
                         util::Diagnostics& diagnostics, const ParallelOptions& options, std::string& error,
                         ParallelStats* stats)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error = path + ": " + std::strerror(errno);
        return false;
    }
    struct FdCloser
    {
        int fd;
        ~FdCloser() { ::close(fd); }
    } closer{fd};
    struct stat st{};
    if (::fstat(fd, &st) != 0) {
        error = path + ": " + std::strerror(errno);
        return false;
    }
    const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
    const ScanStats stats_before = scanner.stats();
    std::string note;
    {
        // pasted text is read through the paste normaliser, line by line (Scanner::scan)
        std::string head(std::min<std::uint64_t>(size, k_paste_sniff_bytes), '\0');
        const ssize_t got = head.empty() ? 0 : ::pread(fd, head.data(), head.size(), 0);
        head.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
        note = unrecognised_note(head);
        if (looks_like_paste(head)) {
            auto reader = LineReader::from_fd(fd, path, options.max_line);
            if (options.on_chunk) {
                reader->on_block(options.on_chunk);
            }
            scanner.scan(*reader, input_index);
            if (!reader->error().empty()) {
                error = path + ": " + reader->error();
                return false;
            }
            return true;
        }
    }
    const std::size_t chunk_bytes = std::max<std::size_t>(options.chunk_bytes, 64);
    const std::vector<std::uint64_t> ends = chunk_ends(fd, size, chunk_bytes);
    const std::size_t n = ends.size();
    if (stats) {
        stats->chunks += n;
    }
    auto begin_of = [&](std::size_t i) { return i == 0 ? std::uint64_t(0) : ends[i - 1]; };

    std::uint64_t line_offset = 0;
    BufferPool pool;
    if (options.threads <= 1 || n <= 1) {
        Chunk one;  // one buffer, reused for every chunk
        for (std::size_t i = 0; i < n; ++i) {
            if (!one.load(fd, begin_of(i), ends[i], pool, error)) {
                error = path + ": " + error;
                return false;
            }
            const Chunk& m = one;
            const RegionPos pos = scanner.scan_region(m.data, m.size, begin_of(i), line_offset, i + 1 == n, path,
                                                      input_index, UINT64_MAX, options.max_line);
            line_offset += pos.lines;
            if (options.on_chunk) {
                options.on_chunk(ends[i]);
            }
        }
        scanner.note_unrecognised(path, stats_before, note);
        return true;
    }

    std::vector<ChunkResult> results(n);
    std::mutex mutex;
    std::condition_variable work_cv;
    std::condition_variable done_cv;
    std::size_t next = 0;
    std::size_t replayed = 0;
    bool stop = false;
    const std::size_t window = std::max<std::size_t>(2, 2 * options.threads);
    const TimeWindow time_window = scanner.window();
    const int year = scanner.default_year();

    auto process = [&](std::size_t i) {
        ChunkResult& r = results[i];
        if (!r.mapping.load(fd, begin_of(i), ends[i], pool, r.error)) {
            r.failed = true;
            return;
        }
        auto own = std::make_unique<EventAssembler>([&r](model::Event& e) { r.items.emplace_back(std::move(e)); });
        util::Diagnostics quiet(nullptr);
        Scanner sc(*own, quiet);
        sc.set_window(time_window);
        sc.set_default_year(year, scanner.year_fixed());
        sc.on_virt([&r](const Record& rec) { r.items.emplace_back(rec); });
        const std::size_t keep = static_cast<std::size_t>(options.sync_lines) + 256;
        sc.on_bad_line([&r, keep](std::uint64_t line, std::string_view why, std::size_t binary_bytes) {
            if (binary_bytes > 0) {
                ChunkResult::Binary& b = r.binary[r.past_sync ? 1 : 0];
                if (b.lines == 0) {
                    b.first = line;
                }
                ++b.lines;
                b.bytes += binary_bytes;
                return;
            }
            if (r.bad.size() < keep) {
                r.bad.push_back({line, std::string(why)});
            } else {
                ++r.bad_dropped;
            }
        });
        const bool at_eof = i + 1 == n;
        const std::uint64_t offset = begin_of(i);
        r.sync = sc.scan_region(r.mapping.data, r.mapping.size, offset, 0, at_eof, path, input_index,
                                options.sync_lines, options.max_line);
        r.snapshot = std::make_unique<EventAssembler>(*own);
        r.items_at_sync = r.items.size();
        r.bad_at_sync = r.bad.size();
        r.dropped_at_sync = r.bad_dropped;
        r.stats_at_sync = sc.stats();
        r.past_sync = true;
        RegionPos rest;
        if (r.sync.bytes < r.mapping.size) {
            rest = sc.scan_region(r.mapping.data + r.sync.bytes, r.mapping.size - r.sync.bytes, offset + r.sync.bytes,
                                  r.sync.lines, at_eof, path, input_index, UINT64_MAX, options.max_line);
        }
        r.lines = r.sync.lines + rest.lines;
        r.stats = sc.stats();
        r.assembler = std::move(own);
    };

    std::vector<std::thread> workers;
    for (unsigned t = 0; t < options.threads; ++t) {
        workers.emplace_back([&] {
            for (;;) {
                std::size_t i;
                {
                    std::unique_lock<std::mutex> lock(mutex);
                    work_cv.wait(lock, [&] { return stop || next >= n || next < replayed + window; });
                    if (stop || next >= n) {
                        return;
                    }
                    i = next++;
                }
                process(i);
                {
                    std::lock_guard<std::mutex> lock(mutex);
                    results[i].done = true;
                }
                done_cv.notify_all();
            }
        });
    }

    static const EventAssembler fresh(nullptr);
    bool ok = true;
    for (std::size_t i = 0; i < n; ++i) {
        {
            std::unique_lock<std::mutex> lock(mutex);
            done_cv.wait(lock, [&] { return results[i].done; });
        }
        ChunkResult& r = results[i];
        if (r.failed) {
            error = path + ": " + r.error;
            ok = false;
            break;
        }
        const bool at_eof = i + 1 == n;
        const std::uint64_t offset = begin_of(i);
        std::size_t item_from = 0;
        std::size_t bad_from = 0;
        std::uint64_t dropped_from = 0;
        ScanStats stats_from;
        bool from_sync = false;  // adopted after the first sync_lines lines, which were rescanned here
        bool adopt = assembler.same_state(fresh);
        if (!adopt) {
            const RegionPos pos = scanner.scan_region(r.mapping.data, r.mapping.size, offset, line_offset, at_eof,
                                                      path, input_index, r.sync.lines, options.max_line);
            adopt = assembler.same_state(*r.snapshot);
            if (adopt) {
                item_from = r.items_at_sync;
                bad_from = r.bad_at_sync;
                dropped_from = r.dropped_at_sync;
                stats_from = r.stats_at_sync;
                from_sync = true;
            } else if (pos.bytes < r.mapping.size) {
                scanner.scan_region(r.mapping.data + pos.bytes, r.mapping.size - pos.bytes, offset + pos.bytes,
                                    line_offset + pos.lines, at_eof, path, input_index, UINT64_MAX, options.max_line);
            }
        }
        if (adopt) {
            for (std::size_t k = item_from; k < r.items.size(); ++k) {
                Item& item = r.items[k];
                if (auto* ev = std::get_if<model::Event>(&item)) {
                    fix_lines(*ev, line_offset);
                    on_event(*ev);
                } else {
                    scanner.report_virt(std::get<Record>(item));
                }
            }
            for (std::size_t k = bad_from; k < r.bad.size(); ++k) {
                diagnostics.bad_line(path, r.bad[k].line + line_offset, r.bad[k].why);
            }
            for (std::uint64_t k = dropped_from; k < r.bad_dropped; ++k) {
                diagnostics.bad_line(path, 0, "");
            }
            // binary lines: those before the sync point were rescanned here when the chunk was
            for (int part = from_sync ? 1 : 0; part < 2; ++part) {
                const ChunkResult::Binary& b = r.binary[part];
                scanner.add_binary(b.first + line_offset, b.lines, b.bytes);
            }
            scanner.add_stats(r.stats - stats_from);
            assembler = std::move(*r.assembler);
            assembler.set_handler(on_event);
            assembler.adjust_open([line_offset](model::Event& e) { fix_lines(e, line_offset); });
            if (stats) {
                ++stats->adopted;
            }
        } else if (stats) {
            ++stats->rescanned;
        }
        line_offset += r.lines;
        // release the chunk
        r.mapping.release(pool);
        std::vector<Item>().swap(r.items);
        std::vector<BadLine>().swap(r.bad);
        r.snapshot.reset();
        r.assembler.reset();
        {
            std::lock_guard<std::mutex> lock(mutex);
            replayed = i + 1;
        }
        work_cv.notify_all();
        if (options.on_chunk) {
            options.on_chunk(ends[i]);
        }
    }
    {
        std::lock_guard<std::mutex> lock(mutex);
        stop = true;
    }
    work_cv.notify_all();
    for (auto& w : workers) {
        w.join();
    }
    if (ok) {
        scanner.note_unrecognised(path, stats_before, note);
    }
    return ok;
}

} // namespace virtdeny::ingest
