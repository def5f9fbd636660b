# Regression (conformance regorus/snippets/snippets.yaml#2): as in OPA's parser, an infix
# operator at the start of the next line continues the expression above it, so `input.x` and
# `== 5` on two lines are one comparison, not a bare reference followed by a syntax error.
# input: {"x": 5, "y": 5}
# entrypoint: golden/next_line/allow
# entrypoint: golden/next_line/total
package golden.next_line

allow if {
	input.x
	== 5

	input.y
		+ 1 == 6
}

total := 1
	+ 2
	* 3
