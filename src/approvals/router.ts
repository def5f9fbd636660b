/**
 * The approvals API and page, mounted on the gateway's HTTP server. Every `/v1` route needs a
 * bearer token (verified by the HTTP layer); the page itself loads without one and asks the
 * approver for theirs.
 */
import { Router, type Response } from 'express';
import { isPgwardenError } from '../errors.js';
import type { AuthedRequest } from '../http/server.js';
import { approvalsPage } from './page.js';
import type { ApprovalService } from './service.js';

/** Builds the router for an approvals service. */
export function approvalsRouter(service: ApprovalService): Router {
  const router = Router();

  router.get('/approvals', (_req, res) => {
    res.type('html').send(approvalsPage());
  });

  router.get('/v1/approvals', async (req, res) => {
    const status = typeof req.query.status === 'string' ? req.query.status : undefined;
    res.json({ approvals: await service.list(status) });
  });

  router.get('/v1/approvals/:id', async (req, res) => {
    const record = await service.get(req.params.id);
    if (record) res.json(record);
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

  router.get('/v1/grants', async (_req, res) => {
    res.json({ grants: await service.grants() });
  });

  router.delete('/v1/grants/:id', async (req: AuthedRequest, res) => {
    const revoked = await service.revokeGrant(String(req.params.id), req.identity!.subject);
    if (revoked) res.json({ revoked: req.params.id });
    else res.status(404).json({ error: `no live grant ${req.params.id}` });
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
