// The text of a fix, written once from its value after kb/ has checked and ranked it: the
// parts kb bound (model::TextPart), each value quoted for where it goes, and its rule from
// its grant (emit/apparmor_writer, emit/selinux_writer).
#pragma once

#include <analyzer/model/finding.hpp>

#include <string>

namespace virtdeny::emit {

std::string fix_text(const model::Finding& finding, const model::Fix& fix);

// Sets Fix::text of every fix of the finding (after kb::Advisor::advise).
void write_fix_texts(model::Finding& finding);

} // namespace virtdeny::emit
