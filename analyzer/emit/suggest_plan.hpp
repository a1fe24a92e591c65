// `virtdeny suggest`: the fixes of a run as policy artifacts, one folder per VM (AppArmor
// rules, SELinux module, libvirt XML snippet, apply.sh) plus host/ and a README.md.
#pragma once

#include <analyzer/model/finding.hpp>

#include <string>
#include <vector>

namespace virtdeny::correlate {
class DomainXmlIndex;
}

namespace virtdeny::emit {

struct SuggestFile
{
    std::string path;        // relative to the output directory ("devbox/apply.sh")
    std::string content;
    bool executable = false;
};

struct SuggestOptions
{
    bool cil = false;        // also write the module as .cil
};

// Every artifact, README.md first, in a stable order.
std::vector<SuggestFile> suggest_files(const std::vector<model::Finding>& findings,
                                       const correlate::DomainXmlIndex* xml, const SuggestOptions& options);

// A file-system-safe folder name for a VM ([A-Za-z0-9._-], never "", "." or "..").
std::string suggest_folder_name(const std::string& vm_name, const std::string& vm_uuid);

} // namespace virtdeny::emit
