/**
 * Utility and DDL statements: their kind, command tag and the tables they act on. Every statement
 * node type PostgreSQL 18 can produce at top level is listed; a node type missing here is
 * refused as unclassified rather than guessed at.
 */
import type { Node, RangeVar } from 'libpg-query';
import type { TableOperation } from './types.js';
import { relationSchema } from './catalog.js';
import { as, listItems, strings, type Body } from './nodes.js';
import type { Ctx } from './scope.js';

/** Kind and command tag of a statement. */
export interface Classified {
  kind: string;
  commandTag: string;
}

const OBJECT_WORDS: Record<string, string> = {
  OBJECT_FDW: 'FOREIGN DATA WRAPPER',
  OBJECT_FOREIGN_SERVER: 'SERVER',
  OBJECT_LARGEOBJECT: 'LARGE OBJECT',
  OBJECT_MATVIEW: 'MATERIALIZED VIEW',
  OBJECT_OPCLASS: 'OPERATOR CLASS',
  OBJECT_OPFAMILY: 'OPERATOR FAMILY',
  OBJECT_STATISTIC_EXT: 'STATISTICS',
  OBJECT_TSCONFIGURATION: 'TEXT SEARCH CONFIGURATION',
  OBJECT_TSDICTIONARY: 'TEXT SEARCH DICTIONARY',
  OBJECT_TSPARSER: 'TEXT SEARCH PARSER',
  OBJECT_TSTEMPLATE: 'TEXT SEARCH TEMPLATE',
  OBJECT_TABCONSTRAINT: 'TABLE',
  OBJECT_COLUMN: 'TABLE',
  OBJECT_DOMCONSTRAINT: 'DOMAIN',
};

/** SQL words of an object type: `OBJECT_MATVIEW` is `MATERIALIZED VIEW`. */
export function objectWords(type: string | undefined): string {
  if (!type) return 'OBJECT';
  return OBJECT_WORDS[type] ?? type.replace(/^OBJECT_/, '').replace(/_/g, ' ');
}

/** Object types that name relations the policy sees in `tables`. */
const RELATION_TYPES = new Set([
  'OBJECT_TABLE',
  'OBJECT_VIEW',
  'OBJECT_MATVIEW',
  'OBJECT_FOREIGN_TABLE',
]);

/** A create statement's kind follows its tag: `CREATE FOREIGN TABLE` is `create_foreign_table`. */
function create(tag: string): Classified {
  return { kind: tag.toLowerCase().replace(/ /g, '_'), commandTag: tag };
}

