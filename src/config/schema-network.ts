/**
 * Schemas of the sections about sockets: `listen` (where clients connect), `upstream` (the real
 * PostgreSQL and the vaulted account), `http` (API, page, health and metrics) and `logging`.
 */
import { z } from 'zod';
import { bytes, duration, envName, filePath, port } from './units.js';

/** Certificate and key for a TLS listener. */
function tlsServer(baseDir: string) {
  return z.strictObject({
    cert_file: filePath(baseDir),
    key_file: filePath(baseDir),
    min_version: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
  });
}

/** The `listen` section: the PostgreSQL-protocol listener clients connect to. */
export function listenSchema(baseDir: string) {
  return z.strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: port().default(6432),
    tls: tlsServer(baseDir).optional(),
    // Tokens travel as passwords; without TLS they may only cross the loopback interface.
    allow_plaintext_loopback: z.boolean().default(false),
    trusted_proxies: z.array(z.string().min(1)).default([]),
    max_message_bytes: bytes().default(64 * 1024 * 1024),
    oauthbearer: z.boolean().default(false),
    max_connections: z.number().int().min(1).default(2000),
    shutdown_grace: duration().prefault('30s'),
  });
}

/** One entry of `upstream.databases`: a name or `{ database, cardholder }`. */
const databaseEntry = z
  .union(
    [
      z.string().min(1),
      z.strictObject({
        database: z.string().min(1),
        cardholder: z.boolean().default(true),
      }),
    ],
    'expected a database name or { database, cardholder }',
  )
  .transform((entry) =>
    typeof entry === 'string' ? { database: entry, cardholder: true } : entry,
  );

/** The `upstream` section: the PostgreSQL server and the account the gateway holds. */
export function upstreamSchema(baseDir: string) {
  return z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: port().default(5432),
      user: z.string().min(1),
      password_env: envName().optional(),
      password_file: filePath(baseDir).optional(),
      databases: z.record(z.string().min(1), databaseEntry).default({}),
      tls: z
        .strictObject({
          mode: z
            .enum(['disable', 'prefer', 'require', 'verify-ca', 'verify-full'])
            .default('prefer'),
          ca_file: filePath(baseDir).optional(),
          servername: z.string().min(1).optional(),
        })
        .prefault({}),
      allow_superuser: z.boolean().default(false),
      roles: z.record(z.string().min(1), z.string().min(1)).default({}),
      connect_timeout: duration().prefault('10s'),
      probe_database: z.string().min(1).default('postgres'),
      catalog_refresh: duration().prefault('5m'),
    })
    .superRefine((u, ctx) => {
      if (u.password_env !== undefined && u.password_file !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['password_file'],
          message: 'give password_env or password_file, not both',
        });
      }
    });
}

/** The `http` section: the one express server (approvals, bundles, JWKS, health, metrics). */
export function httpSchema(baseDir: string) {
  return z.strictObject({
    enabled: z.boolean().default(true),
    host: z.string().min(1).default('127.0.0.1'),
    port: port().default(8181),
    tls: tlsServer(baseDir).optional(),
    admin_groups: z.array(z.string().min(1)).default([]),
  });
}

/** The `logging` section. */
export const loggingSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
