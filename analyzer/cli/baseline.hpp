// replay's baseline: the findings a CI job already knows about, keyed so that the same
// denial in another run has the same key (no pids, timestamps, serials, MCS categories,
// uuids or random file-name suffixes; the VM by name).
#pragma once

#include <analyzer/model/finding.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace virtdeny::cli {

// A path with what changes from run to run replaced by '*': mkstemp-style suffixes
// ("/tmp/memfd-Qw83Zk" -> "/tmp/memfd-*"), pids and other all-digit components,
// libvirt's "domain-N-NAME" directories, and uuids.
std::string stable_path(const std::string& path);
// The type of an SELinux context ("system_u:object_r:svirt_image_t:s0:c1,c2" -> "svirt_image_t").
std::string stable_context(const std::string& context);

struct BaselineEntry
{
    std::string key;
    std::string mac;
    std::string vm;       // VM name, "host" for the libvirt daemons, "-" when unknown
    std::string subject;
    std::string object;
    std::string tclass;
    std::set<std::string> permissions;
};

// The stable baseline entry of a finding.
BaselineEntry baseline_entry(const model::Finding& finding);

class Baseline
{
public:
    // Reads a baseline file (JSON Lines, '#' comments). false and error set when unreadable.
    bool load(const std::string& path, std::string& error);
    // Writes every entry, sorted by key. false and error set on failure.
    bool save(const std::string& path, std::string& error) const;

    // Adds an entry (permissions merged with an existing one).
    void add(const BaselineEntry& entry);
    // True when the baseline has the entry's key and all its permissions.
    bool covers(const BaselineEntry& entry) const;
    std::size_t size() const { return m_entries.size(); }

private:
    std::map<std::string, BaselineEntry> m_entries;
};

} // namespace virtdeny::cli
