# A syntax error is reported once, at its position.
# known-failure: the parser reports this error twice
# entrypoint: golden/parse/p
package golden.parse

p if {
	1 +
}
