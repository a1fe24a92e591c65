// AppArmor path globs as the parser reads them (apparmor.d(5) "Globbing"): * (any characters
// but /), ** (any characters; right after a '/' both need at least one, so "/d/**" does not
// match "/d/"), ? (one character but /), [...] / [^...] (one character of a set), {a,b}
// (alternation), backslash escapes and \NNN octal bytes, optional double quotes.
// Used to check that a proposed rule covers the denied path.
#pragma once

#include <string>
#include <string_view>

namespace virtdeny::kb {

// The glob as an anchored RE2 pattern; empty when the glob is malformed.
std::string apparmor_glob_regex(std::string_view glob);

// True when the glob (quoted or bare) matches path exactly as AppArmor would.
bool apparmor_glob_matches(std::string_view glob, std::string_view path);

} // namespace virtdeny::kb
