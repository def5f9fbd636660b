# A complete rule with two values is an evaluation error, not a result.
# entrypoint: golden/conflict/p
# entrypoint: golden/conflict/ok
package golden.conflict

p := x if some x in [1, 2]

ok := 1
