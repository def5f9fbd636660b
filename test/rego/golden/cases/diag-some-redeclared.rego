# Regression (conformance regorus/binding/bindings.yaml #19 #20 #21): `some x` may not declare a
# var the body already assigned, declared or referenced (OPA's "assigned above" and
# "referenced above"); a comprehension has its own scope.
# entrypoint: golden/some_redecl/ok
package golden.some_redecl

assigned if {
	value := 0
	some value in [1, 2]
}

referenced if {
	value = 0
	some value in [1, 2]
}

after if {
	some value in [1, 2]
	value := 1
}

declared_twice if {
	some x
	some x in [1]
}

ok if {
	xs := [v | some v in [1, 2]]
	some v in xs
	v == 2
}
