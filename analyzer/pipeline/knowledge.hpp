// What explaining needs beside the logs: the knowledge base (the rules), the domain XML
// (libvirt_xml) and the binary SELinux policy that answers like audit2why (policy_file, or the
// loaded one: null, quietly, where SELinux is not enabled). Shared by the batch commands and
// follow.
#pragma once

#include <analyzer/correlate/domain_xml.hpp>
#include <analyzer/kb/knowledge_base.hpp>
#include <analyzer/kb/policy_query.hpp>
#include <analyzer/model/finding.hpp>
#include <analyzer/pipeline/options.hpp>
#include <analyzer/util/diagnostics.hpp>

#include <memory>
#include <string>

namespace virtdeny::pipeline {

// Problems go to diagnostics; false on a fatal one (bad rules, an unreadable policy_file).
bool load_knowledge(const Options& options, util::Diagnostics& diagnostics, kb::KnowledgeBase& kb,
                    correlate::DomainXmlIndex& xml, std::unique_ptr<kb::PolicyQuery>& policy);

// True when the finding belongs to the VM named by filter (name or uuid), or filter is empty.
bool matches_domain(const model::Finding& finding, const std::string& filter);

} // namespace virtdeny::pipeline
