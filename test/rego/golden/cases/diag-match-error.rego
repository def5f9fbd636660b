# Regression (conformance regorus/binding/bindings.yaml #2 #10 #12 #13): OPA rejects at compile
# time `:=` to a non-variable, and unifying literals whose shapes can never match.
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
