// Scanning a regular file: read chunk by chunk into pooled buffers with pread (memory bounded
// by the chunks in flight, not the file; no page tables built and torn down per chunk), and with several threads split at line boundaries. Each worker scans its
// chunk with its own assembler from an empty state and records what it would hand on
// (completed events, VIRT_* records, bad lines) in order. The calling thread replays the
// chunks in file order into the real assembler, VIRT_* handler and diagnostics; at the start of
// a chunk it rescans the first lines with the real state until it reaches the worker's
// snapshot and, when both states are equal there (the usual case: events carried over
// from the previous chunk have completed), takes the worker's results from there on and
// adopts its assembler; otherwise it rescans the whole chunk itself. The result is exactly
// that of a single-threaded scan.
#pragma once

#include <analyzer/ingest/event_assembler.hpp>
#include <analyzer/ingest/scanner.hpp>
#include <analyzer/util/diagnostics.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace virtdeny::ingest {

struct ParallelOptions
{
    unsigned threads = 1;                      // 1: no worker threads
    std::size_t chunk_bytes = 4u << 20;        // bytes per chunk (rounded to a line end)
    std::uint64_t sync_lines = 512;            // lines rescanned by the caller per chunk
    std::size_t max_line = LineReader::k_default_max_line;
    // Called on the calling thread after each chunk with the bytes of this file done so far
    // (the progress line); empty: not called.
    std::function<void(std::uint64_t)> on_chunk;
};

struct ParallelStats
{
    std::uint64_t chunks = 0;
    std::uint64_t adopted = 0;     // chunks whose worker results were used
    std::uint64_t rescanned = 0;   // chunks the caller scanned whole (states differed)
};

// True when path names a regular, non-gzip file, which scan_file_in_chunks can read.
bool is_chunkable_file(const std::string& path);

// Scans the regular file at path in chunks (read with pread, in parallel when
// options.threads > 1) as `scanner` would line by line: scanner's assembler, on_virt
// handler and diagnostics receive everything in input order; `on_event` is the
// assembler's handler, given again to adopted worker assemblers. false with error set
// when the file cannot be opened or read.
bool scan_file_in_chunks(const std::string& path, std::uint32_t input_index, Scanner& scanner,
                         EventAssembler& assembler, const EventAssembler::EventHandler& on_event,
                         util::Diagnostics& diagnostics, const ParallelOptions& options, std::string& error,
                         ParallelStats* stats = nullptr);

} // namespace virtdeny::ingest
