# Regression (conformance regorus/rule/prefix.yaml#2): rules with constant heads (`a.b.c`) and
# a rule with variables in its head (`a[p][q]`) build one document together: their objects at
# `a.b` merge instead of failing with "object keys must be unique".
# entrypoint: golden/refhead_merge/a
# entrypoint: golden/refhead_merge/whole
package golden.refhead_merge

a.b.c := 1

whole := a.b

a.b.d := 2

a[p][q] := 3 if {
	p := "b"
	q := "e"
}

a[p][q] := 4 if {
	p := "f"
	q := "g"
}
