import type { Dsl } from '../../preload/contract/entities.js';
import { RewindError } from '../engine/errors.js';

/**
 * A workflow server runs programs on its machine only when its operator said so (--allow-commands).
 * Without it, a DSL holding a command node is refused where it would enter the server: create,
 * draft, clone and publish.
 */
export function refuseCommands(dsl: Dsl | undefined, what: string): void {
  const index = dsl?.nodes.findIndex((n) => n.type === 'command') ?? -1;
  if (dsl === undefined || index < 0) return;
  const node = dsl.nodes[index] as Dsl['nodes'][number];
  throw new RewindError(
    'COMMANDS_DISABLED',
    `${what}: node '${node.id}' is a command node, and this server runs no commands.`,
    'Restart the server with --allow-commands to accept command nodes, or replace the node (an http node calling a service, for example).',
    { node_id: node.id, path: `nodes.${index}` },
  );
}
