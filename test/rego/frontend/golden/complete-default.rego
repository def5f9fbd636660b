# entrypoints: a/allow
package a

default allow := false

allow if {
	input.user == "admin"
}

allow if input.roles[_] == "root"
