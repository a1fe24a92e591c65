// Reading the generated TSV tables of rules/ (comment lines start with '#', the first
// other line is the header, fields are separated by tabs). Bad input is an error with
// "file:line: why", never a crash.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace virtdeny::kb::tsv {

std::vector<std::string_view> split(std::string_view text, char sep);
// Space-separated words, empty ones dropped.
std::vector<std::string> words(std::string_view text);
bool read_file(const std::string& path, std::string& out);

// Reads the table at path and hands its text to load_text (a class's load_text member);
// an unreadable file is "path:0: cannot read file".
using LoadTextFn = std::function<bool(std::string_view text, std::string_view name, std::string& error)>;
bool load_table(const std::string& path, std::string& error, const LoadTextFn& load_text);

using RowFn = std::function<bool(const std::vector<std::string_view>& fields,
                                 const std::string& where, std::string& error)>;

// Checks the header line (exactly header), checks every data row has header's number of
// columns, and calls row for each. name is used for "name:line" in errors.
bool for_each_row(std::string_view text, std::string_view name, std::string_view header,
                  std::string& error, const RowFn& row);

}  // namespace virtdeny::kb::tsv
