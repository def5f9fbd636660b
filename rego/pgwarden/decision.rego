# The shipped pgwarden policy: a PCI DSS-minded decision for a cardholder database.
#
# Input and decision are described in docs/policy-authoring.md. Data lives in data.json beside
# this file (data.pgwarden.config): the sensitive-column catalog and what each group may do.
package pgwarden

import rego.v1

cfg := data.pgwarden.config

stmt := input.statement

groups := {g | some g in input.identity.groups}

# Groups of the identity that the configuration knows.
known_groups := {g | some g in groups; cfg.groups[g]}

# The decision: refusals first, then a held statement, then an allowed one.
decision := {"allow": false, "reasons": sort(deny), "mask": {}, "approval": null} if {
	count(deny) > 0
} else := {
	"allow": true,
	"reasons": ["held for approval: bulk export of cardholder data"],
	"mask": masks,
	"approval": approval_request,
} if {
	needs_approval
	not approved
} else := {"allow": true, "reasons": allow_reasons, "mask": masks, "approval": null}

# Approvals count only when someone other than the requester gave them (the approvals service
# refuses self-approval too; this keeps the rule in the policy that auditors read).
approved if {
	some a in input.approval
	a.approver != input.identity.subject
}

allow_reasons := [msg([group_list, " may run ", stmt.kind])]

group_list := concat(",", sort(known_groups))

# --- refusals ---------------------------------------------------------------------------

deny contains "identity belongs to no group this policy knows" if count(known_groups) == 0

deny contains msg(["statement kind ", stmt.kind, " is not allowed"]) if not known_kind

deny contains msg([group_list, " may not read data"]) if {
	count(known_groups) > 0
	reads_tables
	not can_read
}

deny contains msg([group_list, " may not write ", t]) if {
	some table in stmt.tables
	some op in table.operations
	op in write_operations
	t := table_name(table)
	not can_write(t)
}

deny contains msg(["DDL (", stmt.kind, ") is refused for CI identities"]) if {
	is_ddl
	some g in groups
	g in cfg.ci_groups
}

deny contains msg(["DDL (", stmt.kind, ") needs group dba"]) if {
	is_ddl
	not can_ddl
}

deny contains msg(["function ", f, " is refused"]) if {
	some f in stmt.functions
	dangerous_function(f)
}

deny contains msg(["function ", f, " is for DBAs only"]) if {
	some f in stmt.functions
	admin_function(f)
	not can_admin
}

deny contains "COPY ... PROGRAM is refused" if stmt.copy.target == "program"

deny contains "approval by the requester is not accepted" if {
	needs_approval
	count(input.approval) > 0
	not approved
}

deny contains "COPY to or from a server file is refused" if stmt.copy.target == "file"

deny contains msg(["schema ", table.schema, " is not allowed"]) if {
	some table in stmt.tables
	not table.schema in cfg.allowed_schemas
	not table.schema in cfg.catalog_schemas
}

deny contains msg([t, " exposes data or statement text and is refused for masked identities"]) if {
	some table in stmt.tables
	t := table_name(table)
	t in cfg.exposing_catalog_tables
	count(masks) > 0
}

deny contains msg(["filtering on masked column ", c, " is refused"]) if {
	some c in stmt.columns.filtered
	masked(c)
}

# A computation on a masked value (a cast, a function, an operator, a condition) can fail with
# the value in its error, answer yes or no by failing or not, or act on the value (a user
# function, a large object): only pass-through output, which the gateway masks, is allowed.
deny contains msg(["computing on masked column ", c, " is refused"]) if {
	some c in stmt.columns.computed
	masked(c)
}

# Functions that run SQL given as text, or dump whole tables, schemas or cursors: what they read
# is not in the statement, so neither analysis nor masking can see it.
deny contains msg(["function ", f, " runs SQL from text or dumps relations and is refused"]) if {
	some f in stmt.functions
	base_name(f) in cfg.sql_text_functions
}

deny contains msg(["function ", f, " is a side channel and is for DBAs only"]) if {
	some f in stmt.functions
	base_name(f) in cfg.side_channel_functions
	not can_admin
}

deny contains msg(["function ", f, " exposes statement text or files and is refused for masked identities"]) if {
	some f in stmt.functions
	base_name(f) in cfg.exposing_functions
	count(masks) > 0
}

