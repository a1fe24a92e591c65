#include <analyzer/cli/config.hpp>

#include <analyzer/cli/commands.hpp>

#include <analyzer/ingest/record_parser.hpp>
#include <analyzer/kb/knowledge_base.hpp>
#include <analyzer/util/text.hpp>

#include <boost/program_options.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <unistd.h>

namespace virtdeny::cli {

namespace po = boost::program_options;

namespace {

const char* const k_usage = R"(usage: virtdeny COMMAND [OPTIONS] [LOG...]

Explains SELinux and AppArmor denials on KVM/QEMU/libvirt hosts: which VM, which
device, why, and the narrowest fix.

commands:
  explain  [LOG...]                 group, correlate, explain, suggest (the main job)
  suggest  [LOG...] [--out DIR]     write the fixes as policy artifacts
  follow   [SOURCE]                 live: audit.log with rotation, --journal, --audisp, or - (a pipe)
  replay   --baseline FILE [LOG...] CI gate: exit 1 when a finding is not in the baseline
  rules    list|show ID|validate DIR|schema
  help     [COMMAND]

LOG is a file (plain or .gz) or -; no LOG means standard input when it is a pipe or a
file, and the host's own logs on a terminal (audit.log, else the journal, else
kern.log/syslog). --journal reads the systemd journal natively.
)";

std::optional<Command> command_of(const std::string& word)
{
    if (word == "explain") {
        return Command::explain;
    }
    if (word == "suggest") {
        return Command::suggest;
    }
    if (word == "follow") {
        return Command::follow;
    }
    if (word == "replay") {
        return Command::replay;
    }
    if (word == "rules") {
        return Command::rules;
    }
    if (word == "help") {
        return Command::help;
    }
    return std::nullopt;
}

} // namespace

std::optional<std::int64_t> parse_time_option(const std::string& value)
{
    if (value.empty()) {
        return std::nullopt;
    }
    if (auto v = util::to_int(value)) {
        return *v * 1000;
    }
    std::string iso = value;
    if (iso.size() == 10) {
        iso += "T00:00:00";
    }
    if (iso.size() >= 19 && iso[10] == ' ') {
        iso[10] = 'T';
    }
    if (iso.size() >= 19) {
        const std::int64_t t = ingest::parse_syslog_time(iso, 1970);
        if (t != 0) {
            return t;
        }
    }
    return std::nullopt;
}

