/*
 * What the simulator reads from the rules: which simple comparisons (`field > 70`,
 * `hazard == true`, `a > 1 and b < 2`) a record satisfies, how to move a value to the side
 * where a rule stays quiet, and how to move it to the side where the rule fires. Anything
 * else in an expression (sums, delta, rate, not) is left alone: a rule made only of that
 * is neither guarded nor triggered.
 */
#ifndef CITYLINK_SIM_RULES_H
#define CITYLINK_SIM_RULES_H

#include "cli/example.h"
#include "normalizer/model.h"

/* Whether rule's `when` can be made true by setting fields (at least one comparison of a
 * field with a constant, joined by `and`/`or`). */
int sim_rule_triggerable(const struct norm_rule *rule);

/* Whether row satisfies the rule's `when`: 1 or 0, or -1 when that depends on more than
 * comparisons of fields with constants (sums, delta, rate, not). */
int sim_rule_holds(const struct norm_rule *rule, const struct example_value *row);

/*
 * Changes row (one record: the standard's n_fields values, in its units) so that the
 * rule's `when` holds: each comparison of its first `or` branch gets a value past its
 * threshold (kept inside the range). Fields the rule does not compare stay as they are.
 */
void sim_rule_trigger(const struct norm_rule *rule, struct example_value *row);

/*
 * Changes row so that the rule's `when` does not hold, if a comparison decides it: for
 * `and`, the last comparison that holds is moved back across its threshold; for `or`,
 * every one. noise in [0, 1) varies how far back.
 */
void sim_rule_quiet(const struct norm_rule *rule, struct example_value *row, double noise);

#endif
