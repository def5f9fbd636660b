/**
 * Retention of the file sink: when a new file opens (start or rotation), files of this
 * instance's chain whose last write is older than `audit.retention_days` are removed, oldest
 * first and never the file being written. Before anything is removed the trail writes and syncs
 * a `retention` checkpoint naming the files and the last sequence number they held, so the
 * chain itself records where its kept part begins and a verifier can tell a retention cut from
 * a deletion.
 */
import { open, stat, unlink } from 'node:fs/promises';
import type { Logger } from '../logger.js';
import { fileInstance, listChains } from './files.js';
import type { AuditTrail } from './trail.js';

/** What a retention pass removed. */
export interface RetentionResult {
  removed: string[];
  /** Last sequence number of the removed files, or null when nothing was removed. */
  throughSeq: number | null;
}

/** Removes expired files of `instance`'s chain in `dir`; see the file comment. */
export async function applyRetention(
  trail: AuditTrail,
  options: { dir: string; instance: string; days: number; logger: Logger; now?: number },
): Promise<RetentionResult> {
  const cutoff = (options.now ?? Date.now()) - options.days * 86_400_000;
  const files = (await listChains(options.dir)).get(fileInstance(options.instance)) ?? [];
  const current = trail.stats().file;
  const expired = [];
  // Only a prefix of the chain goes: a file is removed only with every file before it.
  for (let i = 0; i + 1 < files.length; i++) {
    const file = files[i]!;
    if (file.name === current) break;
    const info = await stat(file.path);
    if (info.mtimeMs >= cutoff) break;
    expired.push({ ...file, next: files[i + 1]! });
  }
  if (expired.length === 0) return { removed: [], throughSeq: null };
  const last = expired[expired.length - 1]!;
  const removed = expired.map((f) => f.name);
  const throughSeq = last.next.firstSeq - 1;
  await trail.note('retention', {
    removed,
    removed_through_seq: throughSeq,
    retention_days: options.days,
  });
  for (const file of expired) await unlink(file.path);
  const handle = await open(options.dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  options.logger.info({ removed, through_seq: throughSeq }, 'audit retention removed files');
  return { removed, throughSeq };
}
