# Regression (conformance regorus/compr/tricky.yaml#0): `{ 1 | 1 }` is a set comprehension,
# not a set holding `1 | 1`; only parentheses make `|` the union operator inside braces.
# entrypoint: golden/compr_or/y
# entrypoint: golden/compr_or/a
package golden.compr_or

y := {1 | 1}

a := {({1} | {2})}
