# Regression (conformance regorus/snippets/snippets.yaml#6 and #7): as OPA's parser does, a v0
# rule body may open on the line after its head, a rule head may follow another on the same
# line, and `k, v in xs` is a membership test also on the right of `:=` and in a head value.
# v0
# entrypoint: golden/v0_next_line/holder
# entrypoint: golden/v0_next_line/pair_found
# entrypoint: golden/v0_next_line/tagged
# entrypoint: golden/v0_next_line/marker
package golden.v0_next_line

import future.keywords.in

holder["p"]
{
	x := {6}
}

pair_found := false in {a, b} {
	a := 1
	b := 0, 7 in [5, 7]
}

tagged["s"] marker {
	true
}
