# Recursion between rules is a compile error.
# entrypoint: golden/rec/p
package golden.rec

p if q

q if p
