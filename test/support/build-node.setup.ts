import { buildNode } from '../../scripts/build-node.mjs';

/**
 * Tests run the bins as users do, and the bins run the compiled entries: compile them once per test
 * run (esbuild, about a second), so no test exercises an out/node older than the sources.
 */
export default async function setup(): Promise<void> {
  await buildNode();
}
