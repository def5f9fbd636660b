# Set operators, object and array builtins, and sort over mixed types (OPA's total order).
# entrypoint: golden/coll/out
package golden.coll

out := [
	{1, 2, 3} - {2},
	{1, 2} | {3},
	{1, 2} & {2, 3},
	object.get({"a": 1}, "b", "dflt"),
	object.remove({"a": 1, "b": 2}, ["a"]),
	object.union({"a": {"x": 1}}, {"a": {"y": 2}}),
	array.concat([1], [2]),
	array.slice([1, 2, 3, 4], 1, 3),
	sort([3, "a", null, true, [1], {"k": 1}, {1}]),
]
