# Numbers beyond 2^53 and decimals keep their exact value, as in OPA.
# entrypoint: golden/num/values
package golden.num

values := [
	12345678901234567890 + 1,
	9007199254740993,
	7 / 2,
	-0,
	1e3,
	18446744073709551616 * 2,
]
