# Regression (conformance regorus/builtins/uuid/parse.yaml#3): under strict builtin errors, OPA's
# uuid.parse of text that is not a UUID is undefined, not an error; a non-string is an error.
# strict
# input: {"bad": "not-valid", "num": 42, "good": "00000000-0000-0000-0000-000000000000"}
# entrypoint: golden/uuid/invalid
# entrypoint: golden/uuid/valid
# entrypoint: golden/uuid/wrong_type
package golden.uuid

invalid := uuid.parse(input.bad)

valid := uuid.parse(input.good).version

wrong_type := uuid.parse(input.num)
