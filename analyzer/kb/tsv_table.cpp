#include <analyzer/kb/tsv_table.hpp>

#include <fstream>
#include <sstream>

namespace virtdeny::kb::tsv {

std::vector<std::string_view> split(std::string_view text, char sep)
{
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = text.find(sep, start);
        if (end == std::string_view::npos) {
            out.push_back(text.substr(start));
            return out;
        }
        out.push_back(text.substr(start, end - start));
        start = end + 1;
    }
}

std::vector<std::string> words(std::string_view text)
{
    std::vector<std::string> out;
    for (std::string_view word : split(text, ' ')) {
        if (!word.empty()) {
            out.emplace_back(word);
        }
    }
    return out;
}

bool read_file(const std::string& path, std::string& out)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return false;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    out = buffer.str();
    return true;
}

bool load_table(const std::string& path, std::string& error, const LoadTextFn& load_text)
{
    std::string text;
    if (!read_file(path, text)) {
        error = path + ":0: cannot read file";
        return false;
    }
    return load_text(text, path, error);
}

bool for_each_row(std::string_view text, std::string_view name, std::string_view header,
                  std::string& error, const RowFn& row)
{
    const std::size_t columns = split(header, '\t').size();
    bool seen_header = false;
    std::size_t line_no = 0;
    for (std::string_view line : split(text, '\n')) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const std::string where = std::string(name) + ":" + std::to_string(line_no);
        if (!seen_header) {
            if (line != header) {
                error = where + ": expected the header line '" + std::string(header) + "'";
                return false;
            }
            seen_header = true;
            continue;
        }
        const auto fields = split(line, '\t');
        if (fields.size() != columns) {
            error = where + ": expected " + std::to_string(columns) + " tab-separated fields, got "
                + std::to_string(fields.size());
            return false;
        }
        if (!row(fields, where, error)) {
            return false;
        }
    }
    if (!seen_header) {
        error = std::string(name) + ":" + std::to_string(line_no) + ": no header line (empty file?)";
        return false;
    }
    return true;
}

}  // namespace virtdeny::kb::tsv
