// The whole pipeline over a set of inputs: scan -> assemble -> aggregate -> correlate ->
// advise. Shared by explain, suggest and replay.
#pragma once

#include <analyzer/cli/config.hpp>
#include <analyzer/correlate/domain_xml.hpp>
#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/emit/sink.hpp>
#include <analyzer/kb/knowledge_base.hpp>
#include <analyzer/kb/policy_query.hpp>
#include <analyzer/model/finding.hpp>
#include <analyzer/util/diagnostics.hpp>

#include <memory>
#include <vector>

namespace virtdeny::cli {

struct AnalysisResult
{
    std::vector<model::Finding> findings;
    emit::RunStats stats;
    bool unreadable_input = false;
};

class Analysis
{
public:
    Analysis(const Config& config, util::Diagnostics& diagnostics) : m_config(config), m_diagnostics(diagnostics) {}

    // Loads the knowledge base and domain XML. false on a fatal problem (bad rules).
    bool setup();
    AnalysisResult run();

    const kb::KnowledgeBase& knowledge_base() const { return m_kb; }
    // The binary SELinux policy that answers like audit2why (--policy, or the loaded one), or null.
    const kb::PolicyQuery* policy() const { return m_policy.get(); }
    const correlate::DomainXmlIndex* xml() const { return m_xml.domains().empty() ? nullptr : &m_xml; }

private:
    const Config& m_config;
    util::Diagnostics& m_diagnostics;
    kb::KnowledgeBase m_kb;
    correlate::DomainXmlIndex m_xml;
    std::unique_ptr<kb::PolicyQuery> m_policy;
};

// What explaining needs beside the logs: the knowledge base (the rules), the domain XML
// (--libvirt-xml) and the binary SELinux policy that answers like audit2why (--policy, or the
// loaded one: null, quietly, where SELinux is not enabled). Shared by Analysis and follow.
// Problems go to diagnostics; false on a fatal one (bad rules, an unreadable --policy).
bool load_knowledge(const Config& config, util::Diagnostics& diagnostics, kb::KnowledgeBase& kb,
                    correlate::DomainXmlIndex& xml, std::unique_ptr<kb::PolicyQuery>& policy);

// True when the finding belongs to the VM named by filter (name or uuid).
bool matches_domain(const model::Finding& finding, const std::string& filter);

} // namespace virtdeny::cli
