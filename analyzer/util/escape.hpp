// Every escaper of virtdeny, in one place: text from a log (a file name, a VM name, a
// profile) goes through one of these before it reaches a shell command, an AppArmor rule, a
// file-contexts regex, XML, JSON, markdown or a terminal. Each is tested against its real
// consumer (tests/unit/test_util_escape.cpp: sh, apparmor_parser, libselinux's selabel
// lookup, pugixml, nlohmann's JSON parser).
#pragma once

#include <string>
#include <string_view>

namespace virtdeny::util {

// One POSIX shell word: single-quoted, each ' written as '\''. Any byte string, the empty
// one included (''); sh reads it back byte for byte.
std::string shell_quote(std::string_view s);

// The body of an AppArmor quoted path literal (without the quotes), so a glob can be
// appended to it: * ? [ ] { } ^ " \ escaped with a backslash, control bytes, DEL and bytes
// >= 0x80 as three-digit octal escapes (\NNN). The literal then matches only this text.
std::string apparmor_glob_escape(std::string_view text);

// A path as an AppArmor path literal: "..." around apparmor_glob_escape(path).
std::string apparmor_path(std::string_view path);

// The path as an anchored file-contexts regex (semanage fcontext, file_contexts.local) that
// matches exactly that path (tree: the path and everything below it, "(/.*)?"): regex
// metacharacters escaped, whitespace, control bytes and bytes >= 0x7f as \xNN (whitespace
// would split the file_contexts line). Trailing slashes are dropped. Empty when the path is
// not absolute.
std::string selinux_fcontext_regex(std::string_view path, bool tree = false);

// Text for XML character data or a quoted attribute value: & < > ' " as entities. The
// characters XML 1.0 cannot hold at all (C0 controls but tab, LF, CR) are left as they are:
// check xml_representable first where that matters.
std::string xml_escape(std::string_view s);

// True when every character can be written in an XML 1.0 document (no C0 control but tab,
// LF, CR).
bool xml_representable(std::string_view s);

// Text for the inside of an XML comment (<!-- ... -->), on one line: control bytes as '?',
// no "--" (a '-' after a '-' is preceded by a space) and no '-' at the end (so "-->" in the
// input cannot close the comment).
std::string xml_comment(std::string_view s);

// Log text for a markdown table cell or list item: printable(), no pipes (\|), no
// backquotes (shown as ').
std::string markdown_cell(std::string_view s);

// Replaces bytes that are not valid UTF-8 with the text "\xNN" so that nothing is dropped
// and the result is valid UTF-8 (what a JSON string can hold).
std::string sanitize_utf8(std::string_view s);

// For terminal output: also escapes control characters (C0, DEL, C1: no escape-sequence
// injection) and the bidirectional controls (no reordered file names), byte by byte as \xNN.
std::string printable(std::string_view s);

// JSON text (valid UTF-8, as nlohmann's dump writes it), also safe to print on a terminal:
// DEL, the C1 controls and the bidirectional controls, which nlohmann leaves as they are,
// become \u escapes (the same JSON value).
std::string json_terminal_safe(std::string json);

} // namespace virtdeny::util
