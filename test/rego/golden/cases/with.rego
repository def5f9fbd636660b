# `with` replacing input, data and a builtin.
# entrypoint: golden/with/check
# data: {"golden_data": {"ids": [7]}}
package golden.with

allowed if input.role == "admin"

ids := data.golden_data.ids

mock_count(_) := 99

check := [a, b, c, d] if {
	a := allowed with input as {"role": "admin"}
	b := ids with data.golden_data.ids as [1, 2]
	c := count([1]) with count as mock_count
	d := ids
}
