# Functions with several definitions, and a function called from a rule.
# entrypoint: golden/fn/results
package golden.fn

f(x) := "neg" if x < 0

f(x) := "zero" if x == 0

f(x) := "pos" if x > 0

double(x) := y if y := x * 2

results := [f(-1), f(0), f(3), double(21)]
