#include <analyzer/kb/policy_query.hpp>

// libsepol's security server (sepol_set_policydb, sepol_compute_av_reason_buffer) and the
// policydb internals; only the static libsepol exports them (scripts/cmake/Dependencies.cmake).
#include <sepol/debug.h>
#include <sepol/policydb.h>
#include <sepol/policydb/avtab.h>
#include <sepol/policydb/ebitmap.h>
#include <sepol/policydb/hashtab.h>
#include <sepol/policydb/policydb.h>
#include <sepol/policydb/services.h>
#include <sepol/policydb/sidtab.h>
#include <selinux/selinux.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <tuple>
#include <sys/stat.h>

// Declared in <sepol/policydb/conditional.h>, which C++ cannot include (a member is named
// `bool`): re-evaluates every conditional after a boolean's state changed.
extern "C" int evaluate_conds(policydb_t* p);

namespace virtdeny::kb {

const char* to_string(PolicyVerdict v)
{
    switch (v) {
    case PolicyVerdict::allowed: return "allowed";
    case PolicyVerdict::boolean: return "boolean";
    case PolicyVerdict::missing_allow: return "missing-allow";
    case PolicyVerdict::constraint: return "constraint";
    case PolicyVerdict::rbac: return "rbac";
    case PolicyVerdict::bounds: return "bounds";
    case PolicyVerdict::unknown_type: return "unknown-type";
    case PolicyVerdict::invalid_context: return "invalid-context";
    case PolicyVerdict::unknown_class: return "unknown-class";
    case PolicyVerdict::unknown_permission: return "unknown-permission";
    case PolicyVerdict::error: return "error";
    }
    return "error";
}

namespace {

// libsepol's security server works on one global policydb and sidtab: every query sets
// them to its own under this lock.
std::mutex g_sepol_mutex;

struct ContextParts
{
    std::string user, role, type, level;
    bool ok = false;
};

ContextParts split_context(const std::string& context)
{
    ContextParts parts;
    const std::size_t a = context.find(':');
    const std::size_t b = a == std::string::npos ? a : context.find(':', a + 1);
    if (b == std::string::npos) {
        return parts;
    }
    const std::size_t c = context.find(':', b + 1);
    parts.user = context.substr(0, a);
    parts.role = context.substr(a + 1, b - a - 1);
    parts.type = context.substr(b + 1, c == std::string::npos ? std::string::npos : c - b - 1);
    parts.level = c == std::string::npos ? std::string() : context.substr(c + 1);
    parts.ok = !parts.user.empty() && !parts.role.empty() && !parts.type.empty();
    return parts;
}

void* lookup(const symtab_t& table, const std::string& name)
{
    return table.table ? hashtab_search(table.table, name.c_str()) : nullptr;
}

std::string collapse_spaces(const char* text)
{
    std::string out;
    bool space = false;
    for (const char* c = text; *c; ++c) {
        if (*c == ' ' || *c == '\n' || *c == '\t') {
            space = !out.empty();
            continue;
        }
        if (space) {
            out += ' ';
            space = false;
        }
        out += *c;
    }
    return out;
}

} // namespace

struct PolicyQuery::Impl
{
    std::string path;
    sepol_policydb_t* db = nullptr;
    sidtab_t sidtab{};
    bool sidtab_ready = false;
    std::vector<avtab_ptr_t> cond_allow;  // the conditional allow rules of te_cond_avtab

    ~Impl()
    {
        // only this policy's own memory: no lock (the security server is re-pointed before each use)
        if (sidtab_ready) {
            sepol_sidtab_destroy(&sidtab);
        }
        if (db) {
            sepol_policydb_free(db);
        }
    }

    policydb_t& p() const { return db->p; }

    // Under g_sepol_mutex: make the security server use this policy.
    void activate()
    {
        sepol_set_policydb(&db->p);
        sepol_set_sidtab(&sidtab);
    }

    std::string type_name(std::uint32_t value) const
    {
        return value >= 1 && value <= p().p_types.nprim && p().p_type_val_to_name[value - 1]
            ? std::string(p().p_type_val_to_name[value - 1])
            : "type#" + std::to_string(value);
    }

