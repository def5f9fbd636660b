# Tests of the shipped policy (rego/pgwarden). Run with `pgwarden test rego policy-tests`.
package pgwarden_test

import rego.v1

import data.pgwarden

# --- input builders ---------------------------------------------------------------------

identity(groups) := {
	"subject": "repo:acme/payments:ref:refs/heads/main",
	"issuer": "https://idp.example",
	"groups": groups,
	"claims": {},
}

statement(overrides) := object.union(
	{
		"id": "s-1", "text": "SELECT 1", "fingerprint": "f", "kind": "select",
		"command_tag": "SELECT", "tables": [], "functions": [], "copy": null,
		"columns": {"read": [], "written": [], "filtered": [], "computed": []},
		"where": false, "limit": null, "copies_data": false, "in_transaction": false,
		"protocol": "simple",
	},
	overrides,
)

request(groups, overrides) := {
	"identity": identity(groups),
	"connection": {"id": "c-1", "client_addr": "127.0.0.1", "tls": true, "database": "payments",
		"user": "ci", "application_name": "test"},
	"statement": statement(overrides),
	"approval": null,
	"now": "2026-01-01T00:00:00Z",
}

cards_read := {
	"tables": [{"schema": "public", "name": "cards", "operations": ["read"]}],
	"columns": {
		"read": ["public.cards.pan", "public.cards.id"],
		"written": [],
		"filtered": ["public.cards.id"],
		"computed": ["public.cards.id"],
	},
	"where": true,
}

# A statement of `kind` doing `operation` on one table.
on(kind, schema, name, operation) := {
	"kind": kind,
	"tables": [{"schema": schema, "name": name, "operations": [operation]}],
}

pan_filter := {"columns": {
	"read": ["public.cards.pan"],
	"written": [],
	"filtered": ["public.cards.pan"],
}}

decide(groups, overrides) := d if {
	d := pgwarden.decision with input as request(groups, overrides)
}

# --- reads and masks --------------------------------------------------------------------

test_etl_reads_cards_with_pan_masked if {
	d := decide(["etl"], cards_read)
	d.allow == true
	d.mask["public.cards.pan"] == "pan_last4"
	d.approval == null
}

test_analyst_sees_email_masked_keeping_domain if {
	d := decide(["analyst"], cards_read)
	d.mask["public.holders.email"] == "email"
}

test_pci_admin_sees_pan_in_clear if {
	d := decide(["pci_admin"], cards_read)
	d.allow == true
	not d.mask["public.cards.pan"]
}

test_unknown_group_refused if {
	d := decide(["visitors"], cards_read)
	d.allow == false
	"identity belongs to no group this policy knows" in d.reasons
}

test_approvers_cannot_read_data if {
	d := decide(["approvers"], cards_read)
	d.allow == false
}

test_approvers_cannot_copy_a_table_out if {
	copy := {"direction": "to", "target": "stdout", "file": null, "program": null, "query": false}
	tables := [{"schema": "public", "name": "merchants", "operations": ["copy_to"]}]
	d := decide(["approvers"], {"kind": "copy", "copy": copy, "tables": tables})
	d.allow == false
	"approvers may not read data" in d.reasons
}

test_plain_select_without_tables_allowed if {
	d := decide(["analyst"], {})
	d.allow == true
}

# --- writes and DDL ---------------------------------------------------------------------

test_etl_writes_transactions if {
	d := decide(["etl"], on("insert", "public", "transactions", "insert"))
	d.allow == true
}

test_etl_cannot_write_cards if {
	d := decide(["etl"], on("update", "public", "cards", "update"))
	d.allow == false
	"etl may not write public.cards" in d.reasons
}

test_ddl_refused_for_ci if {
	d := decide(["etl"], on("create_table", "public", "x", "create"))
	d.allow == false
	"DDL (create_table) is refused for CI identities" in d.reasons
}

test_ddl_allowed_for_dba if {
	d := decide(["dba"], on("drop", "public", "x", "drop"))
	d.allow == true
}

test_unknown_kind_refused if {
	d := decide(["dba"], {"kind": "load"})
	d.allow == false
	"statement kind load is not allowed" in d.reasons
}

# --- functions, COPY, schemas -----------------------------------------------------------

