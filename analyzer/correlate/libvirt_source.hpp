// Asks libvirt itself (--connect URI, the libvirt C API, read-only) for every domain it knows,
// running or only defined: uuid, name, id and XML. The XML goes into the same DomainXmlIndex
// --libvirt-xml files do, so <seclabel> labels map MCS categories to a VM even when QEMU never
// started, and device paths give the device kind.
//
// A missing libvirt, a refused or a slow connection never stops an analysis: the listing runs
// in a thread with a deadline; past it, one line says so and the analysis goes on from the log.
#pragma once

#include <analyzer/correlate/domain_xml.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace virtdeny::correlate {

// What --connect VALUE means: the URI to open, or empty when the lookup is off.
// "none" turns it off. No value (empty) is the default: qemu:///system when a libvirt
// read-only socket exists on this host (virtqemud or libvirtd), else off, silently.
// VIRTDENY_CONNECT in the environment is the default when --connect is not given.
struct ConnectTarget
{
    std::string uri;
    bool explicit_uri = false;  // given by the user: a failure is worth a line even when default-off
};
ConnectTarget resolve_connect(const std::string& option);

struct LibvirtDomain
{
    std::string uuid;
    std::string name;
    int id = -1;  // -1 when not running
    std::string xml;
};

struct LibvirtListing
{
    bool ok = false;
    std::string error;  // one line, when !ok
    std::vector<LibvirtDomain> domains;
};

// How long a connection and listing may take in all (VIRTDENY_CONNECT_TIMEOUT_MS overrides).
std::chrono::milliseconds connect_timeout();

// Opens uri read-only, lists all domains with their XML, closes. Never blocks longer than
// timeout: a connection that does not answer is left to its thread (only one such thread at a
// time: while one still hangs, a new listing fails at once).
LibvirtListing list_libvirt_domains(const std::string& uri, std::chrono::milliseconds timeout);

// Adds a listing's domains to xml (DomainInfo::via "libvirt-api"); errors of single documents
// go to errors. Returns the number of domains added.
std::size_t add_libvirt_domains(const LibvirtListing& listing, const std::string& uri, DomainXmlIndex& xml,
                                std::vector<std::string>& errors);

// The whole --connect step: resolve option, list, add to xml. Returns the one line to say on
// stderr (empty when all went well or the lookup is off); the analysis goes on either way.
std::string load_from_libvirt(const std::string& option, DomainXmlIndex& xml);

} // namespace virtdeny::correlate
