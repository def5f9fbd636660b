# Regression: where a constant head (`a.b.c := 1`) and a head with variables (`a[p][q]`) give
# the same leaf different values, evaluating the document is OPA's conflict error; the same
# value twice is no conflict.
# entrypoint: golden/refhead_conflict/a
# entrypoint: golden/refhead_conflict/same
package golden.refhead_conflict

a.b.c := 1

a[p][q] := 3 if {
	p := "b"
	q := "c"
}

same.b.c := 1

same[p][q] := 1 if {
	p := "b"
	q := "c"
}
