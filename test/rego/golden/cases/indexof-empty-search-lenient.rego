# Regression: without strict builtin errors, indexof with an empty search string is undefined
# (OPA's builtin error), so a default applies.
# entrypoint: golden/indexof_lenient/position
package golden.indexof_lenient

default position := "none"

position := indexof("abc", "")
