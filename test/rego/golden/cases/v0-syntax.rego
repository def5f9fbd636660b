# Rego v0 syntax (OPA's --v0-compatible): bodies without `if`, partial sets with `[x]`.
# v0
# entrypoint: golden/vzero/allow
# entrypoint: golden/vzero/s
# input: {"a": 1}
package golden.vzero

allow { input.a == 1 }

s[x] { x := ["p", "q"][_] }
