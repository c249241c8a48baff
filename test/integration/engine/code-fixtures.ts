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
