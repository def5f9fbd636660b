# Regression (conformance opa/walkbuiltin/*, regorus/binding/walk.yaml): walk(x, [path, value])
# iterates every path of x, the document itself first; walk(x) used as a value iterates too.
# entrypoint: golden/walk/pairs
# entrypoint: golden/walk/leaves
# entrypoint: golden/walk/as_value
# entrypoint: golden/walk/members
package golden.walk

doc := {"a": [1, {"b": 2}], "c": "x"}

pairs contains [path, value] if walk(1, [path, value])

leaves contains [path, v] if {
	walk(doc, [path, v])
	not is_object(v)
	not is_array(v)
}

as_value := {json.marshal(p): v |
	[p, v] := walk(doc)
	is_number(v)
}

members := [[section, m] |
	walk({"team": {"ops": {"members": ["alice"]}}}, [[_, section], {"members": m}])
]
