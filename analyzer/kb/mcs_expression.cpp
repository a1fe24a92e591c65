#include <analyzer/kb/mcs_expression.hpp>

#include <vector>

namespace virtdeny::kb {

namespace {

bool same_level(const McsLevel& a, const McsLevel& b)
{
    return a.valid && b.valid && a.sensitivity == b.sensitivity && a.categories == b.categories;
}

class Evaluator
{
public:
    Evaluator(std::string_view expression, const McsSide& subject, const McsSide& object)
        : m_subject(subject), m_object(object)
    {
        for (std::string_view rest = expression; !rest.empty();) {
            const std::size_t space = rest.find(' ');
            const std::string_view word = rest.substr(0, space);
            if (!word.empty()) {
                m_words.push_back(word);
            }
            rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
        }
    }

    std::optional<bool> run()
    {
        const std::optional<bool> v = disjunction();
        return m_pos == m_words.size() ? v : std::nullopt;
    }

private:
    std::string_view peek() const { return m_pos < m_words.size() ? m_words[m_pos] : std::string_view{}; }
    std::string_view next() { return m_pos < m_words.size() ? m_words[m_pos++] : std::string_view{}; }

    std::optional<bool> disjunction()
    {
        std::optional<bool> v = conjunction();
        while (v && peek() == "or") {
            ++m_pos;
            const std::optional<bool> r = conjunction();
            v = r ? std::optional<bool>(*v || *r) : std::nullopt;
        }
        return v;
    }

    std::optional<bool> conjunction()
    {
        std::optional<bool> v = factor();
        while (v && peek() == "and") {
            ++m_pos;
            const std::optional<bool> r = factor();
            v = r ? std::optional<bool>(*v && *r) : std::nullopt;
        }
        return v;
    }

    std::optional<bool> factor()
    {
        if (peek() == "(") {
            ++m_pos;
            const std::optional<bool> v = disjunction();
            return next() == ")" ? v : std::nullopt;
        }
        if (peek() == "not") {
            ++m_pos;
            const std::optional<bool> v = factor();
            return v ? std::optional<bool>(!*v) : std::nullopt;
        }
        const std::string_view left = next();
        const std::string_view op = next();
        const std::string_view right = next();
        if (left == "t1" || left == "t2") {
            if (right != "mcs_constrained_type" || (op != "==" && op != "!=")) {
                return std::nullopt;
            }
            const bool member = (left == "t1" ? m_subject : m_object).constrained;
            return op == "==" ? member : !member;
        }
        const McsLevel* a = level(left);
        const McsLevel* b = level(right);
        if (!a || !b || !a->valid || !b->valid) {
            return std::nullopt;
        }
        if (op == "dom") {
            return mcs_dominates(*a, *b);
        }
        if (op == "domby") {
            return mcs_dominates(*b, *a);
        }
        if (op == "incomp") {
            return !mcs_dominates(*a, *b) && !mcs_dominates(*b, *a);
        }
        if (op == "==" || op == "eq") {
            return same_level(*a, *b);
        }
        if (op == "!=") {
            return !same_level(*a, *b);
        }
        return std::nullopt;
    }

    const McsLevel* level(std::string_view name) const
    {
        if (name == "l1") return &m_subject.low;
        if (name == "h1") return &m_subject.high;
        if (name == "l2") return &m_object.low;
        if (name == "h2") return &m_object.high;
        return nullptr;
    }

    const McsSide& m_subject;
    const McsSide& m_object;
    std::vector<std::string_view> m_words;
    std::size_t m_pos = 0;
};

} // namespace

std::optional<bool> mcs_expression_holds(std::string_view expression, const McsSide& subject, const McsSide& object)
{
    return Evaluator(expression, subject, object).run();
}

} // namespace virtdeny::kb
