# entrypoints: a/p
package a

p := q

q := p

r := nope.fn(1)

s := count(1, 2, 3)

t := 1

t contains 2

u if {
	x := 1
	x := 2
}

v := f(1)

f(x, y) := x + y
