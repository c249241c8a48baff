import { lookup } from 'node:dns/promises';
import { Agent, type Dispatcher, buildConnector, fetch as undiciFetch } from 'undici';
import { RewindError } from '../errors.js';
import { type AddressClass, classifyAddress, isMetadataName, literalAddress } from './addresses.js';

/*
 * Where http nodes and webhooks may connect. One policy, checked on the address actually dialled:
 * a connection is opened by our connector, which resolves the host itself, checks every address it
 * got, and connects to the checked one — so a name that resolves to a harmless address when looked
 * at and to the metadata service when connected to (DNS rebinding) gets nowhere. Every redirect hop
 * opens its own connection through the same connector, so it is checked the same way.
 *
 *   metadata, link-local, multicast   refused, always
 *   loopback, private ranges          allowed for http nodes (internal services);
 *                                     refused for webhooks unless the server runs with --allow-private-webhooks
 *   anything else                     allowed
 */

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export interface EgressOptions {
  /** Whether loopback and private ranges may be reached (http nodes: yes; webhooks: only with --allow-private-webhooks). */
  allowPrivate: boolean;
  /** What is connecting, for refusals: "http node" or "webhook". */
  what: string;
  /** The flag that allows private addresses, named in the hint when they are refused. */
  allowFlag?: string;
  /** Resolves a host name to every address it has (the system resolver by default). Tests inject one. */
  resolve?: (hostname: string) => Promise<ResolvedAddress[]>;
  /** Opens the connection to an address the policy allowed (undici's connector by default). Tests inject one to see what is dialled. */
  connect?: buildConnector.connector;
}

const ruleText: Record<Exclude<AddressClass, 'public'>, string> = {
  metadata: 'link-local and cloud metadata addresses are never reached (169.254.0.0/16, fe80::/10, fd00:ec2::254, metadata.google.internal)',
  reserved: 'multicast and broadcast addresses are not hosts',
  loopback: 'loopback addresses (this machine) are refused',
  private: 'private network ranges are refused',
};

/** The refusal of one connection: EGRESS_REFUSED, naming the host, the address and the rule, with the remedy. */
export function egressRefusal(options: Pick<EgressOptions, 'what' | 'allowFlag'>, host: string, address: string | null, rule: Exclude<AddressClass, 'public'>): RewindError {
  const where = address === null || address === host ? host : `${host} (${address})`;
  const hint =
    rule === 'loopback' || rule === 'private'
      ? `Point the ${options.what} at a public address${options.allowFlag ? `, or start the server with ${options.allowFlag} if it is meant to reach internal services` : ''}.`
      : rule === 'reserved'
        ? `Point the ${options.what} at one host's address.`
        : `Point the ${options.what} at the service itself; nothing Rewind sends may reach a metadata service (its answers hold cloud credentials).`;
  return new RewindError('EGRESS_REFUSED', `The ${options.what} may not connect to ${where}: ${ruleText[rule]}.`, hint, { host, address, rule });
}

/** The class of a host that is an address or a metadata name, without resolving anything; null for other names. */
export function classifyHost(hostname: string): { address: string | null; rule: AddressClass } | null {
  const literal = literalAddress(hostname);
  if (literal !== null) return { address: literal, rule: classifyAddress(literal) };
  if (isMetadataName(hostname)) return { address: null, rule: 'metadata' };
  return null;
}

function refusedClass(rule: AddressClass, allowPrivate: boolean): rule is Exclude<AddressClass, 'public'> {
  if (rule === 'public') return false;
  return !((rule === 'loopback' || rule === 'private') && allowPrivate);
}

/**
 * Checks a URL's host as far as it can be without resolving it (a literal address, a metadata name):
 * what a webhook's URL is checked with when it is added. Throws EGRESS_REFUSED.
 */
export function checkUrlHost(url: string, options: Pick<EgressOptions, 'allowPrivate' | 'what' | 'allowFlag'>): void {
  const { hostname } = new URL(url);
  const known = classifyHost(hostname);
  if (known && refusedClass(known.rule, options.allowPrivate)) throw egressRefusal(options, hostname, known.address, known.rule);
}

const systemResolve = async (hostname: string): Promise<ResolvedAddress[]> =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/**
 * Fetch through the policy. Its dispatcher keeps connections alive per origin, each one opened by
 * the checking connector; `close()` ends them.
 */
export class Egress {
  private readonly agent: Agent;
  private closing: Promise<void> | null = null;

  constructor(readonly options: EgressOptions) {
    const resolve = options.resolve ?? systemResolve;
    const open = options.connect ?? buildConnector({});
    const check = async (hostname: string): Promise<string> => {
      const known = classifyHost(hostname);
      if (known) {
        if (refusedClass(known.rule, options.allowPrivate)) throw egressRefusal(options, hostname, known.address, known.rule);
        if (known.address !== null) return known.address;
      }
      const addresses = await resolve(hostname);
      if (addresses.length === 0) throw new RewindError('EGRESS_REFUSED', `${hostname} resolved to no address.`, 'Check the host name.', { host: hostname, address: null, rule: 'unresolved' });
      // Every address the name has must pass: which one a retry would get is the resolver's choice, not ours.
      for (const { address } of addresses) {
        const rule = classifyAddress(address);
        if (refusedClass(rule, options.allowPrivate)) throw egressRefusal(options, hostname, address, rule);
      }
      return addresses[0]!.address;
    };
    this.agent = new Agent({
      connect: (opts, callback) => {
        check(opts.hostname).then(
          (address) => open({ ...opts, hostname: address }, callback),
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), null),
        );
      },
    });
  }

  /** undici's fetch over the checking dispatcher; a refused connection rejects with a TypeError whose cause is the EGRESS_REFUSED error. */
  fetch(url: string, init: Omit<NonNullable<Parameters<typeof undiciFetch>[1]>, 'dispatcher'>): ReturnType<typeof undiciFetch> {
    return undiciFetch(url, { ...init, dispatcher: this.agent as Dispatcher });
  }

  /** Ends its kept-alive connections; once, however often it is called. */
  close(): Promise<void> {
    return (this.closing ??= this.agent.close());
  }
}

/** The egress refusal behind a failed fetch, if that is why it failed. */
export function refusalOf(err: unknown): RewindError | null {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth += 1) {
    if (e instanceof RewindError && e.code === 'EGRESS_REFUSED') return e;
  }
  return null;
}