/** Fixed classifications: node type to kind and tag, for nodes whose tag does not vary. */
const FIXED: Record<string, Classified> = {
  CreateSchemaStmt: create('CREATE SCHEMA'),
  CreateRoleStmt: create('CREATE ROLE'),
  CreateSeqStmt: create('CREATE SEQUENCE'),
  CreateExtensionStmt: create('CREATE EXTENSION'),
  CreateTrigStmt: create('CREATE TRIGGER'),
  CreateEventTrigStmt: create('CREATE EVENT TRIGGER'),
  CreatePolicyStmt: create('CREATE POLICY'),
  CreatedbStmt: create('CREATE DATABASE'),
  CreateDomainStmt: create('CREATE DOMAIN'),
  CompositeTypeStmt: create('CREATE TYPE'),
  CreateEnumStmt: create('CREATE TYPE'),
  CreateRangeStmt: create('CREATE TYPE'),
  RuleStmt: create('CREATE RULE'),
  CreateTableSpaceStmt: create('CREATE TABLESPACE'),
  CreateFdwStmt: create('CREATE FOREIGN DATA WRAPPER'),
  CreateForeignServerStmt: create('CREATE SERVER'),
  CreateForeignTableStmt: create('CREATE FOREIGN TABLE'),
  CreateUserMappingStmt: create('CREATE USER MAPPING'),
  CreateAmStmt: create('CREATE ACCESS METHOD'),
  CreatePLangStmt: create('CREATE LANGUAGE'),
  CreateOpClassStmt: create('CREATE OPERATOR CLASS'),
  CreateOpFamilyStmt: create('CREATE OPERATOR FAMILY'),
  CreateStatsStmt: create('CREATE STATISTICS'),
  CreateConversionStmt: create('CREATE CONVERSION'),
  CreateCastStmt: create('CREATE CAST'),
  CreateTransformStmt: create('CREATE TRANSFORM'),
  CreatePublicationStmt: create('CREATE PUBLICATION'),
  CreateSubscriptionStmt: create('CREATE SUBSCRIPTION'),
  CreateStmt: create('CREATE TABLE'),
  IndexStmt: create('CREATE INDEX'),
  ViewStmt: create('CREATE VIEW'),
  AlterRoleStmt: { kind: 'alter', commandTag: 'ALTER ROLE' },
  AlterRoleSetStmt: { kind: 'alter', commandTag: 'ALTER ROLE' },
  AlterSeqStmt: { kind: 'alter', commandTag: 'ALTER SEQUENCE' },
  AlterFunctionStmt: { kind: 'alter', commandTag: 'ALTER FUNCTION' },
  AlterExtensionStmt: { kind: 'alter', commandTag: 'ALTER EXTENSION' },
  AlterExtensionContentsStmt: { kind: 'alter', commandTag: 'ALTER EXTENSION' },
  AlterEventTrigStmt: { kind: 'alter', commandTag: 'ALTER EVENT TRIGGER' },
  AlterPolicyStmt: { kind: 'alter', commandTag: 'ALTER POLICY' },
  AlterDatabaseStmt: { kind: 'alter', commandTag: 'ALTER DATABASE' },
  AlterDatabaseSetStmt: { kind: 'alter', commandTag: 'ALTER DATABASE' },
  AlterDatabaseRefreshCollStmt: { kind: 'alter', commandTag: 'ALTER DATABASE' },
  AlterDomainStmt: { kind: 'alter', commandTag: 'ALTER DOMAIN' },
  AlterEnumStmt: { kind: 'alter', commandTag: 'ALTER TYPE' },
  AlterTypeStmt: { kind: 'alter', commandTag: 'ALTER TYPE' },
  AlterTableSpaceOptionsStmt: { kind: 'alter', commandTag: 'ALTER TABLESPACE' },
  AlterTableMoveAllStmt: { kind: 'alter', commandTag: 'ALTER TABLE' },
  AlterFdwStmt: { kind: 'alter', commandTag: 'ALTER FOREIGN DATA WRAPPER' },
  AlterForeignServerStmt: { kind: 'alter', commandTag: 'ALTER SERVER' },
  AlterUserMappingStmt: { kind: 'alter', commandTag: 'ALTER USER MAPPING' },
  AlterOpFamilyStmt: { kind: 'alter', commandTag: 'ALTER OPERATOR FAMILY' },
  AlterCollationStmt: { kind: 'alter', commandTag: 'ALTER COLLATION' },
  AlterStatsStmt: { kind: 'alter', commandTag: 'ALTER STATISTICS' },
  AlterOperatorStmt: { kind: 'alter', commandTag: 'ALTER OPERATOR' },
  AlterTSDictionaryStmt: { kind: 'alter', commandTag: 'ALTER TEXT SEARCH DICTIONARY' },
  AlterTSConfigurationStmt: { kind: 'alter', commandTag: 'ALTER TEXT SEARCH CONFIGURATION' },
  AlterPublicationStmt: { kind: 'alter', commandTag: 'ALTER PUBLICATION' },
  AlterSubscriptionStmt: { kind: 'alter', commandTag: 'ALTER SUBSCRIPTION' },
  AlterDefaultPrivilegesStmt: { kind: 'alter', commandTag: 'ALTER DEFAULT PRIVILEGES' },
  AlterSystemStmt: { kind: 'alter_system', commandTag: 'ALTER SYSTEM' },
  DropRoleStmt: { kind: 'drop', commandTag: 'DROP ROLE' },
  DropdbStmt: { kind: 'drop', commandTag: 'DROP DATABASE' },
  DropTableSpaceStmt: { kind: 'drop', commandTag: 'DROP TABLESPACE' },
  DropUserMappingStmt: { kind: 'drop', commandTag: 'DROP USER MAPPING' },
  DropSubscriptionStmt: { kind: 'drop', commandTag: 'DROP SUBSCRIPTION' },
  DropOwnedStmt: { kind: 'drop', commandTag: 'DROP OWNED' },
  ReassignOwnedStmt: { kind: 'reassign_owned', commandTag: 'REASSIGN OWNED' },
  ImportForeignSchemaStmt: { kind: 'import_foreign_schema', commandTag: 'IMPORT FOREIGN SCHEMA' },
  SecLabelStmt: { kind: 'security_label', commandTag: 'SECURITY LABEL' },
  CommentStmt: { kind: 'comment', commandTag: 'COMMENT' },
  TruncateStmt: { kind: 'truncate', commandTag: 'TRUNCATE TABLE' },
  LockStmt: { kind: 'lock', commandTag: 'LOCK TABLE' },
  ClusterStmt: { kind: 'cluster', commandTag: 'CLUSTER' },
  ReindexStmt: { kind: 'reindex', commandTag: 'REINDEX' },
  RefreshMatViewStmt: {
    kind: 'refresh_materialized_view',
    commandTag: 'REFRESH MATERIALIZED VIEW',
  },
  CheckPointStmt: { kind: 'checkpoint', commandTag: 'CHECKPOINT' },
  LoadStmt: { kind: 'load', commandTag: 'LOAD' },
  ConstraintsSetStmt: { kind: 'set_constraints', commandTag: 'SET CONSTRAINTS' },
  ListenStmt: { kind: 'listen', commandTag: 'LISTEN' },
  UnlistenStmt: { kind: 'unlisten', commandTag: 'UNLISTEN' },
  NotifyStmt: { kind: 'notify', commandTag: 'NOTIFY' },
  VariableShowStmt: { kind: 'show', commandTag: 'SHOW' },
};

