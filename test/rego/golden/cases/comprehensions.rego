# Array, set and object comprehensions; some/in with keys; every.
# entrypoint: golden/compr/squares
# entrypoint: golden/compr/evens
# entrypoint: golden/compr/index
# entrypoint: golden/compr/all_positive
# entrypoint: golden/compr/some_negative
# input: {"xs": [3, 1, 2, 4]}
package golden.compr

# OPA reads only a single term as a comprehension head: `[x * x | ...]` is a parse error there.
squares := [(x * x) | some x in input.xs]

evens := {x | some x in input.xs; x % 2 == 0}

index := {x: i | some i, x in input.xs}

all_positive if every x in input.xs { x > 0 }

some_negative if {
	some x in input.xs
	x < 0
}
