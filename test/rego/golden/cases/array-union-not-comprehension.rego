# Regression (conformance regorus/compr/array-vs-compr-tricky.yaml #1 #3): `[x | y, 5]` is not
# a comprehension (its "body" does not parse), so as in OPA it is an array whose first item is
# the set union x | y. The same holds for sets.
# entrypoint: golden/union_items/arr
# entrypoint: golden/union_items/arr_in
# entrypoint: golden/union_items/set
# entrypoint: golden/union_items/compr
package golden.union_items

x := {1}

y := {2}

arr := [x | y, 5]

arr_in := [x | y, 5 in {5}, 6]

set := {x | y, 7}

compr := [v | some v in [3, 4]]
