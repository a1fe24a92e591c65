// Finding -> device kind, explanation and fixes (narrowest first), from the knowledge base.
#pragma once

#include <analyzer/correlate/domain_xml.hpp>
#include <analyzer/kb/access_model.hpp>
#include <analyzer/kb/knowledge_base.hpp>
#include <analyzer/kb/policy_query.hpp>
#include <analyzer/kb/virt_aa_helper.hpp>
#include <analyzer/model/finding.hpp>

namespace virtdeny::kb {

class Advisor
{
public:
    // policy: a binary SELinux policy (--policy, or the loaded one) that answers SELinux
    // findings like audit2why; null when there is none.
    Advisor(const KnowledgeBase& kb, const correlate::DomainXmlIndex* xml, const PolicyQuery* policy = nullptr);

    void advise(model::Finding& finding) const;

    // virt-aa-helper's dry run, to say why an AppArmor denial fell outside the VM's profile.
    void set_virt_aa_helper(const VirtAaHelper* helper) { m_helper = helper; }

private:
    const KnowledgeBase& m_kb;
    const correlate::DomainXmlIndex* m_xml;
    const PolicyQuery* m_policy;
    AccessModel m_access;
    const VirtAaHelper* m_helper = nullptr;
};

// What the policy's answer means for a finding: a sentence for its explanation (starting
// with a space), and its fixes adjusted: policy booleans (with their state there and what
// else they open) last, in place of the table's; no allow rule where a constraint denies.
// Only for answers the policy could evaluate; else just the sentence. Returns the sentence.
std::string apply_policy_answer(model::Finding& finding, const PolicyAnswer& answer, const std::string& policy_path,
                                const BooleanTable& table);

// "qemu-system-x86 (VM web01)" style description of who was denied.
std::string describe_subject(const model::Finding& finding);

// Where an AppArmor fix for this finding's profile goes so that it survives VM restarts and
// package upgrades (a sentence starting with a space), or empty.
std::string apparmor_persistence_note(const model::Finding& finding);

} // namespace virtdeny::kb
