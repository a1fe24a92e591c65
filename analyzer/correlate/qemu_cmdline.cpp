#include <analyzer/correlate/qemu_cmdline.hpp>

#include <analyzer/ingest/event_assembler.hpp>
#include <analyzer/util/text.hpp>

#include <vector>

namespace virtdeny::correlate {

namespace {

constexpr std::size_t k_proctitle_limit = 128;

// The VM name in a -name value: "guest=NAME,debug-threads=on", "NAME,process=...", "NAME";
// libvirt doubles a comma inside the name. ran_out: no comma ended it.
std::string name_of_value(std::string_view v, bool& ran_out)
{
    if (util::starts_with(v, "guest=")) {
        v.remove_prefix(6);
    }
    std::string out;
    std::size_t i = 0;
    for (; i < v.size(); ++i) {
        if (v[i] == ',') {
            if (i + 1 < v.size() && v[i + 1] == ',') {
                out.push_back(',');
                ++i;
                continue;
            }
            break;
        }
        out.push_back(v[i]);
    }
    ran_out = i == v.size();
    return out;
}

bool all_digits(std::string_view s)
{
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (!util::is_digit(c)) {
            return false;
        }
    }
    return true;
}

// Proxmox VE VMIDs: 100 to 999999999 (qemu-server's pve-vmid format).
bool is_vmid(std::string_view s)
{
    return all_digits(s) && s.size() >= 3 && s.size() <= 9 && s.front() != '0';
}

bool names_kubevirt_path(std::string_view arg)
{
    return util::contains(arg, "/run/kubevirt-private/") || util::contains(arg, "/run/kubevirt/");
}

} // namespace

QemuCommandLine parse_qemu_cmdline(std::string_view proctitle)
{
    QemuCommandLine out;
    const std::string_view argv0 = proctitle.substr(0, proctitle.find(' '));
    out.qemu = ingest::is_qemu_program(argv0);
    if (!out.qemu) {
        return out;
    }
    const bool maybe_truncated = proctitle.size() >= k_proctitle_limit - 1;
    // the text of one option's value: up to the next " -" (the next option) or the end
    auto value_at = [&](std::size_t pos, bool& at_end) {
        std::size_t end = util::find(proctitle, " -", pos);
        at_end = end == std::string_view::npos;
        return proctitle.substr(pos, at_end ? std::string_view::npos : end - pos);
    };
    const std::size_t n = util::find(proctitle, " -name ");
    if (n != std::string_view::npos) {
        bool at_end = false;
        const std::string_view v = value_at(n + 7, at_end);
        bool ran_out = false;
        std::string name = name_of_value(v, ran_out);
        // a space inside is part of the name only when a comma ended it (libvirt's
        // ",debug-threads=on"); a value at the end of a title that may be cut is not whole
        const bool spaced = name.find(' ') != std::string::npos;
        // libvirt's guest= form always goes on with ",debug-threads=on": without its comma the
        // value stopped at a " -" inside the name ("guest=lab -2,..."), not at the next option
        const bool libvirt_form = util::starts_with(v, "guest=");
        if (!name.empty() && !(spaced && ran_out) && !(at_end && ran_out && maybe_truncated)
            && !(libvirt_form && ran_out)) {
            out.name = std::move(name);
        }
    }
    const std::size_t u = util::find(proctitle, " -uuid ");
    if (u != std::string_view::npos) {
        const std::string_view v = proctitle.substr(u + 7, 36);
        if (util::is_uuid(v) && (u + 7 + 36 == proctitle.size() || proctitle[u + 7 + 36] == ' ')) {
            out.uuid = std::string(v);
        }
    }
    const std::size_t id = util::find(proctitle, " -id ");
    if (id != std::string_view::npos) {
        std::string_view rest = proctitle.substr(id + 5);
        const std::size_t sp = rest.find(' ');
        // the VMID ends at a space: one at the very end of a cut title may be shortened
        if (sp != std::string_view::npos && is_vmid(rest.substr(0, sp))) {
            out.proxmox_vmid = std::string(rest.substr(0, sp));
        }
    }
    out.kubevirt = names_kubevirt_path(proctitle);
    return out;
}

QemuCommandLine parse_qemu_argv(std::string_view argv)
{
    QemuCommandLine out;
    std::vector<std::string_view> args;
    std::size_t start = 0;
    while (start <= argv.size() && args.size() < 100000) {
        std::size_t end = argv.find('\0', start);
        if (end == std::string_view::npos) {
            end = argv.size();
        }
        args.push_back(argv.substr(start, end - start));
        start = end + 1;
    }
    if (args.empty() || !ingest::is_qemu_program(args[0])) {
        return out;
    }
    out.qemu = true;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string_view a = args[i];
        const bool has_next = i + 1 < args.size();
        if (a == "-name" && has_next && out.name.empty()) {
            bool ran_out = false;
            out.name = name_of_value(args[i + 1], ran_out);
        } else if (a == "-uuid" && has_next && util::is_uuid(args[i + 1])) {
            out.uuid = std::string(args[i + 1]);
        } else if (a == "-id" && has_next && is_vmid(args[i + 1])) {
            out.proxmox_vmid = std::string(args[i + 1]);
        } else if (names_kubevirt_path(a)) {
            out.kubevirt = true;
        }
    }
    return out;
}

std::string kubevirt_vm_name(std::string_view domain_name)
{
    const std::size_t us = domain_name.find('_');
    if (us == std::string_view::npos || us == 0 || us + 1 == domain_name.size()) {
        return {};
    }
    std::string out(domain_name);
    out[us] = '/';
    return out;
}

} // namespace virtdeny::correlate
