# String builtins; indexes count code points, as in OPA.
# entrypoint: golden/str/out
package golden.str

out := [
	concat("-", ["a", "b"]),
	lower("AB"),
	upper("x"),
	split("a,b,,c", ","),
	replace("aaa", "a", "b"),
	trim_space("  x "),
	sprintf("%v-%d-%s", [[1], 2, "s"]),
	format_int(255, 16),
	indexof("héllo", "l"),
	substring("héllo", 1, 3),
	startswith("abc", "ab"),
	regex.match(`^a+$`, "aaa"),
]
