// A candidate fix as a value: what it grants (subjects, targets, classes, permissions, the
// file or command it changes), its scope, the effect it was proven to have on the denied
// access, and what it opens beyond that access (breadth). The advisor builds it, kb/fix_check
// checks and ranks it on these values, and emit/fix_text writes its text once, at the end.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace virtdeny::model {

enum class Scope : std::uint8_t { domain, daemon, host };

inline const char* to_string(Scope s)
{
    switch (s) {
    case Scope::domain: return "domain";
    case Scope::daemon: return "daemon";
    case Scope::host: return "host";
    }
    return "host";
}

// What a fix does to the denied access, as checked against the policy model or the profile.
enum class Effect : std::uint8_t {
    allows,        // after it, the denied access (and the follow-on accesses listed) is allowed
    unknown,       // it could not be checked (no policy data for it)
    moot,          // it changes nothing: the object already has that label / the rule exists
    insufficient,  // it changes something, but the access stays denied
};

inline const char* to_string(Effect e)
{
    switch (e) {
    case Effect::allows: return "allows";
    case Effect::unknown: return "unknown";
    case Effect::moot: return "moot";
    case Effect::insufficient: return "insufficient";
    }
    return "unknown";
}

// Which processes a fix opens something to.
enum class Reach : std::uint8_t {
    this_vm,   // only the VM of the finding
    all_vms,   // every VM of the same type or profile family
    daemon,    // the libvirt daemon (or one helper) only
    host,      // every process of a type, or every domain on the host
};

inline const char* to_string(Reach r)
{
    switch (r) {
    case Reach::this_vm: return "this";
    case Reach::all_vms: return "all";
    case Reach::daemon: return "this";  // the one daemon denied (docs/json.md)
    case Reach::host: return "host";
    }
    return "host";
}

struct Breadth
{
    Reach vms = Reach::host;
    std::vector<std::string> subjects;     // types or profiles that gain something
    std::vector<std::string> targets;      // types, files or path globs they gain it on
    std::vector<std::string> permissions;  // what they gain ("*" = the boolean's whole rule set)
};

enum class GrantKind : std::uint8_t {
    none,           // a change whose effect is not modelled (a command to inspect, a kernel upgrade)
    selinux_allow,  // allow subjects targets:tclass perms
    relabel,        // the object gets type to_type (semanage fcontext + restorecon, chcon -t)
    relevel,        // the object gets level (chcon -l, restart for libvirt's relabel)
    shared_level,   // the object gets a level every VM dominates (<shareable/>, s0)
    boolean,        // setsebool boolean value
    apparmor_rule,  // targets (path globs) perms in a profile
    upgrade,        // a policy/package version that contains the rule
    managed,        // libvirt grants it itself once the XML / qemu.conf says so
};

struct Grant
{
    GrantKind kind = GrantKind::none;
    std::vector<std::string> subjects;  // SELinux types, or AppArmor profile
    std::vector<std::string> targets;   // SELinux types, or AppArmor path globs
    std::string tclass;
    std::vector<std::string> perms;     // SELinux permissions, or AppArmor letters ("rwl")
    std::string to_type;                // relabel
    std::string level;                  // relevel
    std::string boolean;                // boolean
    bool boolean_value = true;
    bool per_vm = false;                // lives in the VM's own profile / type / XML
    bool owner = false;                 // AppArmor file rule: only files the process's user owns
    // AppArmor rules but file rules: tclass is the rule's keyword (capability, network, unix,
    // signal, ptrace, dbus, mount, umount) and these its words in order, as logged and
    // checked, not yet quoted ("access" "read trace", "peer" "libvirtd", ...)
    std::vector<std::pair<std::string, std::string>> conditions;
};

// How one part of a fix's text is written out (emit/fix_text).
enum class TextForm : std::uint8_t {
    literal,        // as it is: the rule's own words, or a value checked to be safe (type, UUID, level)
    shell_word,     // one shell word, quoted
    xml,            // XML text or attribute value, escaped
    apparmor_path,  // an AppArmor path literal, quoted and escaped
    apparmor_rule,  // the fix's AppArmor rule (Fix::grant); value: its glob or keyword
    selinux_allow,  // the allow rule for the denied access
};

struct TextPart
{
    TextForm form = TextForm::literal;
    std::string value;

    bool operator==(const TextPart& o) const { return form == o.form && value == o.value; }
};

struct Fix
{
    std::string kind;   // apparmor-rule, selinux-allow, selinux-fcontext, selinux-boolean, libvirt-xml, host-change, package-upgrade
    Scope scope = Scope::host;
    std::vector<TextPart> text_parts;  // what its text is made of (kb binds them)
    std::string text;   // exactly what to put in the file or run (emit/fix_text writes it)
    std::string note;   // why, in one or two sentences
    std::string file;   // where it goes (AppArmor include file, module name), when it applies
    Grant grant;        // what it grants, for the checks
    Effect effect = Effect::unknown;
    std::string effect_reason;  // one sentence: how the effect was established
    Breadth breadth;
};

} // namespace virtdeny::model
