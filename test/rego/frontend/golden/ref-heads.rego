# entrypoints: a/conf, a/perm
package a

conf.db.port := 5432

perm[role].can contains action if {
	some role, actions in input.grants
	some action in actions
}
