#include <analyzer/ingest/denial_parser.hpp>

#include <analyzer/ingest/fields.hpp>
#include <analyzer/util/text.hpp>

namespace virtdeny::ingest {

using model::Denial;
using model::Mac;
using util::starts_with;

namespace {

std::optional<std::int64_t> number(std::string_view v)
{
    return util::to_int(v);
}

// Fields common to SELinux and AppArmor bodies.
bool take_common(const Field& f, Denial& d)
{
    const auto k = f.key;
    if (k == "pid") {
        if (auto v = number(f.value)) {
            d.pid = *v;
        }
    } else if (k == "comm") {
        d.comm = decode_value(f);
    } else if (k == "exe") {
        d.exe = decode_value(f);
    } else if (k == "name") {
        d.name = decode_value(f);
    } else if (k == "path") {
        d.path = decode_value(f);
    } else {
        return false;
    }
    return true;
}

DenialParse parse_selinux(std::string_view text, Denial& d, std::string& reason)
{
    d.mac = Mac::selinux;
    // "avc:  denied  { read write } for  pid=..."
    std::string_view rest = text.substr(4);
    rest = util::trim(rest);
    bool denied = false;
    if (starts_with(rest, "denied")) {
        denied = true;
        rest.remove_prefix(6);
    } else if (starts_with(rest, "granted")) {
        rest.remove_prefix(7);
    } else {
        return DenialParse::not_denial;  // policy load notices and other avc: messages
    }
    rest = util::trim(rest);
    if (rest.empty() || rest.front() != '{') {
        reason = "avc record without { permissions }";
        return DenialParse::malformed;
    }
    const std::size_t close = rest.find('}');
    if (close == std::string_view::npos) {
        reason = "avc record cut inside { permissions }";
        return DenialParse::malformed;
    }
    std::string_view perms = rest.substr(1, close - 1);
    while (!perms.empty()) {
        perms = util::trim(perms);
        const std::size_t sp = perms.find(' ');
        const std::string_view p = perms.substr(0, sp);
        if (!p.empty()) {
            d.permissions.emplace_back(p);
        }
        if (sp == std::string_view::npos) {
            break;
        }
        perms.remove_prefix(sp + 1);
    }
    rest.remove_prefix(close + 1);
    FieldScanner scanner(rest);
    Field f;
    bool saw_permissive = false;
    while (scanner.next(f)) {
        if (take_common(f, d)) {
            continue;
        }
        const auto k = f.key;
        if (k == "scontext") {
            d.scontext = std::string(f.value);
        } else if (k == "tcontext") {
            d.tcontext = std::string(f.value);
        } else if (k == "tclass") {
            d.tclass = std::string(f.value);
        } else if (k == "permissive") {
            saw_permissive = true;
            d.enforced = f.value != "1";
        } else if (k == "dev") {
            d.dev = decode_value(f);
        } else if (k == "ino") {
            d.ino = std::string(f.value);
        } else if (k == "ioctlcmd") {
            d.ioctlcmd = std::string(f.value);
        } else if (k == "capability") {
            if (auto v = number(f.value)) {
                d.capability = static_cast<int>(*v);
            }
        }
    }
    (void)saw_permissive;
    if (scanner.unterminated()) {
        reason = "unterminated quoted value in avc record";
        return DenialParse::malformed;
    }
    if (d.scontext.empty() || d.tcontext.empty() || d.tclass.empty() || d.permissions.empty()) {
        reason = "truncated avc record (missing scontext, tcontext, tclass or permissions)";
        return DenialParse::malformed;
    }
    return denied ? DenialParse::denial : DenialParse::not_denial;
}

// Event kind of a legacy AppArmor record type (APPARMOR_DENIED, 1503, ...).
std::string legacy_event(std::string_view type_name)
{
    std::string_view t = type_name;
    if (starts_with(t, "UNKNOWN[")) {
        t = t.substr(8, t.size() - 9);
    }
    if (t == "APPARMOR_DENIED" || t == "1503") {
        return "DENIED";
    }
    if (t == "APPARMOR_ALLOWED" || t == "1502") {
        return "ALLOWED";
    }
    if (t == "APPARMOR_AUDIT" || t == "1501") {
        return "AUDIT";
    }
    if (t == "APPARMOR_HINT" || t == "1504") {
        return "HINT";
    }
    if (t == "APPARMOR_STATUS" || t == "1505") {
        return "STATUS";
    }
    if (t == "APPARMOR_ERROR" || t == "1506") {
        return "ERROR";
    }
    if (t == "APPARMOR_KILL" || t == "1507") {
        return "KILL";
    }
    return {};
}

void take_apparmor_field(const Field& f, Denial& d)
{
    if (take_common(f, d)) {
        return;
    }
    const auto k = f.key;
    if (k == "apparmor") {
        d.apparmor = std::string(f.value);
    } else if (k == "operation") {
        d.operation = std::string(f.value);
    } else if (k == "profile" || k == "label") {
        d.profile = decode_value(f);
    } else if (k == "requested_mask" || k == "requested") {
        d.requested_mask = std::string(f.value);
    } else if (k == "denied_mask" || k == "denied" || k == "mask") {
        d.denied_mask = std::string(f.value);
    } else if (k == "fsuid") {
        d.fsuid = number(f.value);
    } else if (k == "ouid") {
        d.ouid = number(f.value);
    } else if (k == "name2" || k == "target") {
        d.name2 = decode_value(f);
    } else if (k == "capability") {
        if (auto v = number(f.value)) {
            d.capability = static_cast<int>(*v);
        }
    } else if (k == "capname") {
        d.capname = std::string(f.value);
    } else if (k == "family") {
        d.family = std::string(f.value);
    } else if (k == "sock_type") {
        d.sock_type = std::string(f.value);
    } else if (k == "protocol") {
        d.protocol = std::string(f.value);
    } else if (k == "signal") {
        d.signal = std::string(f.value);
    } else if (k == "peer" || k == "peer_label" || k == "peer_profile" || k == "tcontext") {
        d.peer = decode_value(f);
    } else if (k == "peer_addr") {
        d.peer_addr = decode_value(f);
    } else if (k == "info") {
        d.info = std::string(f.value);
    } else if (k == "error") {
        if (auto v = number(f.value)) {
            d.error = static_cast<int>(*v);
        }
    } else if (k == "class") {
        d.aa_class = std::string(f.value);
    } else if (k == "parent") {
        d.parent = number(f.value);
    } else if (k == "bus") {
        d.bus = std::string(f.value);
    } else if (k == "interface") {
        d.interface = std::string(f.value);
    } else if (k == "member" || k == "method") {
        d.member = std::string(f.value);
    } else if (k == "fstype") {
        d.fstype = std::string(f.value);
    } else if (k == "flags") {
        d.flags = std::string(f.value);
    } else if (k == "srcname") {
        d.srcname = decode_value(f);
    }
}

DenialParse parse_apparmor(std::string_view text, std::string legacy, Denial& d, std::string& reason)
{
    d.mac = Mac::apparmor;
    FieldScanner scanner(text);
    Field f;
    while (scanner.next(f)) {
        take_apparmor_field(f, d);
    }
    if (d.apparmor.empty()) {
        d.apparmor = std::move(legacy);
    }
    // dbus records carry the object path in path= and the destination in name=
    if (!d.bus.empty()) {
        d.dbus_path = std::move(d.path);
        d.path.clear();
    }
    if (d.comm.empty() && !d.exe.empty() && !d.bus.empty()) {
        d.comm = d.exe;
    }
    if (scanner.unterminated()) {
        reason = "unterminated quoted value in AppArmor record";
        return DenialParse::malformed;
    }
    const bool is_denial = d.apparmor == "DENIED" || d.apparmor == "ALLOWED" || d.apparmor == "KILL";
    if (!is_denial) {
        return DenialParse::not_denial;
    }
    d.enforced = d.apparmor != "ALLOWED";
    if (d.operation.empty()) {
        reason = "truncated AppArmor record (no operation=)";
        return DenialParse::malformed;
    }
    return DenialParse::denial;
}

DenialParse parse_selinux_err(std::string_view text, Denial& d, std::string& reason)
{
    d.mac = Mac::selinux;
    FieldScanner scanner(text);
    Field f;
    std::string op;
    while (scanner.next(f)) {
        if (take_common(f, d)) {
            continue;
        }
        if (f.key == "scontext" || f.key == "oldcontext") {
            d.scontext = std::string(f.value);
        } else if (f.key == "tcontext" || f.key == "newcontext") {
            d.tcontext = std::string(f.value);
        } else if (f.key == "tclass") {
            d.tclass = std::string(f.value);
        } else if (f.key == "op") {
            op = std::string(f.value);
        }
    }
    if (d.scontext.empty()) {
        reason = "SELINUX_ERR record without a source context";
        return DenialParse::malformed;
    }
    if (d.tclass.empty()) {
        d.tclass = "process";
    }
    if (op.empty()) {
        op = util::contains(text, "invalid context") ? "invalid_context" : "compute_sid";
    }
    d.permissions.push_back(op);
    return DenialParse::denial;
}

} // namespace

DenialParse parse_denial(const Record& record, Denial& out, std::string& reason)
{
    out.record_type = std::string(record.type_name);
    out.node = std::string(record.node);
    out.has_stamp = record.has_stamp;
    out.time_ms = record.time_ms;
    out.serial = record.serial;
    std::string_view body = record.body;

    if (record.type == RecordType::selinux_err) {
        if (out.record_type.empty()) {
            out.record_type = "SELINUX_ERR";
        }
        return parse_selinux_err(body, out, reason);
    }
    if (record.type == RecordType::user_avc) {
        // Outer pid/exe belong to the object manager (dbus-daemon, systemd, libvirt);
        // the decision is in msg='...'.
        FieldScanner scanner(body);
        Field f;
        std::string_view inner;
        std::int64_t outer_pid = -1;
        while (scanner.next(f)) {
            if (f.key == "msg" && f.quote == '\'') {
                inner = f.value;
            } else if (f.key == "pid" && outer_pid < 0) {
                if (auto v = util::to_int(f.value)) {
                    outer_pid = *v;
                }
            }
        }
        if (inner.empty()) {
            if (scanner.unterminated()) {
                reason = "USER_AVC record with unterminated msg='...'";
                return DenialParse::malformed;
            }
            return DenialParse::not_denial;
        }
        body = inner;
        out.pid = outer_pid;
        const std::size_t avc = util::find(body, "avc:");
        if (avc != std::string_view::npos) {
            auto r = parse_selinux(body.substr(avc), out, reason);
            if (out.pid < 0) {
                out.pid = outer_pid;
            }
            return r;
        }
        if (util::contains(body, "apparmor=")) {
            return parse_apparmor(body, {}, out, reason);
        }
        return DenialParse::not_denial;
    }
    if (record.type == RecordType::apparmor_legacy) {
        std::string legacy = legacy_event(record.type_name);
        if (!util::contains(body, "operation=") && !util::contains(body, "apparmor=")) {
            return DenialParse::not_denial;  // AppArmor 1.x free text ("REJECTING r access to ...")
        }
        return parse_apparmor(body, std::move(legacy), out, reason);
    }
    // AVC / 1400 / a daemon's syslog text
    const std::size_t aa = util::find(body, "apparmor=");
    const std::size_t avc = util::find(body, "avc:");
    if (aa != std::string_view::npos && (avc == std::string_view::npos || aa < avc)) {
        return parse_apparmor(body, {}, out, reason);
    }
    if (avc != std::string_view::npos) {
        return parse_selinux(body.substr(avc), out, reason);
    }
    if (record.type == RecordType::syslog_denial) {
        return DenialParse::not_denial;
    }
    reason = "AVC record with neither avc: nor apparmor= text";
    return DenialParse::malformed;
}

} // namespace virtdeny::ingest
