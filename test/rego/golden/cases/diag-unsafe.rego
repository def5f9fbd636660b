# Every unsafe variable is reported, with its position, in one run.
# entrypoint: golden/unsafe/p
package golden.unsafe

p if {
	x > 1
}

q if {
	y == z
}