test_pg_read_file_refused if {
	d := decide(["dba"], {"functions": ["pg_catalog.pg_read_file"]})
	d.allow == false
	"function pg_catalog.pg_read_file is refused" in d.reasons
}

test_dblink_refused if {
	d := decide(["dba"], {"functions": ["public.dblink_exec"]})
	d.allow == false
}

test_lo_export_refused if {
	d := decide(["dba"], {"functions": ["pg_catalog.lo_export"]})
	d.allow == false
}

test_terminate_backend_for_dba_only if {
	decide(["analyst"], {"functions": ["pg_catalog.pg_terminate_backend"]}).allow == false
	decide(["dba"], {"functions": ["pg_catalog.pg_terminate_backend"]}).allow == true
}

test_copy_program_refused if {
	copy := {"direction": "from", "target": "program", "file": null, "program": "id", "query": false}
	d := decide(["dba"], {"kind": "copy", "copy": copy})
	d.allow == false
	"COPY ... PROGRAM is refused" in d.reasons
}

test_other_schema_refused if {
	d := decide(["analyst"], {"tables": [{"schema": "secret", "name": "t", "operations": ["read"]}]})
	d.allow == false
	"schema secret is not allowed" in d.reasons
}

test_catalog_reads_allowed if {
	d := decide(["analyst"], on("select", "pg_catalog", "pg_class", "read"))
	d.allow == true
}

test_pg_stats_refused_for_masked_identity if {
	d := decide(["analyst"], on("select", "pg_catalog", "pg_stats", "read"))
	d.allow == false
}

test_filter_on_masked_column_refused if {
	d := decide(["etl"], object.union(cards_read, pan_filter))
	d.allow == false
	"filtering on masked column public.cards.pan is refused" in d.reasons
}

test_filter_on_pan_allowed_for_pci_admin if {
	d := decide(["pci_admin"], object.union(cards_read, pan_filter))
	d.allow == true
}

test_copying_masked_column_refused if {
	d := decide(["dba"], object.union(cards_read, {"kind": "create_table_as", "copies_data": true}))
	d.allow == false
}

# --- approvals --------------------------------------------------------------------------

test_bulk_select_held_for_approval if {
	d := decide(["etl"], object.union(cards_read, {"where": false}))
	d.allow == true
	d.approval.approvers == ["approvers"]
}

test_bulk_select_with_limit_not_held if {
	d := decide(["etl"], object.union(cards_read, {"where": false, "limit": 10}))
	d.approval == null
}

test_copy_to_held_for_approval if {
	copy := {"direction": "to", "target": "stdout", "file": null, "program": null, "query": false}
	d := decide(["etl"], object.union(cards_read, {"kind": "copy", "copy": copy}))
	d.approval.reason == "bulk export of cardholder data"
}

test_approved_statement_runs if {
	approval := {"approver": "alice", "at": "2026-01-01T00:00:00Z", "comment": "ok"}
	bulk := request(["etl"], object.union(cards_read, {"where": false}))
	inp := object.union(bulk, {"approval": [approval]})
	d := pgwarden.decision with input as inp
	d.allow == true
	d.approval == null
	d.mask["public.cards.pan"] == "pan_last4"
}

test_self_approval_refused if {
	req := request(["etl"], object.union(cards_read, {"where": false}))
	self := {"approver": req.identity.subject, "at": "2026-01-01T00:00:00Z", "comment": "me"}
	d := pgwarden.decision with input as object.union(req, {"approval": [self]})
	d.allow == false
	"approval by the requester is not accepted" in d.reasons
}

test_approval_asks_group_approvers if {
	d := decide(["etl"], object.union(cards_read, {"where": false}))
	d.approval.approvers == ["approvers"]
	d.approval.quorum == 1
	d.mask["public.cards.pan"] == "pan_last4"
}

test_copy_from_query_to_stdout_held if {
	copy := {"direction": "to", "target": "stdout", "file": null, "program": null, "query": true}
	d := decide(["analyst"], object.union(cards_read, {"kind": "copy", "copy": copy}))
	d.approval.reason == "bulk export of cardholder data"
}

test_copy_of_other_tables_not_held if {
	copy := {"direction": "to", "target": "stdout", "file": null, "program": null, "query": false}
	tables := [{"schema": "public", "name": "merchants", "operations": ["read"]}]
	d := decide(["analyst"], {"kind": "copy", "copy": copy, "tables": tables})
	d.allow == true
	d.approval == null
}

