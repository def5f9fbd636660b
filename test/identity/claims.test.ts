// Claim paths, templates, required values and group mapping, as the policy will see them.
import { describe, expect, it } from 'vitest';
import {
  checkRequired,
  claimAt,
  mapGroups,
  mapSubject,
  renderTemplate,
} from '../../src/identity/claims.js';

const keycloak = {
  sub: 'f1c2',
  azp: 'etl',
  realm_access: { roles: ['etl', 'offline_access'] },
  'http://schemas.example/role': 'auditor',
  run_number: 7,
  ref_protected: true,
};

describe('claims', () => {
  it('reads dotted paths and keys that contain dots', () => {
    expect(claimAt(keycloak, 'realm_access.roles')).toEqual(['etl', 'offline_access']);
    expect(claimAt(keycloak, 'http://schemas.example/role')).toBe('auditor');
    expect(claimAt(keycloak, 'realm_access.missing')).toBeUndefined();
    expect(claimAt(keycloak, 'toString')).toBeUndefined();
    const kubernetes = {
      sub: 'system:serviceaccount:etl:nightly',
      'kubernetes.io': { namespace: 'etl', serviceaccount: { name: 'nightly' } },
    };
    expect(claimAt(kubernetes, 'kubernetes.io.namespace')).toBe('etl');
    expect(mapSubject('k8s:{kubernetes.io.serviceaccount.name}', kubernetes)).toBe('k8s:nightly');
  });

  it('renders templates and names the first missing claim', () => {
    expect(renderTemplate('{azp}#{run_number}', keycloak)).toEqual({ value: 'etl#7' });
    expect(renderTemplate('{azp}:{environment}', keycloak)).toEqual({ missing: 'environment' });
    // A list has no single text form: treated as missing, never as "a,b".
    expect(renderTemplate('{realm_access.roles}', keycloak)).toEqual({
      missing: 'realm_access.roles',
    });
    expect(() => mapSubject('kc:{preferred_username}', keycloak)).toThrow(
      expect.objectContaining({ code: 'ERR_AUTH_FAILED', reason: 'claims' }),
    );
  });

  it('maps groups from lists, single strings, space-separated scopes and templates', () => {
    expect(mapGroups(keycloak, 'realm_access.roles', ['client:{azp}', 'x:{nope}'])).toEqual([
      'etl',
      'offline_access',
      'client:etl',
    ]);
    expect(mapGroups({ scp: 'read write' }, 'scp', [])).toEqual(['read', 'write']);
    expect(mapGroups({ roles: 'Dba' }, 'roles', undefined)).toEqual(['Dba']);
    expect(mapGroups({}, 'groups', undefined)).toEqual([]);
  });

  it('checks required values as text, lists matching any element', () => {
    expect(() =>
      checkRequired(keycloak, {
        azp: ['etl', 'batch'],
        run_number: 7,
        ref_protected: true,
        'realm_access.roles': 'etl',
      }),
    ).not.toThrow();
    expect(() => checkRequired(keycloak, { azp: 'web' })).toThrow(
      expect.objectContaining({ reason: 'claims', sqlstate: '28000' }),
    );
    expect(() => checkRequired(keycloak, { environment: 'prod' })).toThrow(/missing/);
  });
});