ParseResult parse_command_line(int argc, char** argv)
{
    ParseResult result;
    Config cfg;
    std::string format = "text";
    std::string since;
    std::string until;
    std::string colour = "auto";

    po::options_description common("options");
    common.add_options()
        ("help,h", "show this help")
        ("version", "print the version")
        ("format,f", po::value<std::string>(&format), "text (default), json or markdown")
        ("color", po::value<std::string>(&colour), "auto (default: on a terminal, never with NO_COLOR), always, never")
        ("no-progress", po::bool_switch(&cfg.no_progress), "no progress line on stderr (shown only on a terminal, never with json)")
        ("libvirt-xml", po::value<std::vector<std::string>>(&cfg.libvirt_xml), "domain XML file or directory (repeatable)")
        ("connect", po::value<std::string>(&cfg.connect), "ask libvirt for its domains, read-only (default: qemu:///system where libvirt runs; none: off)")
        ("domain", po::value<std::string>(&cfg.domain_filter), "only findings of this VM (name or uuid)")
        ("rules", po::value<std::vector<std::string>>(&cfg.rules_dirs), "extra knowledge-base directory (repeatable)")
        ("rules-replace", po::bool_switch(&cfg.rules_replace), "use only the --rules directories, not the bundled rules")
        ("since", po::value<std::string>(&since), "only denials at or after this time (epoch seconds or ISO 8601, UTC)")
        ("until", po::value<std::string>(&until), "only denials at or before this time")
        ("threads", po::value<unsigned>(&cfg.threads), "worker threads for regular files (default: all cores)")
        ("year", po::value<int>(&cfg.year), "year of syslog/journal dates that carry none (default: this year, or last year for a date ahead of today)")
        ("out", po::value<std::string>(&cfg.out_dir), "suggest: write the artifacts under this directory")
        ("dry-run", po::bool_switch(&cfg.dry_run), "suggest: print what apply.sh would do")
        ("cil", po::bool_switch(&cfg.cil), "suggest: also write SELinux modules as CIL")
        ("virt-aa-helper", po::value<std::string>(&cfg.virt_aa_helper),
         "virt-aa-helper to dry-run on the domain XML, saying what the VM's AppArmor profile grants (default: libvirt's when installed; none: off)")
        ("policy", po::value<std::string>(&cfg.policy_file), "binary SELinux policy that answers and checks fixes (default: the loaded one; none: the bundled policy data only)")
        ("baseline", po::value<std::string>(&cfg.baseline), "replay: the baseline of known findings")
        ("write-baseline", po::value<std::string>(&cfg.write_baseline), "replay: write the findings as a baseline")
        ("junit", po::value<std::string>(&cfg.junit), "replay: write a JUnit XML report")
        ("journal", po::bool_switch(&cfg.journal), "read the systemd journal's kernel and audit messages (explain: with --since/--until; follow: live)")
        ("journal-file", po::value<std::vector<std::string>>(&cfg.journal_files), "--journal from this journal file (repeatable)")
        ("journal-dir", po::value<std::string>(&cfg.journal_dir), "--journal from the journal files in this directory")
        ("state", po::value<std::string>(&cfg.state_file), "follow --journal: keep the journal cursor in this file and resume after it")
        ("file", po::value<std::string>(&cfg.follow_file), "follow: the audit log to follow")
        ("from-start", po::bool_switch(&cfg.from_start), "follow: read the existing log first")
        ("poll", po::bool_switch(&cfg.poll), "follow: look at the file every 200 ms instead of using inotify")
        ("audisp", po::bool_switch(&cfg.audisp), "follow: run as an auditd plugin (events on stdin)")
        ("netlink", po::bool_switch(&cfg.netlink), "follow: read the kernel's audit multicast socket");
    po::options_description hidden;
    hidden.add_options()("command", po::value<std::string>(), "")("args", po::value<std::vector<std::string>>(), "");
    po::options_description all;
    all.add(common).add(hidden);
    po::positional_options_description positional;
    positional.add("command", 1).add("args", -1);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "virtdeny: %s\n%s", e.what(), k_usage);
        result.exit_code = 2;
        return result;
    }
    if (vm.count("version")) {
        std::printf("virtdeny %s\n", VIRTDENY_VERSION);
        return result;
    }
    std::vector<std::string> args;
    if (vm.count("args")) {
        args = vm["args"].as<std::vector<std::string>>();
    }
    if (vm.count("help") || !vm.count("command")) {
        std::cout << k_usage << "\n" << common << "\n";
        result.exit_code = vm.count("help") ? 0 : 2;
        return result;
    }
    const std::string word = vm["command"].as<std::string>();
    auto command = command_of(word);
    if (!command) {
        std::fprintf(stderr, "virtdeny: unknown command '%s'\n%s", word.c_str(), k_usage);
        result.exit_code = 2;
        return result;
    }
    cfg.command = *command;
    if (cfg.command == Command::help) {
        if (!args.empty()) {
            result.exit_code = args.size() == 1 ? run_help(args[0]) : k_exit_usage;
            if (args.size() != 1) {
                std::fprintf(stderr, "virtdeny: help takes one COMMAND\n");
            }
            return result;
        }
        std::cout << k_usage << "\n" << common << "\n";
        return result;
    }
    if (cfg.command == Command::rules) {
        cfg.rest = args;
    } else {
        cfg.inputs = args;
    }
    if (format == "json") {
        cfg.format = emit::Format::json;
    } else if (format == "markdown" || format == "md") {
        cfg.format = emit::Format::markdown;
    } else if (format != "text") {
        std::fprintf(stderr, "virtdeny: --format must be text, json or markdown\n");
        result.exit_code = 2;
        return result;
    }
    if (colour == "always") {
        cfg.colour = true;
    } else if (colour == "never") {
        cfg.colour = false;
    } else if (colour == "auto") {
        const char* no_colour = std::getenv("NO_COLOR");
        cfg.colour = ::isatty(STDOUT_FILENO) && !(no_colour && *no_colour);
    } else {
        std::fprintf(stderr, "virtdeny: --color must be auto, always or never\n");
        result.exit_code = 2;
        return result;
    }
    if (!since.empty()) {
        auto t = parse_time_option(since);
        if (!t) {
            std::fprintf(stderr, "virtdeny: cannot read --since '%s'\n", since.c_str());
            result.exit_code = 2;
            return result;
        }
        cfg.window.since_ms = *t;
    }
    if (!until.empty()) {
        auto t = parse_time_option(until);
        if (!t) {
            std::fprintf(stderr, "virtdeny: cannot read --until '%s'\n", until.c_str());
            result.exit_code = 2;
            return result;
        }
        cfg.window.until_ms = *t;
    }
    if (vm.count("year") && (cfg.year < 1970 || cfg.year > 9999)) {
        std::fprintf(stderr, "virtdeny: --year must be a year between 1970 and 9999\n");
        result.exit_code = 2;
        return result;
    }
    if (!cfg.journal_files.empty() || !cfg.journal_dir.empty()) {
        cfg.journal = true;
    }
    if (!cfg.journal_files.empty() && !cfg.journal_dir.empty()) {
        std::fprintf(stderr, "virtdeny: give --journal-file or --journal-dir, not both\n");
        result.exit_code = 2;
        return result;
    }
    if (!cfg.state_file.empty() && !(cfg.command == Command::follow && cfg.journal)) {
        std::fprintf(stderr, "virtdeny: --state is for follow --journal\n");
        result.exit_code = 2;
        return result;
    }
    if (cfg.command == Command::replay && cfg.baseline.empty() && cfg.write_baseline.empty()) {
        std::fprintf(stderr, "virtdeny: replay needs --baseline FILE or --write-baseline FILE\n");
        result.exit_code = 2;
        return result;
    }
    if (!cfg.rules_replace) {
        cfg.rules_dirs.insert(cfg.rules_dirs.begin(), kb::default_rules_dir());
    }
    result.config = std::move(cfg);
    return result;
}

} // namespace virtdeny::cli
