#include <analyzer/pipeline/knowledge.hpp>

#include <analyzer/correlate/libvirt_source.hpp>

namespace virtdeny::pipeline {

bool matches_domain(const model::Finding& f, const std::string& filter)
{
    return filter.empty() || (f.domain && (f.domain->name == filter || f.domain->uuid == filter));
}

bool load_knowledge(const Options& options, util::Diagnostics& diagnostics, kb::KnowledgeBase& kb,
                    correlate::DomainXmlIndex& xml, std::unique_ptr<kb::PolicyQuery>& policy)
{
    std::vector<std::string> errors;
    const bool ok = kb.load(options.rules_dirs, errors);
    for (const auto& e : errors) {
        diagnostics.error("rules: " + e);
    }
    if (!ok) {
        return false;
    }
    for (const auto& path : options.libvirt_xml) {
        std::vector<std::string> xml_errors;
        xml.load(path, xml_errors);
        for (const auto& e : xml_errors) {
            diagnostics.error("libvirt-xml: " + e);
        }
    }
    // --connect: libvirt's own list of domains, into the same index (bounded, never fatal)
    const std::string connect_problem = correlate::load_from_libvirt(options.connect, xml);
    if (!connect_problem.empty()) {
        diagnostics.error(connect_problem);
    }
    if (options.policy_file == "none") {
        return true;  // the bundled policy data only, even on an SELinux host
    }
    if (options.policy_file.empty()) {
        policy = kb::PolicyQuery::open_loaded();
        return true;
    }
    std::string error;
    policy = kb::PolicyQuery::open(options.policy_file, error);
    if (!policy) {
        diagnostics.error("policy: " + error);
        return false;
    }
    return true;
}

} // namespace virtdeny::pipeline
