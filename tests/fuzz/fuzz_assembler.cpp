// libFuzzer target: the event assembler fed records in any order: denials, SYSCALL / CWD /
// PATH / PROCTITLE siblings before, after or between them, EOE early, late or never, the
// same serial with other times (a restarted auditd) and on other nodes, under small limits.
// Checks: every denial comes out exactly once; an event holds only records of its own
// (node, time, serial); the limits on open events, their bytes and an event's denials hold
// after every record; a copy of the assembler behaves exactly as the original (the parallel
// scan adopts copies).
#include "fuzz_support.hpp"

#include <analyzer/ingest/event_assembler.hpp>

#include <memory>
#include <string>
#include <vector>

namespace virtdeny::fuzz::assembler {

struct Id
{
    std::string node;
    std::uint64_t serial = 0;
    std::int64_t time_ms = 0;
};

Id id_of(std::uint8_t b)
{
    Id id;
    id.node = (b & 0x40) ? "n1" : "";
    id.serial = b & 0x0f;
    id.time_ms = 1710000000000 + ((b >> 4) & 3);
    return id;
}

// The id written into a sibling so that the event it joins can be checked.
std::int64_t id_code(const Id& id)
{
    return static_cast<std::int64_t>(id.serial) * 100 + (id.time_ms % 10) * 10 + (id.node.empty() ? 0 : 1);
}

struct Run
{
    std::vector<std::uint64_t> seqs;  // denials as they came out
    std::size_t events = 0;
};

void check_event(const model::Event& e, const ingest::EventAssembler::Limits& limits, Run& run)
{
    ++run.events;
    FUZZ_CHECK(!e.denials.empty());
    FUZZ_CHECK(e.denials.size() <= limits.max_denials);
    Id id;
    id.node = e.node;
    id.serial = e.serial;
    id.time_ms = e.time_ms;
    for (const auto& d : e.denials) {
        FUZZ_CHECK(d.node == e.node && d.serial == e.serial && d.time_ms == e.time_ms);
        run.seqs.push_back(d.seq);
    }
    if (e.pid >= 0) {
        FUZZ_CHECK(e.pid / 1000 == id_code(id));
    }
    if (!e.cwd.empty()) {
        FUZZ_CHECK(e.cwd == "/id/" + std::to_string(id_code(id)));
    }
    for (const auto& p : e.paths) {
        FUZZ_CHECK(p.name == "/id/" + std::to_string(id_code(id)));
    }
}

int one_input(const std::uint8_t* data, std::size_t size)
{
    fuzz::Input in(data, size);
    ingest::EventAssembler::Limits limits;
    limits.window = 1 + in.byte() % 24;
    limits.max_open = 1 + in.byte() % 8;
    limits.max_denials = 1 + in.byte() % 6;
    limits.max_open_bytes = 1024 + static_cast<std::size_t>(in.byte()) * 64;
    const std::uint8_t copy_at = in.byte();

    Run run;
    Run copy_run;
    ingest::EventAssembler assembler([&](model::Event& e) { check_event(e, limits, run); }, limits);
    std::unique_ptr<ingest::EventAssembler> copy;
    std::vector<std::uint64_t> copy_expected;  // what the original emits after the copy

    std::uint64_t seq = 0;
    std::uint64_t copied_at_seq = 0;
    std::size_t op_index = 0;
    while (!in.empty()) {
        const std::uint8_t op = in.byte();
        const Id id = id_of(in.byte());
        const std::uint8_t extra = in.byte();
        if (op_index++ == copy_at && !copy) {
            copy = std::make_unique<ingest::EventAssembler>(assembler);
            FUZZ_CHECK(copy->same_state(assembler));
            copy->set_handler([&](model::Event& e) { check_event(e, limits, copy_run); });
            copied_at_seq = run.seqs.size();
        }
        std::string body;
        ingest::Record r;
        r.node = id.node;
        r.serial = id.serial;
        r.time_ms = id.time_ms;
        r.has_stamp = (op & 0x80) == 0 || (op & 3) != 0;
        const std::string code = std::to_string(id_code(id));
        auto feed = [&](ingest::EventAssembler& a) {
            switch (op & 3) {
            case 0: {
                r.type = ingest::RecordType::avc;
                model::Denial d;
                d.node = id.node;
                d.serial = r.serial;
                d.time_ms = r.time_ms;
                d.seq = seq;
                d.has_stamp = r.has_stamp;
                body.assign(extra % 64, 'x');
                r.body = body;
                a.add_denial(r, std::move(d));
                break;
            }
            case 1:
                switch (extra % 4) {
                case 0:
                    r.type = ingest::RecordType::syscall;
                    body = "arch=c000003e syscall=257 pid=" + code + std::to_string(100 + extra % 100 * 9) + " comm=\"x\"";
                    break;
                case 1:
                    r.type = ingest::RecordType::cwd;
                    body = "cwd=\"/id/" + code + "\"";
                    break;
                case 2:
                    r.type = ingest::RecordType::path;
                    body = "item=0 name=\"/id/" + code + "\" nametype=NORMAL";
                    break;
                default:
                    r.type = ingest::RecordType::proctitle;
                    body = "proctitle=" + std::string(extra, 'A');
                    break;
                }
                r.body = body;
                a.add_sibling(r);
                break;
            case 2:
                r.type = ingest::RecordType::eoe;
                a.end_of_event(r);
                break;
            default: a.tick(); break;
            }
        };
        if (!r.has_stamp) {
            // only denials come without a stamp (journald renderings)
            r.serial = 0;
            r.time_ms = id.time_ms;
        }
        feed(assembler);
        if (copy) {
            feed(*copy);
        }
        if ((op & 3) == 0) {
            ++seq;
        }
        FUZZ_CHECK(assembler.open_count() <= limits.max_open);
        FUZZ_CHECK(assembler.open_bytes() <= limits.max_open_bytes);
    }
    assembler.flush_all();
    if (copy) {
        copy->flush_all();
        // the copy emitted exactly what the original emitted after the copy was taken
        const std::vector<std::uint64_t> after(run.seqs.begin() + static_cast<std::ptrdiff_t>(copied_at_seq),
                                               run.seqs.end());
        FUZZ_CHECK(copy_run.seqs == after);
    }
    FUZZ_CHECK(assembler.open_count() == 0);
    FUZZ_CHECK(assembler.open_bytes() == 0);
    // every denial exactly once
    std::vector<char> seen(seq, 0);
    for (std::uint64_t s : run.seqs) {
        FUZZ_CHECK(s < seq);
        FUZZ_CHECK(seen[s] == 0);
        seen[s] = 1;
    }
    FUZZ_CHECK(run.seqs.size() == seq);
    return 0;
}

} // namespace virtdeny::fuzz::assembler

VIRTDENY_FUZZ_MAIN(assembler)
