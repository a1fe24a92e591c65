// follow: live denials from audit.log (tail -F), a pipe ("-"), auditd's plugin stream
// (--audisp), the kernel's audit multicast socket (--netlink) or the systemd journal
// (--journal, resuming after the cursor kept in --state). SIGHUP reloads the rules and domain
// XML; SIGTERM/SIGINT read what is already there, flush and exit 0.
#include <analyzer/cli/analysis.hpp>
#include <analyzer/cli/commands.hpp>
#include <analyzer/ingest/event_assembler.hpp>
#include <analyzer/live/file_follower.hpp>
#include <analyzer/live/follow_engine.hpp>
#include <analyzer/live/journal_follower.hpp>
#include <analyzer/live/netlink_source.hpp>
#include <analyzer/live/stream_source.hpp>

#include <csignal>
#include <cstdio>
#include <memory>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

namespace virtdeny::cli {

namespace {

const char* const k_default_log = "/var/log/audit/audit.log";
constexpr std::int64_t k_state_save_ms = 1000;  // follow --journal --state: at most one save a second

volatile std::sig_atomic_t g_terminate = 0;
volatile std::sig_atomic_t g_reload = 0;

void on_signal(int signo)
{
    if (signo == SIGHUP) {
        g_reload = 1;
    } else {
        g_terminate = 1;
    }
}

int min_timeout(int a, int b)
{
    if (a < 0) {
        return b;
    }
    if (b < 0) {
        return a;
    }
    return a < b ? a : b;
}

} // namespace

int run_follow(const Config& config)
{
    if (config.inputs.size() > 1) {
        std::fprintf(stderr, "virtdeny: follow takes one SOURCE (a file or -)\n");
        return k_exit_usage;
    }
    const int modes = (config.audisp ? 1 : 0) + (config.netlink ? 1 : 0) + (config.journal ? 1 : 0) +
                      ((!config.follow_file.empty() || !config.inputs.empty()) ? 1 : 0);
    if (modes > 1) {
        std::fprintf(stderr, "virtdeny: follow: choose one of --file/SOURCE, --journal, --audisp and --netlink\n");
        return k_exit_usage;
    }

    // one write per batch of output (flushed after every batch), not one per 4 KiB
    static char out_buffer[1 << 20];
    std::setvbuf(stdout, out_buffer, _IOFBF, sizeof out_buffer);
    // The source is opened first, the knowledge base loaded after: a file followed from its
    // end is opened at its end now, so what is written while the rules load is read, not
    // skipped (and the netlink group is bound before, not after, that time).
    std::unique_ptr<live::Source> source;
    live::JournalFollower* journal = nullptr;  // the source when it is the journal
    if (config.netlink) {
        auto netlink = std::make_unique<live::NetlinkSource>();
        std::string reason;
        if (!netlink->open(reason)) {
            std::fprintf(stderr, "virtdeny: netlink: %s\n", reason.c_str());
            return k_exit_unreadable;
        }
        source = std::move(netlink);
    } else if (config.journal) {
        ingest::JournalSpec spec;
        spec.files = config.journal_files;
        spec.directory = config.journal_dir;
        std::string error;
        auto reader = ingest::JournalReader::open(spec, error);
        if (!reader) {
            std::fprintf(stderr, "virtdeny: %s\n", error.c_str());
            return k_exit_unreadable;
        }
        bool resumed = false;
        if (!config.state_file.empty()) {
            std::string cursor;
            bool exists = false;
            if (!live::load_cursor(config.state_file, cursor, exists, error)) {
                std::fprintf(stderr, "virtdeny: %s\n", error.c_str());
                return k_exit_unreadable;
            }
            if (exists && cursor.empty()) {
                reader->seek_head();  // saved before the journal held an entry: all of it is new
                resumed = true;
            } else if (exists) {
                if (!reader->seek_after_cursor(cursor)) {
                    std::fprintf(stderr,
                                 "virtdeny: %s: the saved cursor is no longer in the journal (rotated or vacuumed): "
                                 "going on from the first entry after it\n",
                                 config.state_file.c_str());
                }
                resumed = true;
            }
        }
        if (!resumed) {
            if (config.from_start) {
                reader->seek_head();
            } else {
                reader->seek_tail();
            }
        }
        auto follower = std::make_unique<live::JournalFollower>(std::move(reader));
        // where we start, saved now: what is written before the first save is not skipped by a restart
        if (!config.state_file.empty() && !live::save_cursor(config.state_file, follower->cursor(), error)) {
            std::fprintf(stderr, "virtdeny: --state: %s\n", error.c_str());
            return k_exit_unreadable;
        }
        journal = follower.get();
        source = std::move(follower);
    } else if (config.audisp || (!config.inputs.empty() && config.inputs.front() == "-")) {
        source = std::make_unique<live::StreamSource>(STDIN_FILENO, config.audisp ? "<audisp>" : "<stdin>");
    } else {
        const std::string path =
            !config.follow_file.empty() ? config.follow_file : (!config.inputs.empty() ? config.inputs.front() : k_default_log);
        struct stat st{};
        if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            std::fprintf(stderr, "virtdeny: %s: is a directory\n", path.c_str());
            return k_exit_unreadable;
        }
        if (::stat(path.c_str(), &st) != 0) {
            std::fprintf(stderr, "virtdeny: %s does not exist yet; waiting for it\n", path.c_str());
        } else if (::access(path.c_str(), R_OK) != 0) {
            std::fprintf(stderr, "virtdeny: %s: permission denied\n", path.c_str());
            return k_exit_unreadable;
        }
        source = std::make_unique<live::FileFollower>(path, config.from_start, !config.poll);
    }
    util::Diagnostics diagnostics;
    live::FollowEngine engine(pipeline_options(config), config.format == emit::Format::json, diagnostics, stdout);
    if (!engine.setup()) {
        return k_exit_usage;
    }