test_copy_to_server_file_refused if {
	copy := {"direction": "to", "target": "file", "file": "/tmp/x", "program": null, "query": false}
	d := decide(["dba"], object.union(cards_read, {"kind": "copy", "copy": copy}))
	d.allow == false
	"COPY to or from a server file is refused" in d.reasons
}

test_pg_read_binary_file_refused if {
	d := decide(["dba"], {"functions": ["pg_catalog.pg_read_binary_file"]})
	"function pg_catalog.pg_read_binary_file is refused" in d.reasons
}

test_lo_import_refused if {
	d := decide(["dba"], {"functions": ["pg_catalog.lo_import"]})
	d.allow == false
}

test_dblink_connect_refused_whatever_the_schema if {
	d := decide(["dba"], {"functions": ["extensions.dblink_connect"]})
	"function extensions.dblink_connect is refused" in d.reasons
}

test_cancel_backend_for_dba_only if {
	decide(["etl"], {"functions": ["pg_catalog.pg_cancel_backend"]}).allow == false
	decide(["dba"], {"functions": ["pg_catalog.pg_cancel_backend"]}).allow == true
}

test_ddl_refused_for_ci_even_with_dba if {
	d := decide(["ci", "dba"], on("alter_table", "public", "x", "alter"))
	d.allow == false
	"DDL (alter_table) is refused for CI identities" in d.reasons
}

test_analyst_cannot_write if {
	d := decide(["analyst"], on("delete", "public", "transactions", "delete"))
	d.allow == false
	"analyst may not write public.transactions" in d.reasons
}

test_phone_masked_with_parameters if {
	d := decide(["etl"], cards_read)
	d.mask["public.holders.phone"] == {"method": "partial", "prefix": 0, "suffix": 2}
}

test_refusal_has_no_masks_or_approval if {
	d := decide(["visitors"], object.union(cards_read, {"where": false}))
	d.allow == false
	d.mask == {}
	d.approval == null
}

test_malformed_kind_still_refused_with_reason if {
	d := decide(["dba"], {"kind": 42})
	d.allow == false
	"statement kind 42 is not allowed" in d.reasons
}

# --- escapes found in review: computing on masked values, SQL from text, side channels -----

# `columns` of a read of cards computing on `computed` (e.g. `SELECT pan::int ... WHERE id = 1`).
computing(computed) := object.union(cards_read, {"columns": {
	"read": ["public.cards.pan", "public.cards.id"],
	"written": [],
	"filtered": ["public.cards.id"],
	"computed": computed,
}})

test_computing_on_masked_column_refused if {
	# SELECT translate(pan, ...)::int, reverse(pan)::int, 1/(CASE WHEN substr(pan,1,1) ...)
	d := decide(["etl"], computing(["public.cards.id", "public.cards.pan"]))
	d.allow == false
	"computing on masked column public.cards.pan is refused" in d.reasons
}

test_computing_on_masked_email_refused_for_analyst if {
	d := decide(["analyst"], computing(["public.holders.email"]))
	"computing on masked column public.holders.email is refused" in d.reasons
}

test_computing_on_whole_row_with_masked_column_refused if {
	# SELECT md5(c::text) FROM cards c
	d := decide(["etl"], computing(["public.cards.*"]))
	"computing on masked column public.cards.* is refused" in d.reasons
}

test_computing_on_whole_row_without_masked_column_allowed if {
	d := decide(["etl"], computing(["public.merchants.*", "public.cards.id"]))
	d.allow == true
}

test_computing_on_pan_allowed_for_pci_admin if {
	d := decide(["pci_admin"], computing(["public.cards.pan"]))
	d.allow == true
}

test_filtering_on_whole_row_with_masked_column_refused if {
	d := decide(["etl"], object.union(cards_read, {"columns": {
		"read": [], "written": [], "filtered": ["public.cards.*"], "computed": [],
	}}))
	"filtering on masked column public.cards.* is refused" in d.reasons
}

test_input_without_computed_still_decides if {
	d := decide(["etl"], object.union(cards_read, {"columns": {
		"read": ["public.cards.pan"], "written": [], "filtered": [],
	}}))
	d.allow == true
}

