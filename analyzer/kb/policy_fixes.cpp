#include <analyzer/kb/policy_fixes.hpp>

#include <analyzer/kb/tsv_table.hpp>

#include <algorithm>

namespace virtdeny::kb {

namespace {

constexpr std::string_view k_header =
    "kind\tsource\ttarget\tclass\tperms\tcondition\tcommit\tdate\tfirst_tag\tbranch\tsubject";
constexpr std::string_view k_main_line = "rawhide";

bool is_hex(std::string_view s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}

}  // namespace

bool PolicyFixes::load(const std::string& dir, std::string& error)
{
    return tsv::load_table(dir + "/" + std::string(k_file), error,
                           [this](std::string_view text, std::string_view name, std::string& err) {
                               return load_text(text, name, err);
                           });
}

bool PolicyFixes::load_text(std::string_view text, std::string_view name, std::string& error)
{
    return tsv::for_each_row(
        text, name, k_header, error,
        [this](const std::vector<std::string_view>& f, const std::string& where, std::string& err) {
            PolicyFix fix{std::string(f[0]), std::string(f[1]), std::string(f[2]),
                          std::string(f[3]), tsv::words(f[4]), std::string(f[5]),
                          std::string(f[6]), std::string(f[7]), std::string(f[8]),
                          std::string(f[9]), std::string(f[10])};
            if (fix.kind != "rule" && fix.kind != "avc") {
                err = where + ": kind must be 'rule' or 'avc'";
                return false;
            }
            if (fix.source.empty() || fix.target.empty() || fix.tclass.empty()
                || fix.perms.empty() || fix.branch.empty()) {
                err = where + ": empty source, target, class, perms or branch";
                return false;
            }
            if (!is_hex(fix.commit)) {
                err = where + ": commit is not a hex hash";
                return false;
            }
            m_rows.push_back(std::move(fix));
            return true;
        });
}

std::vector<const PolicyFix*> PolicyFixes::fixes_for(std::string_view source,
                                                     std::string_view target,
                                                     std::string_view tclass,
                                                     std::string_view perm,
                                                     const MemberFn& member) const
{
    std::vector<const PolicyFix*> out;
    for (const PolicyFix& fix : m_rows) {
        const bool source_ok = fix.source == source || (member && member(source, fix.source));
        const bool target_ok = fix.target == target || (member && member(target, fix.target));
        if (source_ok && target_ok && fix.tclass == tclass
            && std::find(fix.perms.begin(), fix.perms.end(), perm) != fix.perms.end()) {
            out.push_back(&fix);
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const PolicyFix* a, const PolicyFix* b) {
        const bool a_main = a->branch == k_main_line;
        const bool b_main = b->branch == k_main_line;
        if (a_main != b_main) {
            return a_main;
        }
        if (a->branch != b->branch) {
            return a->branch < b->branch;
        }
        return a->date < b->date;
    });
    return out;
}

const PolicyFix* PolicyFixes::first_fix(std::string_view source, std::string_view target,
                                        std::string_view tclass, std::string_view perm,
                                        const MemberFn& member) const
{
    const auto rows = fixes_for(source, target, tclass, perm, member);
    if (rows.empty() || rows.front()->branch != k_main_line) {
        return nullptr;
    }
    return rows.front();
}

}  // namespace virtdeny::kb
