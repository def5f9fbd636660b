# entrypoints: a/keys, a/whole
package a

p := 1

q contains "x"

keys := [k | data.a[k]]

whole := data.b
