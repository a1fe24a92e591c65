// libFuzzer target: the whole pipeline (scanner, event assembler with records in any order,
// VM registry, aggregator under small limits, correlator, advisor, writers, JSON, text and
// markdown output). Checks: no denial is lost (findings' counts plus the overflow are the
// denials read); every JSON line parses, is valid UTF-8 and holds no raw control byte; the
// text and markdown outputs are terminal-safe (no ESC, no C1, nothing but newlines below
// 0x20).
#include "fuzz_support.hpp"

#include <analyzer/aggregate/aggregator.hpp>
#include <analyzer/correlate/correlator.hpp>
#include <analyzer/emit/fix_text.hpp>
#include <analyzer/emit/json_sink.hpp>
#include <analyzer/emit/text_sink.hpp>
#include <analyzer/ingest/scanner.hpp>
#include <analyzer/kb/advisor.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace virtdeny::fuzz::pipeline {

const kb::KnowledgeBase& knowledge_base()
{
    static kb::KnowledgeBase kb = [] {
        kb::KnowledgeBase k;
        std::vector<std::string> errors;
        k.load({kb::default_rules_dir()}, errors);
        return k;
    }();
    return kb;
}

int one_input(const std::uint8_t* data, std::size_t size)
{
    std::string_view input(reinterpret_cast<const char*>(data), size);
    correlate::VmRegistry registry;
    aggregate::Aggregator aggregator(registry, 64, 256u << 10);
    // as pipeline::Intake wires it: an event without a denial is QEMU's exec, for the registry
    ingest::EventAssembler assembler([&](model::Event& ev) {
        if (ev.denials.empty()) {
            registry.add_exec(ev);
        } else {
            aggregator.add(ev);
        }
    });
    util::Diagnostics diagnostics(nullptr);
    ingest::Scanner scanner(assembler, diagnostics);
    scanner.on_virt([&](const ingest::Record& r) { registry.add(r); });
    scanner.set_default_year(2024);
    std::uint64_t line_number = 0;
    while (!input.empty()) {
        const std::size_t nl = input.find('\n');
        scanner.scan_line(input.substr(0, nl), "fuzz", ++line_number, 0);
        input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
    }
    assembler.flush_all();
    correlate::Correlator correlator(registry, nullptr);
    kb::Advisor advisor(knowledge_base(), nullptr);
    MemoryFile text_out;
    MemoryFile md_out;
    emit::TextSink text(text_out.file, false);
    emit::MarkdownSink markdown(md_out.file);
    std::uint64_t counted = 0;
    auto findings = aggregator.finish(correlator);
    FUZZ_CHECK(findings.size() <= 64);
    for (auto& f : findings) {
        advisor.advise(f);
        emit::write_fix_texts(f);
        counted += f.count;
        const std::string json = emit::finding_json(f);
        FUZZ_CHECK(fuzz::terminal_safe(json));
        FUZZ_CHECK(nlohmann::json::accept(json));
        text.finding(f);
        markdown.finding(f);
    }
    FUZZ_CHECK(counted + aggregator.overflow() == aggregator.denials());
    emit::RunStats stats;
    stats.findings = findings.size();
    stats.denials = aggregator.denials();
    stats.overflow = aggregator.overflow();
    text.end(stats);
    markdown.end(stats);
    FUZZ_CHECK(fuzz::terminal_safe(text_out.text(), "\n"));
    FUZZ_CHECK(fuzz::terminal_safe(md_out.text(), "\n"));
    FUZZ_CHECK(nlohmann::json::accept(emit::summary_json(stats)));
    return 0;
}

} // namespace virtdeny::fuzz::pipeline

VIRTDENY_FUZZ_MAIN(pipeline)
