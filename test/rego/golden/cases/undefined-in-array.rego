# Regression (conformance opa/virtualdocs/test-virtualdocs-undefined.yaml#0): an array term
# holding an undefined value is undefined, so the body fails and `else` applies.
# entrypoint: golden/undef_array/p
package golden.undef_array

p if {
	[1, 2, input]
} else := false
