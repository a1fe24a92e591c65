// Finding -> device kind, explanation and fixes (narrowest first), from the knowledge base.
#pragma once

#include <analyzer/correlate/domain_xml.hpp>
#include <analyzer/kb/knowledge_base.hpp>
#include <analyzer/model/finding.hpp>

namespace virtdeny::kb {

class Advisor
{
public:
    Advisor(const KnowledgeBase& kb, const correlate::DomainXmlIndex* xml) : m_kb(kb), m_xml(xml) {}

    void advise(model::Finding& finding) const;

private:
    const KnowledgeBase& m_kb;
    const correlate::DomainXmlIndex* m_xml;
};

// "qemu-system-x86 (VM web01)" style description of who was denied.
std::string describe_subject(const model::Finding& finding);

// Where an AppArmor fix for this finding's profile goes so that it survives VM restarts and
// package upgrades (a sentence starting with a space), or empty.
std::string apparmor_persistence_note(const model::Finding& finding);

} // namespace virtdeny::kb
