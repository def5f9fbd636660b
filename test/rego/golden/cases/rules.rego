# Complete, default, else, partial set and partial object rules; an undefined rule.
# entrypoint: golden/rules/allow
# entrypoint: golden/rules/level
# entrypoint: golden/rules/names
# entrypoint: golden/rules/by_id
# entrypoint: golden/rules/missing
# input: {"user": {"id": 7, "name": "ann", "roles": ["dev", "ops"]}}
package golden.rules

default allow := false

allow if "ops" in input.user.roles

level := "high" if {
	count(input.user.roles) > 1
} else := "low"

names contains r if some r in input.user.roles

by_id[input.user.id] := input.user.name

missing if input.nothing
