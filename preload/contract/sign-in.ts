import { z } from 'zod';

/*
 * How a workflow server lets people in: `GET /api/v1/auth` (no token) answers this, and the console
 * and CLI read it before they offer a sign-in. API tokens (automation) always work; OpenID Connect is
 * there when the server was started with --oidc-issuer.
 */

export const authMethodSchema = z.enum(['token', 'oidc']);
export type AuthMethod = z.infer<typeof authMethodSchema>;

export const oidcDiscoverySchema = z.object({
  /** The identity provider (its discovery document is at ISSUER/.well-known/openid-configuration). */
  issuer: z.string(),
  /** The public client the console and the CLI sign in as (PKCE, no secret). */
  client_id: z.string(),
  /** What they ask the provider for (the groups scope when the provider has one, refresh tokens). */
  scopes: z.array(z.string()),
  /**
   * The `aud` the server accepts (`--oidc-audience`, by default the client id): a client sends the
   * token that carries it — the ID token by default, else a JWT access token minted for this audience.
   */
  audience: z.string(),
});
export type OidcDiscovery = z.infer<typeof oidcDiscoverySchema>;

export const authDiscoverySchema = z.object({
  methods: z.array(authMethodSchema).min(1),
  /** Present when `methods` has `oidc`. */
  oidc: oidcDiscoverySchema.optional(),
});
export type AuthDiscovery = z.infer<typeof authDiscoverySchema>;

/** How a connection or a CLI session is signed in. */
export const signedInViaSchema = z.enum(['token', 'oidc']);
