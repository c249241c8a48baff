import type { BackendMethod } from '../../preload/contract/backend-methods.js';
import type { Engine } from '../engine/engine.js';
import type { Handler } from './handler.js';

/* The engine backend's incident-record methods (issue 22 items 4–6): records, their report and rollback plan. */

type IncidentRecordMethod = Exclude<Extract<BackendMethod, `incidents:${string}`>, 'incidents:summary'>;
type IncidentHandlers = { [M in IncidentRecordMethod]: Handler<M> };

export function incidentHandlers(engine: Engine): IncidentHandlers {
  const { incidents, incidentReports } = engine;
  return {
    'incidents:records': { apply: (i) => incidents.list(i) },
    'incidents:record': { apply: (i) => incidents.get(i.incident_id) },
    'incidents:acknowledge': { apply: (i, a) => incidents.acknowledge(i.incident_id, a) },
    'incidents:resolve': { apply: (i, a) => incidents.resolve(i.incident_id, a, i.note) },
    'incidents:report': { apply: (i) => incidentReports.report(i.incident_id) },
    'incidents:saveReport': {
      apply: async (i, a) => {
        const { incident_id, expected_revision, ...fields } = i;
        await incidents.saveReport(incident_id, a, expected_revision, fields);
        return incidentReports.report(incident_id);
      },
    },
    'incidents:rollbackPlan': { apply: (i, a) => incidentReports.plan(i.incident_id, a, i.to_version) },
  };
}
