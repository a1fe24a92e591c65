#include <analyzer/emit/fix_text.hpp>

#include <analyzer/emit/apparmor_writer.hpp>
#include <analyzer/emit/selinux_writer.hpp>
#include <analyzer/kb/apparmor_grant.hpp>
#include <analyzer/util/escape.hpp>

namespace virtdeny::emit {

std::string fix_text(const model::Finding& f, const model::Fix& fix)
{
    std::string text;
    for (const model::TextPart& part : fix.text_parts) {
        switch (part.form) {
        case model::TextForm::literal: text += part.value; break;
        case model::TextForm::shell_word: text += util::shell_quote(part.value); break;
        case model::TextForm::xml: text += util::xml_escape(part.value); break;
        case model::TextForm::apparmor_path: text += kb::apparmor_quote_file_path(part.value); break;
        case model::TextForm::apparmor_rule: text += apparmor_rule_text(fix.grant); break;
        case model::TextForm::selinux_allow: text += selinux_allow_rule(f); break;
        }
    }
    return text;
}

void write_fix_texts(model::Finding& f)
{
    for (model::Fix& fix : f.fixes) {
        fix.text = fix_text(f, fix);
    }
}

} // namespace virtdeny::emit