    std::string class_name(std::uint32_t value) const
    {
        return value >= 1 && value <= p().p_classes.nprim && p().p_class_val_to_name[value - 1]
            ? std::string(p().p_class_val_to_name[value - 1])
            : "class#" + std::to_string(value);
    }

    std::vector<bool> enabled_snapshot() const
    {
        std::vector<bool> out;
        out.reserve(cond_allow.size());
        for (avtab_ptr_t node : cond_allow) {
            out.push_back((node->key.specified & AVTAB_ENABLED) != 0);
        }
        return out;
    }

    // Why a context does not map to a SID: names the parts this policy lacks.
    void diagnose_context(const std::string& context, PolicyAnswer& answer) const
    {
        const ContextParts parts = split_context(context);
        if (!parts.ok) {
            answer.unknown.push_back("context " + context);
            return;
        }
        bool named = false;
        if (!lookup(p().p_users, parts.user)) {
            answer.unknown.push_back("user " + parts.user);
            named = true;
        }
        if (!lookup(p().p_roles, parts.role)) {
            answer.unknown.push_back("role " + parts.role);
            named = true;
        }
        const auto* type = static_cast<const type_datum_t*>(lookup(p().p_types, parts.type));
        if (!type) {
            answer.unknown.push_back("type " + parts.type);
            answer.verdict = PolicyVerdict::unknown_type;
            named = true;
        } else if (type->flavor == TYPE_ATTRIB) {
            answer.unknown.push_back("type " + parts.type + " (an attribute in this policy)");
            named = true;
        }
        if (!named) {
            // names all known: the role may not have the type, or the level is not valid for the user
            answer.unknown.push_back("context " + context);
        }
    }
};

PolicyQuery::PolicyQuery(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

PolicyQuery::~PolicyQuery() = default;

std::unique_ptr<PolicyQuery> PolicyQuery::open(const std::string& path, std::string& error)
{
    std::lock_guard<std::mutex> lock(g_sepol_mutex);
    sepol_debug(0);  // libsepol would print its own errors on stderr
    FILE* fp = std::fopen(path.c_str(), "rbe");
    if (!fp) {
        error = path + ": " + std::strerror(errno);
        return nullptr;
    }
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    sepol_policy_file_t* pf = nullptr;
    if (sepol_policy_file_create(&pf) < 0 || sepol_policydb_create(&impl->db) < 0) {
        std::fclose(fp);
        sepol_policy_file_free(pf);
        error = path + ": out of memory";
        return nullptr;
    }
    sepol_policy_file_set_fp(pf, fp);
    const int rc = sepol_policydb_read(impl->db, pf);
    sepol_policy_file_free(pf);
    std::fclose(fp);
    if (rc < 0) {
        error = path + ": not a binary SELinux policy that libsepol can read";
        return nullptr;
    }
    policydb_t& p = impl->db->p;
    if (p.policy_type != POLICY_KERN) {
        error = path + ": a policy module, not a binary (kernel) policy";
        return nullptr;
    }
    if (sepol_sidtab_init(&impl->sidtab) < 0) {
        error = path + ": cannot set up a SID table";
        return nullptr;
    }
    impl->sidtab_ready = true;
    evaluate_conds(&p);
    for (std::uint32_t i = 0; i < p.te_cond_avtab.nslot; ++i) {
        for (avtab_ptr_t node = p.te_cond_avtab.htable ? p.te_cond_avtab.htable[i] : nullptr; node;
             node = node->next) {
            if (node->key.specified & AVTAB_ALLOWED) {
                impl->cond_allow.push_back(node);
            }
        }
    }
    return std::unique_ptr<PolicyQuery>(new PolicyQuery(std::move(impl)));
}

std::unique_ptr<PolicyQuery> PolicyQuery::open_loaded()
{
    if (is_selinux_enabled() <= 0) {
        return nullptr;  // no selinuxfs: nothing is loaded
    }
    const char* base = selinux_binary_policy_path();
    if (!base || !*base) {
        return nullptr;
    }
    int vers = security_policyvers();
    if (vers <= 0) {
        vers = sepol_policy_kern_vers_max();
    }
    std::unique_ptr<PolicyQuery> query;
    for (int v = vers; v > 0 && !query; --v) {
        const std::string path = std::string(base) + "." + std::to_string(v);
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) {
            continue;
        }
        std::string error;
        query = open(path, error);
        if (!query) {
            return nullptr;
        }
    }
    if (!query) {
        return nullptr;
    }
    // the booleans as the running system has them (setsebool without -P changes only those)
    std::lock_guard<std::mutex> lock(g_sepol_mutex);
    policydb_t& p = query->m_impl->p();
    bool changed = false;
    for (std::uint32_t i = 0; i < p.p_bools.nprim; ++i) {
        cond_bool_datum_t* b = p.bool_val_to_struct[i];
        const int active = b ? security_get_boolean_active(p.p_bool_val_to_name[i]) : -1;
        if (active >= 0 && (active != 0) != (b->state != 0)) {
            b->state = active;
            changed = true;
        }
    }
    if (changed) {
        evaluate_conds(&p);
    }
    return query;
}

const std::string& PolicyQuery::path() const
{
    return m_impl->path;
}

unsigned PolicyQuery::version() const
{
    return m_impl->p().policyvers;
}

bool PolicyQuery::mls() const
{
    return m_impl->p().mls != 0;
}

std::size_t PolicyQuery::boolean_count() const
{
    return m_impl->p().p_bools.nprim;
}

int PolicyQuery::boolean_state(const std::string& name) const
{
    std::lock_guard<std::mutex> lock(g_sepol_mutex);
    const auto* b = static_cast<const cond_bool_datum_t*>(lookup(m_impl->p().p_bools, name));
    return b ? (b->state != 0 ? 1 : 0) : -1;
}

PolicyAnswer PolicyQuery::check(const std::string& scontext, const std::string& tcontext, const std::string& tclass,
                                const std::vector<std::string>& permissions) const
{
    PolicyAnswer answer;
    std::lock_guard<std::mutex> lock(g_sepol_mutex);
    Impl& impl = *m_impl;
    policydb_t& p = impl.p();
    impl.activate();

    // contexts -> SIDs; a context the policy cannot take says which name it lacks
    sepol_security_id_t ssid = 0;
    sepol_security_id_t tsid = 0;
    const bool s_ok = !scontext.empty() && sepol_context_to_sid(scontext.c_str(), scontext.size() + 1, &ssid) == 0;
    const bool t_ok = !tcontext.empty() && sepol_context_to_sid(tcontext.c_str(), tcontext.size() + 1, &tsid) == 0;
    if (!s_ok || !t_ok) {
        answer.verdict = PolicyVerdict::invalid_context;
        if (!s_ok) {
            impl.diagnose_context(scontext, answer);
        }
        if (!t_ok) {
            impl.diagnose_context(tcontext, answer);
        }
        return answer;
    }
    sepol_security_class_t cls = 0;
    if (tclass.empty() || sepol_string_to_security_class(tclass.c_str(), &cls) != 0) {
        answer.verdict = PolicyVerdict::unknown_class;
        answer.unknown.push_back("class " + tclass);
        return answer;
    }
    sepol_access_vector_t av = 0;
    for (const std::string& perm : permissions) {
        sepol_access_vector_t bit = 0;
        if (sepol_string_to_av_perm(cls, perm.c_str(), &bit) != 0) {
            answer.unknown.push_back("permission " + perm + " of class " + tclass);
            continue;
        }
        av |= bit;
    }
    if (!answer.unknown.empty()) {
        answer.verdict = PolicyVerdict::unknown_permission;
        return answer;
    }
    if (av == 0) {
        answer.verdict = PolicyVerdict::error;
        return answer;
    }

    const ContextParts source = split_context(scontext);
    if (const auto* type = static_cast<const type_datum_t*>(lookup(p.p_types, source.type))) {
        answer.permissive_type = ebitmap_get_bit(&p.permissive_map, type->s.value) != 0;
    }

    sepol_av_decision avd{};
    unsigned int reason = 0;
    char* reason_buf = nullptr;
    const int rc = sepol_compute_av_reason_buffer(ssid, tsid, cls, av, &avd, &reason, &reason_buf, 0);
    if (reason_buf) {
        answer.constraint_text = collapse_spaces(reason_buf);
        std::free(reason_buf);
    }
    if (rc < 0) {
        answer.verdict = PolicyVerdict::error;
        return answer;
    }
    answer.te_denied = (reason & SEPOL_COMPUTEAV_TE) != 0;
    answer.constraint_denied = (reason & SEPOL_COMPUTEAV_CONS) != 0;
    answer.rbac_denied = (reason & SEPOL_COMPUTEAV_RBAC) != 0;
    answer.bounds_denied = (reason & SEPOL_COMPUTEAV_BOUNDS) != 0;
    if (!answer.constraint_denied) {
        answer.constraint_text.clear();
    }

    if (answer.te_denied) {
        // audit2why: flip each boolean alone, recompute, flip back
        const std::vector<bool> before = impl.enabled_snapshot();
        for (std::uint32_t i = 0; i < p.p_bools.nprim; ++i) {
            cond_bool_datum_t* b = p.bool_val_to_struct[i];
            if (!b || !p.p_bool_val_to_name[i]) {
                continue;
            }
            const int old = b->state;
            b->state = old ? 0 : 1;
            evaluate_conds(&p);
            sepol_av_decision flipped{};
            unsigned int flipped_reason = 0;
            if (sepol_compute_av_reason(ssid, tsid, cls, av, &flipped, &flipped_reason) == 0
                && !(flipped_reason & SEPOL_COMPUTEAV_TE)) {
                PolicyBoolean pb;
                pb.name = p.p_bool_val_to_name[i];
                pb.current = old != 0;
                pb.constraint_remains = (flipped_reason & SEPOL_COMPUTEAV_CONS) != 0;
                for (std::size_t n = 0; n < impl.cond_allow.size(); ++n) {
                    const avtab_ptr_t node = impl.cond_allow[n];
                    if ((node->key.specified & AVTAB_ENABLED) && !before[n]) {
                        BooleanGrant grant;
                        grant.boolean = pb.name;
                        grant.default_value = pb.current;
                        grant.source = impl.type_name(node->key.source_type);
                        grant.target = impl.type_name(node->key.target_type);
                        grant.tclass = impl.class_name(node->key.target_class);
                        grant.required_value = !pb.current;
                        pb.opens.push_back(std::move(grant));
                    }
                }
                std::sort(pb.opens.begin(), pb.opens.end(), [](const BooleanGrant& x, const BooleanGrant& y) {
                    return std::tie(x.source, x.target, x.tclass) < std::tie(y.source, y.target, y.tclass);
                });
                answer.booleans.push_back(std::move(pb));
            }
            b->state = old;
            evaluate_conds(&p);
        }
        std::stable_sort(answer.booleans.begin(), answer.booleans.end(),
                         [](const PolicyBoolean& a, const PolicyBoolean& b) {
                             return a.opens.size() != b.opens.size() ? a.opens.size() < b.opens.size()
                                                                     : a.name < b.name;
                         });
        answer.dontaudit = answer.booleans.empty() && (av & ~avd.auditdeny) != 0;
    }

    if (answer.constraint_denied && p.mls) {
        // MCS/MLS: would the object pass with the process's own level?
        const ContextParts target = split_context(tcontext);
        if (!source.level.empty() && !target.level.empty() && source.level != target.level) {
            const std::string relabeled = target.user + ":" + target.role + ":" + target.type + ":" + source.level;
            sepol_security_id_t rsid = 0;
            sepol_av_decision rd{};
            unsigned int rreason = 0;
            if (sepol_context_to_sid(relabeled.c_str(), relabeled.size() + 1, &rsid) == 0
                && sepol_compute_av_reason(ssid, rsid, cls, av, &rd, &rreason) == 0) {
                answer.mls = !(rreason & SEPOL_COMPUTEAV_CONS);
            }
        }
    }

    if (reason == 0) {
        answer.verdict = PolicyVerdict::allowed;
    } else if (answer.te_denied) {
        answer.verdict = answer.booleans.empty() ? PolicyVerdict::missing_allow : PolicyVerdict::boolean;
    } else if (answer.constraint_denied) {
        answer.verdict = PolicyVerdict::constraint;
    } else if (answer.rbac_denied) {
        answer.verdict = PolicyVerdict::rbac;
    } else if (answer.bounds_denied) {
        answer.verdict = PolicyVerdict::bounds;
    } else {
        answer.verdict = PolicyVerdict::error;
    }
    return answer;
}

} // namespace virtdeny::kb
