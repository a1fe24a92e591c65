// Denials read from other tools' summaries, which carry some fields of a denial and never the
// whole record: setroubleshoot's one-line journal/syslog message ("SELinux is preventing ...
// For complete SELinux messages run: sealert -l UUID"), aa-notify's Profile:/Operation:/Name:/
// Denied: blocks (`aa-notify -p`, `aa-notify -l -v`) and `aureport --avc` rows. Each gives a
// model::Denial marked with the summary it came from (Denial::summary) and the command that
// prints the raw record (Denial::raw_command). They run only in the paste path
// (PasteNormaliser), never on a clean log.
#pragma once

#include <analyzer/model/denial.hpp>

#include <string>
#include <string_view>

namespace virtdeny::ingest {

// The summary names of Denial::summary (JSON from_summary).
inline constexpr std::string_view k_summary_setroubleshoot = "setroubleshoot";
inline constexpr std::string_view k_summary_aa_notify = "aa-notify";
inline constexpr std::string_view k_summary_aureport = "aureport";

// setroubleshoot's one-liner, as setroubleshootd logs it (its untranslated summary, then
// " For complete SELinux messages run: sealert -l UUID"): the four forms of
// SEFaultSignatureInfo.summary(), with "ACCESS access" or "'A, B' accesses":
//   SELinux is preventing SRC from ACCESS access on the CLASS TARGET.
//   SELinux is preventing SRC from ACCESS access on the CLASS labeled TYPE.
//   SELinux is preventing SRC from using the ACCESS access on a process.
//   SELinux is preventing SRC from using the ACCESS capability.
// SRC is the executable (or comm when setroubleshoot had no path), TARGET the path or only the
// name. Only the one-liner (with "sealert -l") is read: the same summary opens a full sealert
// report, whose raw AVC is read instead. false when line holds no such summary.
bool parse_setroubleshoot(std::string_view line, model::Denial& d);

// One "Key: value" line of an aa-notify block, added to d; true when the line is one
// (Profile, Operation, Name, Denied, Family, Socket, Logfile).
bool add_aa_notify_line(std::string_view line, model::Denial& d, bool& ends_block);
// d holds what an aa-notify block must have to be a denial (profile, and a name, or a network
// family, or an operation with a denied mask); fills the class fields the record would have.
bool finish_aa_notify(model::Denial& d);

// One `aureport --avc` row: "N. DATE TIME COMM SCONTEXT SYSCALL CLASS PERM TCONTEXT RESULT EVENT".
// Gives a denial with contexts, class and permission but no path (aureport prints none).
bool parse_aureport_avc(std::string_view line, model::Denial& d);

} // namespace virtdeny::ingest