deny contains msg(["copying masked column ", c, " elsewhere is refused"]) if {
	stmt.copies_data
	some c in stmt.columns.read
	masked(c)
}

# --- what groups may do -----------------------------------------------------------------

can_read if {
	some g in known_groups
	cfg.groups[g].read
}

can_write(t) if {
	some g in known_groups
	some w in cfg.groups[g].write
	w in {"*", t}
}

can_ddl if {
	some g in known_groups
	cfg.groups[g].ddl
}

can_admin if {
	some g in known_groups
	cfg.groups[g].admin_functions
}

sees(column) if {
	some g in known_groups
	column in cfg.groups[g].see
}

# Masks for every sensitive column the identity may not see in the clear.
masks := {c: m | some c, m in cfg.sensitive_columns; not sees(c)}

# A column the identity sees masked, or a whole row (`schema.table.*`) holding one.
masked(c) if masks[c]

masked(c) if {
	endswith(c, ".*")
	prefix := trim_suffix(c, "*")
	some k, _ in masks
	startswith(k, prefix)
}

# --- approvals --------------------------------------------------------------------------

needs_approval if {
	stmt.copy.direction == "to"
	touches_cardholder_data
}

# A read of cardholder tables whose WHERE chooses no rows (none, or a constant one such as
# `WHERE true`) and whose LIMIT (or FETCH FIRST) is absent, not a constant, or above
# `bulk_read_limit`. A cursor is decided when it is declared, a prepared statement when it is
# prepared (EXECUTE and FETCH only name them).
needs_approval if {
	stmt.kind in {"select", "declare", "prepare"}
	touches_cardholder_data
	not stmt.where
	not small_limit
}

small_limit if {
	is_number(stmt.limit)
	stmt.limit <= cfg.bulk_read_limit
}

approval_request := {
	"reason": "bulk export of cardholder data",
	"approvers": [cfg.approver_group],
	"quorum": 1,
	"expires_in": "10m",
	"grant_ttl": "8h",
}

touches_cardholder_data if {
	some table in stmt.tables
	table_name(table) in cfg.cardholder_tables
}

# --- statement classes ------------------------------------------------------------------

write_operations := {"insert", "update", "delete", "truncate", "copy_from"}

read_kinds := {"select", "explain", "declare", "fetch", "show", "values", "table"}

session_kinds := {
	"begin", "commit", "rollback", "savepoint", "release", "set", "reset", "show", "discard",
	"deallocate", "close", "listen", "unlisten", "prepare", "execute", "start_transaction",
}

dml_kinds := {"insert", "update", "delete", "merge", "copy", "call"}

known_kind if stmt.kind in read_kinds

known_kind if stmt.kind in session_kinds

known_kind if stmt.kind in dml_kinds

known_kind if is_ddl

is_ddl if startswith(stmt.kind, "create")

is_ddl if startswith(stmt.kind, "alter")

is_ddl if startswith(stmt.kind, "drop")

is_ddl if stmt.kind in {"truncate", "grant", "revoke", "comment", "vacuum", "reindex", "cluster"}

# COPY ... TO exports a table: it reads it as much as a SELECT does.
reads_tables if {
	some table in stmt.tables
	some op in table.operations
	op in {"read", "copy_to"}
	not table.schema in cfg.catalog_schemas
}

dangerous_function(f) if base_name(f) in {
	"pg_read_file", "pg_read_binary_file", "pg_ls_dir", "lo_export", "lo_import",
	"pg_stat_file",
}

dangerous_function(f) if startswith(base_name(f), "dblink")

admin_function(f) if base_name(f) in {"pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf"}

base_name(f) := name if {
	parts := split(f, ".")
	name := parts[count(parts) - 1]
}

table_name(table) := msg([table.schema, ".", table.name])

# Messages are joined with concat, which runs inside the module; sprintf would call out to the
# host for every message (a JSON round trip each). Values that are not strings still print, so
# a malformed input cannot make a refusal's message, and with it the refusal, undefined.
msg(parts) := concat("", [text(p) | some p in parts])

text(x) := x if {
	is_string(x)
} else := sprintf("%v", [x])
