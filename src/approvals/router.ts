/**
 * The approvals API and page, mounted on the gateway's HTTP server. Every `/v1` route needs a
 * bearer token (verified by the HTTP layer); the page itself loads without one and asks the
 * approver for theirs.
 */
import { Router, type Response } from 'express';
import { isPgwardenError } from '../errors.js';
import type { AuthedRequest } from '../http/server.js';
import { approvalsPage } from './page.js';
import type { Identity } from '../identity/types.js';
import type { ApprovalService } from './service.js';
import type { ApprovalRecord } from './store.js';

/** Builds the router for an approvals service. */
export function approvalsRouter(service: ApprovalService): Router {
  const router = Router();

  router.get('/approvals', (_req, res) => {
    res.type('html').send(approvalsPage());
  });

  // A request, and the grant it opened, are visible to the person who asked and to the groups
  // that may decide it; other token holders see neither the statement nor who asked.
  router.get('/v1/approvals', async (req: AuthedRequest, res) => {
    const status = typeof req.query.status === 'string' ? req.query.status : undefined;
    const all = await service.list(status);
    res.json({ approvals: all.filter((r) => mayView(r, req.identity!)) });
  });

  router.get('/v1/approvals/:id', async (req: AuthedRequest, res) => {
    const record = await service.get(String(req.params.id));
    if (record && mayView(record, req.identity!)) res.json(record);
    else res.status(404).json({ error: `no approval request ${req.params.id}` });
  });

  for (const verdict of ['approve', 'deny'] as const) {
    router.post(`/v1/approvals/:id/${verdict}`, async (req: AuthedRequest, res) => {
      const comment = typeof req.body?.comment === 'string' ? req.body.comment : '';
      try {
        res.json(await service.decide(String(req.params.id), req.identity!, verdict, comment));
      } catch (err) {
        refuse(res, err);
      }
    });
  }

  router.get('/v1/grants', async (req: AuthedRequest, res) => {
    const visible = [];
    for (const grant of await service.grants()) {
      const request = await service.get(grant.request_id);
      if (request && mayView(request, req.identity!)) visible.push(grant);
    }
    res.json({ grants: visible });
  });

  router.delete('/v1/grants/:id', async (req: AuthedRequest, res) => {
    const id = String(req.params.id);
    const grant = (await service.grants()).find((g) => g.id === id);
    const request = grant && (await service.get(grant.request_id));
    if (!request || !mayView(request, req.identity!)) {
      res.status(404).json({ error: `no live grant ${id}` });
      return;
    }
    await service.revokeGrant(id, req.identity!.subject);
    res.json({ revoked: id });
  });

  return router;
}

function refuse(res: Response, err: unknown): void {
  if (!isPgwardenError(err, 'ERR_APPROVAL')) throw err;
  const status = /no approval request/.test(err.message)
    ? 404
    : /not pending/.test(err.message)
      ? 409
      : 403;
  res.status(status).json({ error: err.message });
}

/** The requester, or a member of a group that may decide the request. */
function mayView(record: ApprovalRecord, who: Identity): boolean {
  return (
    who.subject === record.requester.subject || who.groups.some((g) => record.approvers.includes(g))
  );
}