const TRANSACTION: Record<string, Classified> = {
  TRANS_STMT_BEGIN: { kind: 'begin', commandTag: 'BEGIN' },
  TRANS_STMT_START: { kind: 'begin', commandTag: 'START TRANSACTION' },
  TRANS_STMT_COMMIT: { kind: 'commit', commandTag: 'COMMIT' },
  TRANS_STMT_ROLLBACK: { kind: 'rollback', commandTag: 'ROLLBACK' },
  TRANS_STMT_SAVEPOINT: { kind: 'savepoint', commandTag: 'SAVEPOINT' },
  TRANS_STMT_RELEASE: { kind: 'release', commandTag: 'RELEASE' },
  TRANS_STMT_ROLLBACK_TO: { kind: 'rollback_to', commandTag: 'ROLLBACK' },
  TRANS_STMT_PREPARE: { kind: 'prepare_transaction', commandTag: 'PREPARE TRANSACTION' },
  TRANS_STMT_COMMIT_PREPARED: { kind: 'commit_prepared', commandTag: 'COMMIT PREPARED' },
  TRANS_STMT_ROLLBACK_PREPARED: { kind: 'rollback_prepared', commandTag: 'ROLLBACK PREPARED' },
};

/** Classifications that depend on the statement's fields. */
function variable(type: string, b: Body): Classified | undefined {
  switch (type) {
    case 'TransactionStmt':
      return TRANSACTION[String(b.kind)];
    case 'VariableSetStmt':
      return String(b.kind).startsWith('VAR_RESET')
        ? { kind: 'reset', commandTag: 'RESET' }
        : { kind: 'set', commandTag: 'SET' };
    case 'GrantStmt':
      return b.is_grant
        ? { kind: 'grant', commandTag: 'GRANT' }
        : { kind: 'revoke', commandTag: 'REVOKE' };
    case 'GrantRoleStmt':
      return b.is_grant
        ? { kind: 'grant_role', commandTag: 'GRANT ROLE' }
        : { kind: 'revoke_role', commandTag: 'REVOKE ROLE' };
    case 'VacuumStmt':
      return b.is_vacuumcmd
        ? { kind: 'vacuum', commandTag: 'VACUUM' }
        : { kind: 'analyze', commandTag: 'ANALYZE' };
    case 'DropStmt':
      return { kind: 'drop', commandTag: `DROP ${objectWords(b.removeType as string)}` };
    case 'AlterTableStmt':
      return { kind: 'alter', commandTag: `ALTER ${objectWords(b.objtype as string)}` };
    case 'RenameStmt': {
      const target =
        b.renameType === 'OBJECT_COLUMN' || b.renameType === 'OBJECT_TABCONSTRAINT'
          ? b.relationType
          : b.renameType;
      return { kind: 'alter', commandTag: `ALTER ${objectWords(target as string)}` };
    }
    case 'AlterObjectSchemaStmt':
    case 'AlterOwnerStmt':
    case 'AlterObjectDependsStmt':
      return { kind: 'alter', commandTag: `ALTER ${objectWords(b.objectType as string)}` };
    case 'DefineStmt':
      return create(`CREATE ${objectWords(b.kind as string)}`);
    case 'CreateFunctionStmt':
      return create(b.is_procedure ? 'CREATE PROCEDURE' : 'CREATE FUNCTION');
    case 'DiscardStmt':
      return { kind: 'discard', commandTag: `DISCARD ${String(b.target).replace('DISCARD_', '')}` };
    default:
      return undefined;
  }
}

