# Regression: under strict builtin errors, time.add_date, units.parse, units.parse_bytes,
# rand.intn, numbers.range(_step) and the time builtins' [ns, zone] operand word their errors
# as OPA's topdown does (they said "<builtin>: invalid argument"). units.parse and
# units.parse_bytes repeat their name, as OPA's do. Wrong types come from the input, so they
# reach evaluation.
# strict
# input: {"s": "x", "n": 1, "f": 1.5, "empty": []}
# entrypoint: golden/builtin_errors/add_date_range
# entrypoint: golden/builtin_errors/add_date_operand
# entrypoint: golden/builtin_errors/add_date_fraction
# entrypoint: golden/builtin_errors/add_date_zone
# entrypoint: golden/builtin_errors/date_empty
# entrypoint: golden/builtin_errors/units_unknown
# entrypoint: golden/builtin_errors/units_spaces
# entrypoint: golden/builtin_errors/units_no_amount
# entrypoint: golden/builtin_errors/units_type
# entrypoint: golden/builtin_errors/bytes_unknown
# entrypoint: golden/builtin_errors/bytes_exponent
# entrypoint: golden/builtin_errors/bytes_scientific
# entrypoint: golden/builtin_errors/intn_key
# entrypoint: golden/builtin_errors/intn_fraction
# entrypoint: golden/builtin_errors/range_type
# entrypoint: golden/builtin_errors/range_step_zero
package golden.builtin_errors

add_date_range := time.add_date(1703444325734390000, 2147483647, 0, 0)

add_date_operand := time.add_date(input.s, 0, 0, 0)

add_date_fraction := time.add_date(0, 0, input.f, 0)

add_date_zone := time.add_date([0, "Nowhere/Zone"], 0, 0, 0)

date_empty := time.date(input.empty)

units_unknown := units.parse("1Q")

units_spaces := units.parse("1 K")

units_no_amount := units.parse("Ki")

units_type := units.parse(input.n)

bytes_unknown := units.parse_bytes("1XB")

bytes_exponent := units.parse_bytes("1e1234567")

bytes_scientific := units.parse_bytes("1.5e3kb")

intn_key := rand.intn(input.n, 10)

intn_fraction := rand.intn("k", input.f)

range_type := numbers.range(1, input.s)

range_step_zero := numbers.range_step(1, 5, 0)
