# entrypoints: a/p
package a

limit := 10

ok if input.n < limit

f(x) := x + 1

p := [a, b] if {
	a := ok with limit as 1
	b := f(1) with f as count
}
