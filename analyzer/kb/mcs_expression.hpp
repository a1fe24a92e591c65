// Evaluates the mlsconstrain expressions of rules/selinux/mcs-constraints.tsv (as setools
// prints them: "h1 dom h2 or ( t1 != mcs_constrained_type )") for one subject and one object,
// so an MCS denial is told from a TE denial by the policy's own constraint, not a copy of it.
#pragma once

#include <analyzer/kb/access_model.hpp>

#include <optional>
#include <string_view>

namespace virtdeny::kb {

// One side of the access: its low and high levels and whether its type is in
// mcs_constrained_type (t1 for the subject, t2 for the object).
struct McsSide
{
    McsLevel low;
    McsLevel high;
    bool constrained = false;
};

// Does the expression hold? "and" binds tighter than "or", as in the policy language.
// nullopt for a form this evaluator does not know (another attribute, a role or user term,
// an invalid level): the caller must not claim an MCS denial then.
std::optional<bool> mcs_expression_holds(std::string_view expression, const McsSide& subject, const McsSide& object);

} // namespace virtdeny::kb
