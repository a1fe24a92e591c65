// Events -> findings. Denials are first merged under a provisional key that keeps apart
// what correlation may still separate (a pid reused by another VM run); at finish() each
// provisional finding is correlated and those with the same final key (node, domain, MAC,
// subject, object, class) are merged. Memory is bounded by the number of findings.
#pragma once

#include <analyzer/correlate/correlator.hpp>
#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/model/event.hpp>
#include <analyzer/model/finding.hpp>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace virtdeny::aggregate {

// AppArmor mask letters / words -> permission words ("rw" -> read, write).
std::vector<std::string> apparmor_permissions(const model::Denial& denial);
// The class of an AppArmor denial (class= when logged, else from the operation).
std::string apparmor_class(const model::Denial& denial);
// The object path of a denial, completed from its event's PATH/CWD records.
std::string object_path(const model::Denial& denial, const model::Event& event);

class Aggregator
{
public:
    static constexpr std::size_t k_default_max_findings = 1u << 20;
    static constexpr std::size_t k_max_pids = 32;

    explicit Aggregator(const correlate::VmRegistry& registry, std::size_t max_findings = k_default_max_findings)
        : m_registry(registry), m_max_findings(max_findings)
    {
    }

    void add(const model::Event& event);
    // Correlates, merges and orders (first seen first) the findings.
    std::vector<model::Finding> finish(const correlate::Correlator& correlator);

    // One finding for a single denial (follow mode): correlated with what is known now.
    static model::Finding make_finding(const model::Denial& denial, const model::Event& event);

    std::uint64_t denials() const { return m_denials; }
    std::uint64_t not_enforced() const { return m_not_enforced; }
    std::uint64_t overflow() const { return m_overflow; }

private:
    const correlate::VmRegistry& m_registry;
    std::size_t m_max_findings;
    std::unordered_map<std::string, std::size_t> m_index;
    std::vector<model::Finding> m_findings;
    std::uint64_t m_denials = 0;
    std::uint64_t m_not_enforced = 0;
    std::uint64_t m_overflow = 0;
};

// Merges b into a (same final key).
void merge_into(model::Finding& a, const model::Finding& b);
// The final key of a correlated finding.
std::string final_key(const model::Finding& f);

} // namespace virtdeny::aggregate
