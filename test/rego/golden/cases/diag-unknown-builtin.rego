# A builtin the compiler does not know is a compile error naming it.
# entrypoint: golden/unknown/p
package golden.unknown

p := foo.bar(1)
