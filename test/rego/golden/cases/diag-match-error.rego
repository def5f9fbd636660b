# Regression (conformance regorus/binding/bindings.yaml #2 #10 #12 #13 #18, some/tests.yaml#2):
# OPA rejects at compile time `:=` to a non-variable, and unifying literals whose shapes can
# never match.
# entrypoint: golden/match/p
package golden.match

p if {
	1 := value
	value == 1
}

q if {
	[x, y] = [1, 2, 3]
}

r if {
	[x] = {"key": 1}
}

s if {
	{"a": first, "b": second} = {"a": 1, "c": 2}
}

t if {
	[a, [b, c]] = [1, [2]]
}

ok if {
	[a, b] = [1, 2]
	{"k": v} = {"k": a}
	[b, v] == [2, 1]
}

# regorus/binding/bindings.yaml#18, regorus/some/tests.yaml#2: no member can match.
u if {
	some [x, y] in [[1, 2, 3]]
}

v if {
	some [1] in [[1, 2]]
}

# One member of the right shape is enough.
w if {
	some [x, y] in [[1, 2], [1, 2, 3]]
	x == y
}
