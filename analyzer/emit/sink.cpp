#include <analyzer/emit/sink.hpp>

#include <analyzer/emit/json_sink.hpp>
#include <analyzer/emit/text_sink.hpp>

namespace virtdeny::emit {

std::unique_ptr<FindingSink> make_sink(Format format, std::FILE* out, SinkOptions options)
{
    switch (format) {
    case Format::json: return std::make_unique<JsonSink>(out);
    case Format::markdown: return std::make_unique<MarkdownSink>(out);
    case Format::text: break;
    }
    return std::make_unique<TextSink>(out, options.colour);
}

} // namespace virtdeny::emit
