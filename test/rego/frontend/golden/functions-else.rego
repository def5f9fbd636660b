# entrypoints: a/out
package a

level(x) := "high" if x > 10 else := "low" if x > 0 else := "none"

level("admin") := "root"

out := [level(1), level(20), level(-1)]
