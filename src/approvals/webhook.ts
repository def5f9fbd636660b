/**
 * The optional webhook on each new approval request: a JSON POST a chat tool can announce,
 * retried with doubling delays. It carries the stored record, so statement text arrives with
 * card-number-like literals already masked and bound parameter values absent.
 */
import type { Logger } from '../logger.js';
import type { ApprovalRecord } from './store.js';

/** Options of {@link postWebhook}. */
export interface WebhookOptions {
  /** Retries after the first failed call; default 3. */
  retries?: number;
  /** Delay before the first retry, doubled for each further one; default 500 ms. */
  firstDelayMs?: number;
  /** Time limit of one call; default 5 s. */
  timeoutMs?: number;
  logger?: Logger;
}

/** Posts `{type: "approval.requested", request}`; resolves true once a call answers 2xx. */
export async function postWebhook(
  url: string,
  request: ApprovalRecord,
  options: WebhookOptions = {},
): Promise<boolean> {
  const { retries = 3, firstDelayMs = 500, timeoutMs = 5000, logger } = options;
  const body = JSON.stringify({ type: 'approval.requested', request });
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) {
      await new Promise((resolve) => setTimeout(resolve, firstDelayMs * 2 ** (attempt - 1)));
    }
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.body?.cancel();
      if (res.ok) return true;
    } catch {
      // Retried.
    }
  }
  logger?.warn({ request: request.id }, `approval webhook failed after ${retries} retries`);
  return false;
}
