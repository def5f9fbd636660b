# Regression (conformance regorus/builtins/objects/json.patch.yaml#14-16, #22, #23 and
# json.filter.yaml#0): json.patch and json.filter see sets, where a path segment addresses the
# member equal to it, although host builtins get JSON (sets as arrays) from the SDK; json.filter
# matches array elements by their index written as text, as OPA does.
# entrypoint: golden/json_sets/added
# entrypoint: golden/json_sets/removed
# entrypoint: golden/json_sets/copied_inside_member
# entrypoint: golden/json_sets/tested_inside_member
# entrypoint: golden/json_sets/set_value_added
# entrypoint: golden/json_sets/member_kept
# entrypoint: golden/json_sets/member_filtered
# entrypoint: golden/json_sets/numeric_index_keeps_nothing
# entrypoint: golden/json_sets/text_index
package golden.json_sets

member := {"a": [1]}

added := json.patch({"a", "b"}, [{"op": "add", "path": ["c"], "value": "c"}])

removed := json.patch({"a", "b"}, [{"op": "remove", "path": ["b"]}])

copied_inside_member := json.patch(
	{member},
	[{"op": "copy", "from": [member, "a", 0], "path": [member, "a", "-"]}],
)

tested_inside_member := json.patch({member}, [{"op": "test", "path": [member, "a", 0], "value": 2}])

set_value_added := json.patch({"x": 1}, [{"op": "add", "path": "/y", "value": {1, 2}}])

doc := {"s": {1, {"x"}, {8, 9}}, "l": [[7, 8], 5]}

member_kept := json.filter(doc, [["s", {"x"}]])

member_filtered := json.filter(doc, [["s", {8, 9}, 9]])

numeric_index_keeps_nothing := json.filter(doc, [["l", 1]])

text_index := json.filter(doc, ["l/0/1"])
