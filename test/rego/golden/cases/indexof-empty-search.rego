# Regression (conformance regorus/builtins/strings/indexof.yaml#0): OPA's indexof refuses an
# empty search string ("empty search character") instead of answering 0; under strict builtin
# errors that is the error, and array.slice words a fractional index as OPA does.
# strict
# entrypoint: golden/indexof_empty/empty_in_empty
# entrypoint: golden/indexof_empty/empty_in_text
# entrypoint: golden/indexof_empty/absent
# entrypoint: golden/indexof_empty/found
# entrypoint: golden/indexof_empty/slice_fraction
package golden.indexof_empty

empty_in_empty := indexof("", "")

empty_in_text := indexof("abc", "")

absent := indexof("", ",")

found := indexof("añb", "b")

slice_fraction := array.slice([5], 1.5, 2)
