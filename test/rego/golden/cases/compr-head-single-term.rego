# Regression (conformance regorus/compr/array-vs-compr-tricky.yaml#4, snippets.yaml#0): as in
# OPA's parser, only a single term heads a comprehension. `[a - b | c, d]` is an array whose
# first item is `(a - b) | c`, and `{a & b | c}` a set; parentheses make a comprehension head.
# entrypoint: golden/compr_head/array_of_union
# entrypoint: golden/compr_head/parenthesised
# entrypoint: golden/compr_head/set_of_union
# entrypoint: golden/compr_head/single_term
# entrypoint: golden/compr_head/object_infix_key
package golden.compr_head

low := {1}

high := {2}

array_of_union := [low - {9} | high, 3 in {3}]

parenthesised := [(low - {9}) | high]

set_of_union := {low & {7} | {"x"}}

single_term := [low | high]

object_infix_key := {k * 10: v | some k, v in ["a", "b"]}
