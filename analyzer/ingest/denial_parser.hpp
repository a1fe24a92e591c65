// Record -> Denial: the SELinux (avc:, USER_AVC inner msg, SELINUX_ERR) and AppArmor
// (apparmor="...", legacy APPARMOR_* types) record bodies, normalised.
#pragma once

#include <analyzer/ingest/record.hpp>
#include <analyzer/model/denial.hpp>

#include <string>

namespace virtdeny::ingest {

enum class DenialParse { denial, not_denial, malformed };

// Fills out from the record. For records that are not denials (avc: granted, AppArmor
// STATUS / AUDIT / HINT) the fields are still filled where they exist.
DenialParse parse_denial(const Record& record, model::Denial& out, std::string& reason);

} // namespace virtdeny::ingest
