# entrypoints: a/t
package a

deny if input.x < 0

all_pos if every v in input.xs { v > 0 }

t if {
	not deny with input as {"x": 1}
	all_pos with input.xs as [1, 2]
}
