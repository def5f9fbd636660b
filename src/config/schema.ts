/**
 * The whole configuration file's schema: the sections put together, defaults that depend on other
 * options (folders under `state_dir`, the approval page's URL), and checks across sections.
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { identitySchema } from './schema-identity.js';
import { httpSchema, listenSchema, loggingSchema, upstreamSchema } from './schema-network.js';
import { maskingSchema, policySchema } from './schema-policy.js';
import { approvalsSchema, auditSchema } from './schema-records.js';
import { filePath } from './units.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Builds the schema; relative paths in the file are resolved against `baseDir`. */
export function configSchema(baseDir: string) {
  return z
    .strictObject({
      state_dir: filePath(baseDir).prefault('.pgwarden'),
      instance_id: z.string().min(1).default(os.hostname()),
      listen: listenSchema(baseDir).prefault({}),
      upstream: upstreamSchema(baseDir),
      identity: identitySchema(baseDir).prefault({}),
      policy: policySchema(baseDir).prefault({}),
      masking: maskingSchema(baseDir).prefault({}),
      audit: auditSchema(baseDir).prefault({}),
      approvals: approvalsSchema(baseDir).prefault({}),
      http: httpSchema(baseDir).prefault({}),
      logging: loggingSchema.prefault({}),
    })
    .superRefine((config, ctx) => {
      // A token is the client's password: with no TLS and no loopback exception nobody could
      // ever log in, which is a mistake worth stopping at start-up.
      if (config.listen.tls === undefined && !config.listen.allow_plaintext_loopback) {
        ctx.addIssue({
          code: 'custom',
          path: ['listen', 'tls'],
          message: 'required (cert_file and key_file) unless allow_plaintext_loopback is true',
        });
      }
      // Without TLS only loopback clients may log in; a listener on another address would refuse
      // every client that can reach it.
      if (config.listen.tls === undefined && !isLoopbackHost(config.listen.host)) {
        ctx.addIssue({
          code: 'custom',
          path: ['listen', 'host'],
          message: `${config.listen.host} is not a loopback address, so listen.tls is required`,
        });
      }
      if (config.http.enabled && config.http.port !== 0 && config.listen.port !== 0) {
        const sameHost = config.http.host === config.listen.host;
        if (sameHost && config.http.port === config.listen.port) {
          ctx.addIssue({
            code: 'custom',
            path: ['http', 'port'],
            message: `${config.http.port} is already listen.port`,
          });
        }
      }
      const known = Object.keys(config.upstream.databases);
      config.audit.record_rows.databases.forEach((name, i) => {
        if (known.length > 0 && !known.includes(name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['audit', 'record_rows', 'databases', i],
            message: `"${name}" is not one of upstream.databases`,
          });
        }
      });
    })
    .transform((config) => {
      const scheme = config.http.tls === undefined ? 'http' : 'https';
      const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
      return {
        ...config,
        audit: {
          ...config.audit,
          dir: config.audit.dir ?? path.join(config.state_dir, 'audit'),
          // Created at first start when missing (see docs/configuration.md).
          signing_key_file:
            config.audit.signing_key_file ?? path.join(config.state_dir, 'audit-signing-key.json'),
        },
        approvals: {
          ...config.approvals,
          path: config.approvals.path ?? path.join(config.state_dir, 'approvals.json'),
          public_url: config.approvals.public_url ?? `${scheme}://${host}:${config.http.port}`,
        },
      };
    });
}

/** True when `host` is a loopback address, where plaintext tokens may be allowed. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

/** The validated configuration, with defaults filled in, durations in milliseconds. */
export type Config = z.output<ReturnType<typeof configSchema>>;

/** The configuration as written in the YAML file, before defaults. */
export type ConfigInput = z.input<ReturnType<typeof configSchema>>;
