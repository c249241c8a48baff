import { BlockList, isIP, isIPv4 } from 'node:net';

/*
 * What an address is, for the egress policy (OWASP's SSRF cheat sheet: deny link-local and cloud
 * metadata; decide on the address actually connected to, never on the name). Every spelling of an
 * IPv4 address — decimal, hex, octal, shorthand — reaches us already normalised by the WHATWG URL
 * parser (`http://0xa9fea9fe/` has hostname 169.254.169.254); IPv6 forms that carry an IPv4 address
 * (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`) are judged by the IPv4 address inside.
 */

/**
 * metadata: link-local and cloud metadata services (169.254.0.0/16, fe80::/10, fd00:ec2::254, the
 * metadata host names) — never reachable. reserved: not a unicast host (multicast, broadcast) —
 * never reachable. loopback and private: this machine and internal networks — an operator's own
 * services, reachable by http nodes, by webhooks only when allowed. public: everything else.
 */
export type AddressClass = 'metadata' | 'reserved' | 'loopback' | 'private' | 'public';

function list(entries: Array<[string, number, 'ipv4' | 'ipv6']>): BlockList {
  const b = new BlockList();
  for (const [net, prefix, family] of entries) b.addSubnet(net, prefix, family);
  return b;
}

const METADATA = list([
  ['169.254.0.0', 16, 'ipv4'],
  ['fe80::', 10, 'ipv6'],
  ['fd00:ec2::254', 128, 'ipv6'],
]);
const RESERVED = list([
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['ff00::', 8, 'ipv6'],
]);
const LOOPBACK = list([
  // 0.0.0.0/8 and :: reach this machine when connected to.
  ['127.0.0.0', 8, 'ipv4'],
  ['0.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
  ['::', 128, 'ipv6'],
]);
const PRIVATE = list([
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['fc00::', 7, 'ipv6'],
]);

/** Host names that are cloud metadata services whatever they resolve to. */
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal']);

/** The IPv4 address an IPv6 address carries (IPv4-mapped, NAT64's well-known prefix), if any. */
export function embeddedIPv4(address: string): string | null {
  const lower = address.toLowerCase();
  const mapped = /^(?:0{0,4}:){0,4}:?(?:0{0,4}:)?ffff:(.+)$/.exec(lower) ?? /^64:ff9b::(.+)$/.exec(lower);
  if (!mapped) return null;
  const tail = mapped[1]!;
  if (isIPv4(tail)) return tail;
  const groups = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(tail);
  if (!groups) return null;
  const hi = parseInt(groups[1]!, 16);
  const lo = parseInt(groups[2]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** The class of an IP address (v4 or v6, without brackets). */
export function classifyAddress(address: string): AddressClass {
  const v4 = isIPv4(address) ? address : embeddedIPv4(address);
  const [addr, family] = v4 ? ([v4, 'ipv4'] as const) : ([address, 'ipv6'] as const);
  if (METADATA.check(addr, family)) return 'metadata';
  if (RESERVED.check(addr, family) || addr === '255.255.255.255') return 'reserved';
  if (LOOPBACK.check(addr, family)) return 'loopback';
  if (PRIVATE.check(addr, family)) return 'private';
  return 'public';
}

/** Whether a host name (not an address) names a metadata service; a trailing dot and case do not matter. */
export function isMetadataName(hostname: string): boolean {
  return METADATA_NAMES.has(hostname.toLowerCase().replace(/\.$/, ''));
}

/** A URL's host as an address when it is one (IPv6 without brackets), else null. */
export function literalAddress(hostname: string): string | null {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) ? bare : null;
}
