# entrypoints: a/names, a/by_id
package a

names contains n if {
	some u in input.users
	n := u.name
}

by_id[u.id] := u.name if {
	some u in input.users
}
