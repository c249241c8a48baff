import { cleanup } from '@testing-library/react';
import { setApi } from '../../../renderer/api/client.js';
import { approvalAnswerInitialState, useApprovalAnswer } from '../../../renderer/store/approval-answer-store.js';
import { approvalsInitialState, useApprovals } from '../../../renderer/store/approvals-store.js';
import { auditInitialState, useAudit } from '../../../renderer/store/audit-store.js';
import { connectionsInitialState, useConnections } from '../../../renderer/store/connections-store.js';
import { historyInitialState, useHistory } from '../../../renderer/store/history-store.js';
import { incidentsInitialState, useIncidents } from '../../../renderer/store/incidents-store.js';
import { inspectorInitialState, useInspector } from '../../../renderer/store/inspector-store.js';
import { paletteInitialState, usePalette } from '../../../renderer/store/palette-store.js';
import { rehearsalInitialState, useRehearsal } from '../../../renderer/store/rehearsal-store.js';
import { rollbackInitialState, useRollback } from '../../../renderer/store/rollback-store.js';
import { runParamsInitialState, useRunParams } from '../../../renderer/runs/run-params-store.js';
import { runbooksInitialState, useRunbooks } from '../../../renderer/store/runbooks-store.js';
import { runsInitialState, useRuns } from '../../../renderer/store/runs-store.js';
import { snapshotInitialState, useSnapshot } from '../../../renderer/store/snapshot-store.js';
import { timelineInitialState, useTimeline } from '../../../renderer/store/timeline-store.js';
import { toastsInitialState, useToasts } from '../../../renderer/store/toasts-store.js';
import { uiInitialState, useUi } from '../../../renderer/store/ui-store.js';
import { workflowsInitialState, useWorkflows } from '../../../renderer/store/workflows-store.js';
import { FakeBridge } from './fake-bridge.js';

/** A fresh fake API and every store back to its exported initial state. */
export function freshConsole(): FakeBridge {
  cleanup();
  useInspector.getState().close();
  useConnections.setState(connectionsInitialState);
  useWorkflows.setState(workflowsInitialState);
  useTimeline.setState(timelineInitialState);
  useRuns.setState(runsInitialState);
  useInspector.setState(inspectorInitialState);
  useRollback.setState(rollbackInitialState);
  useRunParams.setState(runParamsInitialState);
  useAudit.setState(auditInitialState);
  useToasts.setState(toastsInitialState);
  usePalette.setState(paletteInitialState);
  useUi.setState(uiInitialState);
  useRunbooks.setState(runbooksInitialState);
  useHistory.setState(historyInitialState);
  useIncidents.setState(incidentsInitialState);
  useApprovals.setState(approvalsInitialState);
  useApprovalAnswer.setState(approvalAnswerInitialState);
  useRehearsal.setState(rehearsalInitialState);
  useSnapshot.setState(snapshotInitialState);
  const fake = new FakeBridge();
  setApi(fake.bridge);
  return fake;
}
