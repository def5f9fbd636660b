# Regression: `[x * 2 | some x in xs]` is not a comprehension in OPA (its head would have to be a
# single term), so the `|` is set union and `some` cannot follow it: a parse error, as in OPA.
# entrypoint: golden/compr_head_diag/doubled
package golden.compr_head_diag

doubled := [x * 2 | some x in [1, 2]]