test_insert_copying_through_cte_refused if {
	# WITH x AS (SELECT pan FROM cards ...) INSERT INTO transactions ... SELECT ... FROM x
	tables := [
		{"schema": "public", "name": "cards", "operations": ["read"]},
		{"schema": "public", "name": "transactions", "operations": ["insert"]},
	]
	d := decide(["etl"], object.union(computing(["public.cards.pan"]), {
		"kind": "insert", "tables": tables, "copies_data": true,
	}))
	d.allow == false
	"copying masked column public.cards.pan elsewhere is refused" in d.reasons
	"computing on masked column public.cards.pan is refused" in d.reasons
}

sql_text_functions := [
	"pg_catalog.query_to_xml", "pg_catalog.query_to_xml_and_xmlschema",
	"pg_catalog.table_to_xml", "pg_catalog.cursor_to_xml", "pg_catalog.schema_to_xml",
	"pg_catalog.database_to_xml", "pg_catalog.ts_stat", "pg_catalog.ts_rewrite",
]

test_sql_text_functions_refused_for_everyone if {
	every f in sql_text_functions {
		every g in ["etl", "analyst", "dba", "pci_admin"] {
			d := decide([g], {"functions": [f]})
			d.allow == false
			msg := concat("", ["function ", f, " runs SQL from text or dumps relations and is refused"])
			msg in d.reasons
		}
	}
}

side_channels := [
	"pg_catalog.lo_from_bytea", "pg_catalog.lo_put", "pg_catalog.lowrite", "pg_catalog.lo_create",
	"pg_catalog.lo_open", "pg_catalog.lo_get", "pg_catalog.set_config", "pg_catalog.pg_notify",
	"pg_catalog.pg_logical_emit_message",
]

test_side_channel_functions_for_dba_only if {
	every f in side_channels {
		d := decide(["etl"], {"functions": [f]})
		d.allow == false
		concat("", ["function ", f, " is a side channel and is for DBAs only"]) in d.reasons
		decide(["analyst"], {"functions": [f]}).allow == false
		decide(["dba"], {"functions": [f]}).allow == true
	}
}

test_pg_stat_get_activity_refused_for_masked_identity if {
	d := decide(["etl"], {"functions": ["pg_catalog.pg_stat_get_activity"]})
	d.allow == false
	"function pg_catalog.pg_stat_get_activity exposes statement text or files and is refused for masked identities" in d.reasons
}

test_exposing_functions_refused_for_masked_identities if {
	every f in ["pg_catalog.pg_stat_get_backend_activity", "pg_catalog.pg_ls_logdir",
		"pg_catalog.pg_mcv_list_items", "public.pg_stat_statements"] {
		decide(["analyst"], {"functions": [f]}).allow == false
	}
}

test_extended_statistics_refused_for_masked_identity if {
	d := decide(["etl"], on("select", "pg_catalog", "pg_stats_ext", "read"))
	d.allow == false
}

test_select_where_true_held if {
	# SELECT id, pan FROM cards WHERE true: the analyzer reports where false
	d := decide(["etl"], object.union(cards_read, {"where": false, "limit": null}))
	d.approval.reason == "bulk export of cardholder data"
}

test_select_with_large_limit_held if {
	# SELECT id, pan FROM cards FETCH FIRST 1000000 ROWS ONLY
	d := decide(["etl"], object.union(cards_read, {"where": false, "limit": 1000000}))
	d.approval.reason == "bulk export of cardholder data"
}

test_select_with_limit_at_bound_not_held if {
	d := decide(["etl"], object.union(cards_read, {"where": false, "limit": 1000}))
	d.approval == null
	decide(["etl"], object.union(cards_read, {"where": false, "limit": 1001})).approval != null
}

test_cursor_over_cardholder_table_held if {
	d := decide(["etl"], object.union(cards_read, {"kind": "declare", "where": false}))
	d.approval.reason == "bulk export of cardholder data"
}

test_prepared_bulk_read_held_when_prepared if {
	d := decide(["etl"], object.union(cards_read, {"kind": "prepare", "where": false}))
	d.approval.reason == "bulk export of cardholder data"
}

test_select_with_row_choosing_where_not_held if {
	d := decide(["etl"], object.union(cards_read, {"where": true, "limit": null}))
	d.approval == null
}
