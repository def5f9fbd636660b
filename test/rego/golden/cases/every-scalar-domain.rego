# Regression (conformance regorus/every/tests.yaml#0): as in OPA, `every` over a domain that is
# not an array, object or set fails (the rule is undefined) instead of holding vacuously; an
# empty collection still makes it hold.
# entrypoint: golden/every_scalar/over_number
# entrypoint: golden/every_scalar/over_string
# entrypoint: golden/every_scalar/over_null
# entrypoint: golden/every_scalar/over_empty_array
# entrypoint: golden/every_scalar/over_empty_object
# entrypoint: golden/every_scalar/over_set
# entrypoint: golden/every_scalar/negated
package golden.every_scalar

over_number if every x in 1 { x != 0 }

over_string if every x in "abc" { x != 0 }

over_null if every x in null { x != 0 }

over_empty_array if every x in [] { x != 0 }

over_empty_object if every x in {} { x != 0 }

over_set if every x in {6, 7} { x != 0 }

negated if not every_false

every_false if every x in false { x }
