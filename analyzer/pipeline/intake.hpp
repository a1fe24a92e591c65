// The front of the pipeline, wired once: lines -> scanner -> event assembler -> the caller's
// event handler, with libvirt's VIRT_* records added to the VM registry that the correlator
// later reads (the caller's, as the aggregator reads it too). Used by the batch analysis, follow and the rule samples.
#pragma once

#include <analyzer/correlate/vm_registry.hpp>
#include <analyzer/ingest/event_assembler.hpp>
#include <analyzer/ingest/scanner.hpp>
#include <analyzer/pipeline/options.hpp>
#include <analyzer/util/diagnostics.hpp>

#include <functional>

namespace virtdeny::pipeline {

class Intake
{
public:
    // on_virt (optional): called after a VIRT_* record was added to the registry.
    Intake(const Options& options, correlate::VmRegistry& registry, ingest::EventAssembler::EventHandler on_event,
           util::Diagnostics& diagnostics, std::function<void(const ingest::Record&)> on_virt = {})
        : m_registry(registry),
          // an event without a denial is QEMU's execve (EventAssembler::add_sibling opens):
          // the registry learns which VM that pid runs; the caller sees only denials
          m_on_event([&registry, handler = std::move(on_event)](model::Event& event) {
              if (event.denials.empty()) {
                  registry.add_exec(event);
                  return;
              }
              handler(event);
          }),
          m_assembler(m_on_event),
          m_scanner(m_assembler, diagnostics)
    {
        m_scanner.set_window(options.window);
        if (options.year != 0) {
            m_scanner.set_default_year(options.year, true);
        }
        m_scanner.on_virt([this, extra = std::move(on_virt)](const ingest::Record& record) {
            m_registry.add(record);
            if (extra) {
                extra(record);
            }
        });
    }
    Intake(const Intake&) = delete;
    Intake& operator=(const Intake&) = delete;

    ingest::EventAssembler& assembler() { return m_assembler; }
    const ingest::EventAssembler& assembler() const { return m_assembler; }
    ingest::Scanner& scanner() { return m_scanner; }
    const ingest::EventAssembler::EventHandler& on_event() const { return m_on_event; }

private:
    correlate::VmRegistry& m_registry;
    ingest::EventAssembler::EventHandler m_on_event;
    ingest::EventAssembler m_assembler;
    ingest::Scanner m_scanner;
};

} // namespace virtdeny::pipeline
