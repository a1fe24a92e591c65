// libFuzzer target: the whole pipeline (scanner, event assembler with records in any order,
// VM registry, aggregator, correlator, advisor, writers, JSON and text output).
#include <analyzer/aggregate/aggregator.hpp>
#include <analyzer/correlate/correlator.hpp>
#include <analyzer/emit/json_sink.hpp>
#include <analyzer/emit/text_sink.hpp>
#include <analyzer/ingest/scanner.hpp>
#include <analyzer/kb/advisor.hpp>

#include <cstdio>
#include <string_view>

using namespace virtdeny;

namespace {

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

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view input(reinterpret_cast<const char*>(data), size);
    correlate::VmRegistry registry;
    aggregate::Aggregator aggregator(registry, 4096);
    ingest::EventAssembler assembler([&](model::Event& ev) { aggregator.add(ev); });
    util::Diagnostics diagnostics(nullptr);
    ingest::Scanner scanner(assembler, registry, diagnostics);
    std::uint64_t line_number = 0;
    while (!input.empty()) {
        const std::size_t nl = input.find('\n');
        scanner.scan_line(input.substr(0, nl), "fuzz", ++line_number, 0);
        input.remove_prefix(nl == std::string_view::npos ? input.size() : nl + 1);
    }
    assembler.flush_all();
    correlate::Correlator correlator(registry, nullptr);
    kb::Advisor advisor(knowledge_base(), nullptr);
    static std::FILE* null_out = std::fopen("/dev/null", "w");
    emit::TextSink text(null_out, true);
    for (auto& f : aggregator.finish(correlator)) {
        advisor.advise(f);
        const std::string json = emit::finding_json(f);
        std::fwrite(json.data(), 1, json.size(), null_out);
        text.finding(f);
    }
    text.end(emit::RunStats{});
    return 0;
}
