# Regression: json.remove, array.flatten and object.union_n run in JavaScript, where the SDK
# hands them JSON; sets inside their arguments came back as arrays and non-string keys as text.
# They now see and return Rego values, as OPA's do.
# entrypoint: golden/keep_sets/removed
# entrypoint: golden/keep_sets/member_removed
# entrypoint: golden/keep_sets/flattened
# entrypoint: golden/keep_sets/united
package golden.keep_sets

removed := json.remove({"a": {1, 2}, "b": 1, "c": [1, 2, 3]}, ["b", "c/1"])

member_removed := json.remove({"s": {1, {"x"}}}, [["s", {"x"}]])

flattened := array.flatten([[1, {2}], {3}, [[4]]])

united := object.union_n([{"a": {1}, "n": {"x": 1}}, {"n": {"y": 2}, 5: "five"}])
