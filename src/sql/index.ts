/**
 * Statement analysis: PostgreSQL's own parser turns each statement into the facts policy,
 * masking and audit use (kind, tables, columns, functions, COPY, output lineage).
 */
export { createAnalyzer, type AnalyzerOptions, type CatalogAnalyzer } from './analyzer.js';
export { analyzeStatements, clearAnalysisCache } from './analyze.js';
export {
  buildCatalog,
  loadCatalog,
  qualifiedColumn,
  type CatalogRelation,
  type CatalogSnapshot,
  type RelationSpec,
} from './catalog.js';
export type * from './types.js';
