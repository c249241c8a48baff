/** A code-folder workflow file (YAML): a judgment on the defect rate, its threshold and schedule as given. */
export const yamlFile = (name: string, threshold: number, schedule = '0 2 * * *') => `name: ${name}
description: Judges the defect rate
schedule: "${schedule}"
dsl:
  defaults:
    defect_rate: 0.02
  nodes:
    - id: load
      type: task
      params: { duration_ms: 10 }
      next: [judge]
    - id: judge
      type: judgment
      params:
        rules:
          - { field: defect_rate, op: ">", value: ${threshold}, outcome: warning }
        default: pass
      next: []
`;

/**
 * A "billion laughs" workflow file: nine levels of nine aliases each, about 387 million strings once
 * expanded, in a few hundred bytes. The yaml package refuses to expand it (maxAliasCount).
 */
export const aliasBomb = (name: string): string => {
  let text = `name: ${name}\nlol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n`;
  for (let i = 1; i <= 8; i += 1) text += `lol${i}: &l${i} [${Array.from({ length: 9 }, () => `*l${i - 1}`).join(', ')}]\n`;
  return `${text}dsl: *l8\n`;
};
