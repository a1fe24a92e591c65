// key=value scanner for audit record bodies: "quoted", 'single quoted' and bare values,
// with the kernel's hex encoding of untrusted strings decoded on request.
#pragma once

#include <string>
#include <string_view>

namespace virtdeny::ingest {

struct Field
{
    std::string_view key;
    std::string_view value;  // without quotes
    char quote = 0;          // '"', '\'' or 0 for a bare value
};

class FieldScanner
{
public:
    explicit FieldScanner(std::string_view text) : m_rest(text) {}

    // Next key=value pair; tokens without '=' are skipped. false at the end.
    bool next(Field& field);
    // A quoted value ran to the end of the text without its closing quote.
    bool unterminated() const { return m_unterminated; }

private:
    std::string_view m_rest;
    bool m_unterminated = false;
};

// For string-valued keys only (name, path, comm, profile, ...; never numbers): quoted
// values as they are, bare hex-encoded values decoded
// (the kernel writes untrusted strings either "quoted" or hex-encoded).
std::string decode_value(const Field& field);

// Finds the first field named key in text (decoded). Empty when absent.
std::string find_field(std::string_view text, std::string_view key);

} // namespace virtdeny::ingest
