# entrypoints: a/p
package a

p if {
	x > y
	count(z) == 1
}

q := w
