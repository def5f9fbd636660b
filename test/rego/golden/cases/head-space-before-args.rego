# Regression (conformance regorus/snippets/snippets.yaml#4): as OPA's parser does, a rule head
# may put spaces between its name and its first suffix (`sum (a, b)`, `q [k]`); inside an
# expression the space still ends the term.
# entrypoint: golden/head_space/total
# entrypoint: golden/head_space/q
package golden.head_space

sum (a, b) := c if {
	c := a + b
}

total := sum(5, 6)

q [k] := 1 if some k in ["x"]
