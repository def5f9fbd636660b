# Regression (conformance opa/every/every.yaml#4): `every` over an undefined domain is
# undefined, so the rule is undefined (no input is given).
# entrypoint: golden/every_undef/p
package golden.every_undef

p if {
	every _ in input { true }
}
