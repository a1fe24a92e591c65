// Where findings go: text, JSON Lines, markdown. Emitters never parse; parsers never format.
#pragma once

#include <analyzer/model/finding.hpp>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace virtdeny::emit {

struct RunStats
{
    std::uint64_t inputs = 0;
    std::uint64_t lines = 0;
    std::uint64_t bytes = 0;
    std::uint64_t malformed_lines = 0;
    std::uint64_t events = 0;
    std::uint64_t denials = 0;
    std::uint64_t not_enforced = 0;
    std::uint64_t findings = 0;
    std::uint64_t overflow = 0;
    std::uint64_t domains = 0;
};

class FindingSink
{
public:
    virtual ~FindingSink() = default;
    virtual void begin() {}
    virtual void finding(const model::Finding& finding) = 0;
    virtual void end(const RunStats& stats) = 0;
};

enum class Format { text, json, markdown };

struct SinkOptions
{
    bool colour = false;
};

std::unique_ptr<FindingSink> make_sink(Format format, std::FILE* out, SinkOptions options);

} // namespace virtdeny::emit
