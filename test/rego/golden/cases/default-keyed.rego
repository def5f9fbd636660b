# Regression (conformance regorus/default/basic.yaml#0): defaults of single entries of a partial
# object with non-string keys (`default complex[true] := ...`) are separate defaults, each used
# when no rule produced its key; they are not "multiple default rules".
# v0
# input: {"flag": true}
# entrypoint: golden/default_keyed/complex
# entrypoint: golden/default_keyed/overridden
package golden.default_keyed

default complex[true] = "bool_true"

default complex[false] = "bool_false"

complex["hello"] = "world"

default overridden[1] = "default"

overridden[1] = "rule" { input.flag }