    // Signals are blocked except while waiting in ppoll(): none is lost between a check and the wait.
    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGHUP, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    sigset_t blocked;
    sigset_t waiting;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    sigaddset(&blocked, SIGHUP);
    ::sigprocmask(SIG_BLOCK, &blocked, &waiting);
    sigdelset(&waiting, SIGTERM);
    sigdelset(&waiting, SIGINT);
    sigdelset(&waiting, SIGHUP);

    const std::string name = source->name();
    const auto on_line = [&](std::string_view line) { engine.line(line, name); };
    // follow --journal --state: the cursor is saved when every event read so far is printed and
    // flushed (no event open after a tick), at most once a second, and at the end
    std::string saved_cursor = journal ? journal->cursor() : std::string();
    std::int64_t saved_at = 0;
    bool save_failed = false;
    const auto save_state = [&](std::int64_t now, bool force) {
        if (!journal || config.state_file.empty() || !engine.idle() || journal->cursor() == saved_cursor) {
            return -1;
        }
        if (!force && now - saved_at < k_state_save_ms) {
            return static_cast<int>(saved_at + k_state_save_ms - now);
        }
        std::string error;
        if (live::save_cursor(config.state_file, journal->cursor(), error)) {
            saved_cursor = journal->cursor();
            save_failed = false;
        } else if (!save_failed) {
            diagnostics.error("--state: " + error);
            save_failed = true;
        }
        saved_at = now;
        return -1;
    };
    bool alive = source->read_available(on_line);
    for (;;) {
        const std::int64_t now = ingest::wall_clock_ms();
        engine.tick(now);
        const int save_due = save_state(now, false);
        if (!alive || g_terminate) {
            break;
        }
        if (g_reload) {
            g_reload = 0;
            engine.reload();
        }
        const int timeout = min_timeout(min_timeout(source->timeout_ms(), engine.next_tick_ms(now)), save_due);
        pollfd pfd{};
        pfd.fd = source->wait_fd();
        pfd.events = POLLIN;
        timespec ts{};
        timespec* tsp = nullptr;
        if (timeout >= 0) {
            ts.tv_sec = timeout / 1000;
            ts.tv_nsec = static_cast<long>(timeout % 1000) * 1000000L;
            tsp = &ts;
        }
        const int ready = ::ppoll(&pfd, pfd.fd >= 0 ? 1 : 0, tsp, &waiting);
        if (ready < 0 && g_terminate) {
            // what is already written is still read before the end
            alive = source->read_available(on_line);
            alive = false;
            continue;
        }
        alive = source->read_available(on_line);
    }
    engine.finish();
    save_state(ingest::wall_clock_ms(), true);
    diagnostics.finish();
    ::sigprocmask(SIG_UNBLOCK, &blocked, nullptr);
    return k_exit_ok;
}

} // namespace virtdeny::cli
