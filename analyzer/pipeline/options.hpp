// What the pipeline needs to know, whichever command drives it: where the knowledge comes
// from, how to scan and which findings to keep. cli/ maps its flags onto this; live/ and
// kb/ take it as it is.
#pragma once

#include <analyzer/ingest/journal_source.hpp>
#include <analyzer/ingest/scanner.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace virtdeny::pipeline {

struct Options
{
    // knowledge (see load_knowledge)
    std::vector<std::string> rules_dirs;     // in order; later directories override earlier ones
    std::vector<std::string> libvirt_xml;    // domain XML files or directories
    std::string policy_file;                 // binary SELinux policy; empty: the loaded one; "none": bundled data only
    std::string virt_aa_helper;              // "" = libvirt's when installed, "none" = off, else a path
    std::string connect;                     // libvirt URI, "none", or empty: the default (correlate/libvirt_source.hpp)
    // scanning
    bool journal = false;                    // the systemd journal is an input (read before the others)
    ingest::JournalSpec journal_spec;        // which journal (empty: the local system journal)
    ingest::TimeWindow window;
    int year = 0;                            // of syslog dates without one (0: inferred)
    unsigned threads = 0;                    // parallel scan of regular files (0: one per core)
    // test knobs (the VIRTDENY_CHUNK_BYTES and VIRTDENY_SYNC_LINES environment variables, read
    // in cli/analysis.cpp; README.md, "Tests"): 0 = default
    std::size_t chunk_bytes = 0;             // bytes per chunk of a parallel scan
    std::uint64_t sync_lines = 0;            // lines rescanned per chunk
    // selecting
    std::string domain_filter;               // name or uuid; empty: every finding
};

} // namespace virtdeny::pipeline