/** Classifies a utility statement; undefined when the node type is not known. */
export function classifyUtility(type: string, body: Body): Classified | undefined {
  return FIXED[type] ?? variable(type, body);
}

function addRangeVar(rv: RangeVar | undefined, ctx: Ctx, op: TableOperation): void {
  if (!rv?.relname) return;
  const schema = rv.schemaname ?? relationSchema(ctx.catalog, ctx.searchPath, rv.relname);
  ctx.out.addTable(schema, rv.relname, op);
}

function addQualifiedName(names: string[], ctx: Ctx, op: TableOperation): void {
  const name = names[names.length - 1];
  if (!name) return;
  const schema =
    names.length >= 2
      ? (names[names.length - 2] as string)
      : relationSchema(ctx.catalog, ctx.searchPath, name);
  ctx.out.addTable(schema, name, op);
}

/** Records the tables a utility statement acts on. */
export function utilityTables(type: string, b: Body, ctx: Ctx): void {
  const rangeVars = (list: unknown, op: TableOperation) => {
    for (const n of (list as Node[] | undefined) ?? []) {
      addRangeVar(
        as<RangeVar>(n, 'RangeVar') ?? as<{ relation?: RangeVar }>(n, 'VacuumRelation')?.relation,
        ctx,
        op,
      );
    }
  };
  switch (type) {
    case 'CreateStmt':
    case 'CreateForeignTableStmt':
      addRangeVar(
        (b.relation ?? (b.base as Body | undefined)?.relation) as RangeVar,
        ctx,
        'create',
      );
      return;
    case 'ViewStmt':
      addRangeVar(b.view as RangeVar, ctx, 'create');
      return;
    case 'IndexStmt':
    case 'CreateTrigStmt':
    case 'RuleStmt':
      addRangeVar(b.relation as RangeVar, ctx, 'alter');
      return;
    case 'AlterTableStmt':
    case 'RenameStmt':
    case 'AlterObjectSchemaStmt':
    case 'AlterOwnerStmt': {
      // ALTER INDEX and ALTER SEQUENCE share these nodes; only relations become table facts.
      const objectType = b.objtype ?? b.objectType ?? b.relationType ?? b.renameType;
      const type = b.renameType === 'OBJECT_COLUMN' ? b.relationType : objectType;
      if (RELATION_TYPES.has(String(type))) addRangeVar(b.relation as RangeVar, ctx, 'alter');
      return;
    }
    case 'CreatePolicyStmt':
    case 'AlterPolicyStmt':
      addRangeVar(b.table as RangeVar, ctx, 'alter');
      return;
    case 'DropStmt':
      if (!RELATION_TYPES.has(String(b.removeType))) return;
      for (const obj of (b.objects as Node[] | undefined) ?? []) {
        addQualifiedName(strings(listItems(obj)), ctx, 'drop');
      }
      return;
    case 'TruncateStmt':
      rangeVars(b.relations, 'truncate');
      return;
    case 'LockStmt':
      rangeVars(b.relations, 'lock');
      return;
    case 'VacuumStmt':
      rangeVars(b.rels, 'maintain');
      return;
    case 'ClusterStmt':
    case 'ReindexStmt':
    case 'RefreshMatViewStmt':
      addRangeVar(b.relation as RangeVar, ctx, 'maintain');
      return;
    case 'GrantStmt':
      if (b.targtype === 'ACL_TARGET_OBJECT' && RELATION_TYPES.has(String(b.objtype))) {
        rangeVars(b.objects, 'grant');
      }
      return;
    case 'CommentStmt': {
      const names = strings(listItems(b.object));
      if (b.objtype === 'OBJECT_COLUMN') addQualifiedName(names.slice(0, -1), ctx, 'alter');
      else if (RELATION_TYPES.has(String(b.objtype))) addQualifiedName(names, ctx, 'alter');
      return;
    }
    default:
      return;
  }
}

/** True for statements that change the catalog, after which cached catalogs are stale. */
export function isDdl(kind: string): boolean {
  return (
    kind.startsWith('create') ||
    kind === 'alter' ||
    kind === 'drop' ||
    kind === 'import_foreign_schema' ||
    kind === 'comment'
  );
}
