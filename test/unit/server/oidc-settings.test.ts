import { describe, expect, it } from 'vitest';
import { oidcSettingsFrom } from '../../../main/server/auth/oidc-flags.js';
import { groupsOf, looksLikeJwt, personOf } from '../../../main/server/auth/oidc-verifier.js';
import { groupsGiving, parseRoleMapping, roleFor } from '../../../main/server/auth/role-mapping.js';

describe('--oidc-roles', () => {
  const mapping = parseRoleMapping('admin=platform, sre ; operator=oncall;viewer=*');

  it('parses roles to groups, * being anyone signed in', () => {
    expect(mapping).toEqual({ admin: ['platform', 'sre'], operator: ['oncall'], viewer: ['*'] });
  });

  it('gives the highest role any of the groups matches', () => {
    expect(roleFor(['oncall', 'sre'], mapping)).toBe('admin');
    expect(roleFor(['oncall'], mapping)).toBe('operator');
    expect(roleFor([], mapping)).toBe('viewer');
    expect(roleFor(['sales'], parseRoleMapping('operator=oncall'))).toBeNull();
  });

  it('names the groups that give a role or more', () => {
    expect(groupsGiving('operator', mapping)).toEqual(['platform', 'sre', 'oncall']);
  });

  it('refuses what it cannot read, naming the part', () => {
    expect(() => parseRoleMapping('')).toThrow(/maps no group/);
    expect(() => parseRoleMapping('root=wheel')).toThrow(/"root" is not a role/);
    expect(() => parseRoleMapping('admin=')).toThrow(/admin has no group/);
    expect(() => parseRoleMapping('admin=a;admin=b')).toThrow(/names admin twice/);
  });
});

describe('the server sign-in flags', () => {
  const env = {};
  it('are off without an issuer, and refuse other --oidc-* settings alone', () => {
    expect(oidcSettingsFrom({}, env)).toBeNull();
    expect(() => oidcSettingsFrom({ 'oidc-client-id': 'rewind' }, env)).toThrow(/--oidc-issuer is not/);
  });

  it('read flags, else the environment; the audience defaults to the client id, the groups claim to groups', () => {
    const settings = oidcSettingsFrom({ 'oidc-issuer': 'https://id.example/realms/ops' }, { REWIND_OIDC_CLIENT_ID: 'rewind', REWIND_OIDC_ROLES: 'viewer=*' });
    expect(settings).toMatchObject({ issuer: 'https://id.example/realms/ops', clientId: 'rewind', audience: 'rewind', groupsClaim: 'groups', scopes: null });
    const flagWins = oidcSettingsFrom({ 'oidc-issuer': 'https://id.example', 'oidc-client-id': 'cli', 'oidc-roles': 'admin=a' }, { REWIND_OIDC_CLIENT_ID: 'env', REWIND_OIDC_AUDIENCE: 'api://rewind' });
    expect(flagWins).toMatchObject({ clientId: 'cli', audience: 'api://rewind' });
  });

  it('need a client id and roles, https (http on loopback only), and openid among the scopes', () => {
    expect(() => oidcSettingsFrom({ 'oidc-issuer': 'https://id.example', 'oidc-roles': 'viewer=*' }, env)).toThrow(/needs --oidc-client-id/);
    expect(() => oidcSettingsFrom({ 'oidc-issuer': 'https://id.example', 'oidc-client-id': 'r' }, env)).toThrow(/needs --oidc-roles/);
    expect(() => oidcSettingsFrom({ 'oidc-issuer': 'http://id.example', 'oidc-client-id': 'r', 'oidc-roles': 'viewer=*' }, env)).toThrow(/not https/);
    expect(oidcSettingsFrom({ 'oidc-issuer': 'http://127.0.0.1:5556/dex', 'oidc-client-id': 'r', 'oidc-roles': 'viewer=*' }, env)?.issuer).toBe('http://127.0.0.1:5556/dex');
    expect(() => oidcSettingsFrom({ 'oidc-issuer': 'https://id.example', 'oidc-client-id': 'r', 'oidc-roles': 'viewer=*', 'oidc-scopes': 'email groups' }, env)).toThrow(/must include openid/);
  });
});

describe('claims', () => {
  it('read groups from a claim or a dotted path, as a list or one string', () => {
    expect(groupsOf({ groups: ['a', 3, 'b'] }, 'groups')).toEqual(['a', 'b']);
    expect(groupsOf({ realm_access: { roles: ['ops'] } }, 'realm_access.roles')).toEqual(['ops']);
    expect(groupsOf({ groups: 'ops' }, 'groups')).toEqual(['ops']);
    expect(groupsOf({}, 'groups')).toEqual([]);
  });

  it('name the person by verified email, else preferred_username, else sub', () => {
    expect(personOf({ sub: 's', email: 'a@x', preferred_username: 'a' })).toBe('a@x');
    expect(personOf({ sub: 's', email: 'a@x', email_verified: false, preferred_username: 'a' })).toBe('a');
    expect(personOf({ sub: 's' })).toBe('s');
  });

  it('tell a JWT from an API token by its shape', () => {
    expect(looksLikeJwt('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln')).toBe(true);
    expect(looksLikeJwt('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.')).toBe(true);
    expect(looksLikeJwt('rwt_abcdefghijklmnopqrstuvwxyz0123456789')).toBe(false);
    expect(looksLikeJwt('a.b.c')).toBe(false);
  });
});
