/**
 * From verified claims to what the policy sees: claim paths (`realm_access.roles`), templates
 * (`repo:{repository}:ref:{ref}`), required claim values and group mapping. Shared by OIDC
 * (JWT claims) and SAML (attributes).
 */
import { AuthError, authFailed } from './errors.js';
import type { RequiredValue } from './options.js';

/**
 * Reads a dotted path from a claims object. Keys may themselves contain dots (Kubernetes puts
 * its claims under `kubernetes.io`, SAML attribute names are URIs), so at each level the longest
 * key that matches a prefix of the remaining path wins.
 */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  return lookup(claims, path.split('.'));
}

function lookup(value: unknown, parts: string[]): unknown {
  if (parts.length === 0) return value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  for (let take = parts.length; take >= 1; take--) {
    const key = parts.slice(0, take).join('.');
    if (!Object.hasOwn(value, key)) continue;
    const found = lookup((value as Record<string, unknown>)[key], parts.slice(take));
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A scalar claim as text; objects and arrays have no single text form, so give undefined. */
function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

const PLACEHOLDER = /\{([^{}]+)\}/g;

/**
 * Renders `template`, replacing each `{path}` by the claim's text. Returns the name of the first
 * missing (or non-scalar) claim instead, so the caller decides whether that is fatal.
 */
export function renderTemplate(
  template: string,
  claims: Record<string, unknown>,
): { value: string } | { missing: string } {
  let missing: string | undefined;
  const value = template.replace(PLACEHOLDER, (_match, path: string) => {
    const text = scalarText(claimAt(claims, path.trim()));
    if (text === undefined || text === '') missing ??= path.trim();
    return text ?? '';
  });
  return missing === undefined ? { value } : { missing };
}

/**
 * Checks required claim values. A claim holding a list passes when one of its elements is
 * accepted (so `groups: admins` matches `groups: ["admins", "dev"]`). Throws ERR_AUTH_FAILED
 * (SQLSTATE 28000: the credential is genuine but not allowed here).
 */
export function checkRequired(
  claims: Record<string, unknown>,
  required: Record<string, RequiredValue> | undefined,
  what = 'claim',
): void {
  for (const [path, accepted] of Object.entries(required ?? {})) {
    const allowed = (Array.isArray(accepted) ? accepted : [accepted]).map(String);
    const value = claimAt(claims, path);
    const present = (Array.isArray(value) ? value : [value]).map(scalarText);
    if (!present.some((text) => text !== undefined && allowed.includes(text))) {
      const message =
        value === undefined
          ? `required ${what} "${path}" is missing`
          : `${what} "${path}" does not have an accepted value`;
      throw new AuthError('ERR_AUTH_FAILED', 'claims', message, { sqlstate: '28000' });
    }
  }
}

/** Renders the subject; a template naming a missing claim is a refusal, never an empty subject. */
export function mapSubject(template: string, claims: Record<string, unknown>): string {
  const rendered = renderTemplate(template, claims);
  if ('missing' in rendered) {
    throw authFailed('claims', `subject template needs claim "${rendered.missing}"`);
  }
  return rendered.value;
}

/**
 * Groups from a claim holding a list (or a single string, or a space/comma separated string as
 * some providers send) plus templates over claims; templates with a missing claim are skipped.
 */
export function mapGroups(
  claims: Record<string, unknown>,
  groupsClaim: string | undefined,
  templates: string[] | undefined,
): string[] {
  const groups = new Set<string>();
  if (groupsClaim !== undefined) {
    const value = claimAt(claims, groupsClaim);
    const items = Array.isArray(value)
      ? value
      : typeof value === 'string'
        ? value.split(/[\s,]+/)
        : [];
    for (const item of items) {
      const text = scalarText(item);
      if (text) groups.add(text);
    }
  }
  for (const template of templates ?? []) {
    const rendered = renderTemplate(template, claims);
    if ('value' in rendered) groups.add(rendered.value);
  }
  return [...groups];
}
