// Events -> findings. Denials are first merged under a provisional key that keeps apart
// what correlation may still separate (a pid reused by another VM run); at finish() each
// provisional finding is correlated and those with the same final key (node, domain, MAC,
// subject, object, class) are merged. Memory is bounded: at most max_findings findings
// holding at most max_bytes (about); the denials of a finding that does not fit are counted
// (overflow(), the summary's findings_overflow), never silently dropped. A finding's own
// lists are bounded too (k_max_pids pids, k_max_permissions permissions).
#pragma once

#include <analyzer/correlate/correlator.hpp>
#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/model/event.hpp>
#include <analyzer/model/finding.hpp>

#include <algorithm>
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
    // 20000 findings are far more than anyone reads, and with what the advisor and the
    // sinks add later they stay within a few hundred MB even with the longest lines.
    static constexpr std::size_t k_default_max_findings = 20000;
    static constexpr std::size_t k_default_max_bytes = 64u << 20;
    static constexpr std::size_t k_max_pids = 32;
    static constexpr std::size_t k_max_permissions = 64;  // an access vector has 32 bits
    static constexpr std::size_t k_reserve_max = 1u << 16;

    explicit Aggregator(const correlate::VmRegistry& registry, std::size_t max_findings = k_default_max_findings,
                        std::size_t max_bytes = k_default_max_bytes)
        : m_registry(registry), m_max_findings(max_findings), m_max_bytes(max_bytes)
    {
        // address space only (pages become memory when used): the array never grows by
        // doubling and copying, which would hold up to three times what it needs
        m_findings.reserve(std::min<std::size_t>(max_findings, k_reserve_max));
    }

    void add(const model::Event& event);
    // Correlates, merges and orders (first seen first) the findings.
    std::vector<model::Finding> finish(const correlate::Correlator& correlator);

    // One finding for a single denial (follow mode): correlated with what is known now.
    static model::Finding make_finding(const model::Denial& denial, const model::Event& event);

    std::uint64_t denials() const { return m_denials; }
    std::uint64_t not_enforced() const { return m_not_enforced; }
    // Denials that were counted but belong to no finding (the limits were reached).
    std::uint64_t overflow() const { return m_overflow; }
    std::size_t finding_count() const { return m_findings.size(); }
    // What the findings held so far cost, about (strings, lists and keys).
    std::size_t bytes() const { return m_bytes; }

private:
    const correlate::VmRegistry& m_registry;
    std::size_t m_max_findings;
    std::size_t m_max_bytes;
    std::size_t m_bytes = 0;
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
// Memory a finding holds, about: the object and what its strings and lists allocated.
std::size_t approx_bytes(const model::Finding& f);

} // namespace virtdeny::aggregate
