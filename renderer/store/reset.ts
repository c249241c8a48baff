import { approvalAnswerInitialState, useApprovalAnswer } from './approval-answer-store.js';
import { approvalsInitialState, useApprovals } from './approvals-store.js';
import { useAudit } from './audit-store.js';
import { reviewsInitialState, useReviews } from './reviews-store.js';
import { canaryInitialState, useCanary } from './canary-store.js';
import { historyInitialState, useHistory } from './history-store.js';
import { incidentsInitialState, useIncidents } from './incidents-store.js';
import { incidentRecordsInitialState, useIncidentRecords } from './incident-records-store.js';
import { inspectorInitialState, useInspector } from './inspector-store.js';
import { rollbackInitialState, useRollback } from './rollback-store.js';
import { runbooksInitialState, useRunbooks } from './runbooks-store.js';
import { runsInitialState, useRuns } from './runs-store.js';
import { scheduleInitialState, useSchedule } from './schedule-store.js';
import { timelineInitialState, useTimeline } from './timeline-store.js';
import { useUi } from './ui-store.js';
import { workflowsInitialState, useWorkflows } from './workflows-store.js';

/** After a connection switch nothing of the old server may linger: clear every data store and reload. */
export async function resetConnectionData(): Promise<void> {
  useInspector.getState().close();
  useInspector.setState(inspectorInitialState);
  useRollback.setState(rollbackInitialState);
  useTimeline.setState(timelineInitialState);
  useCanary.setState(canaryInitialState);
  useRuns.setState(runsInitialState);
  useSchedule.setState(scheduleInitialState);
  useAudit.getState().reset();
  useWorkflows.setState(workflowsInitialState);
  useRunbooks.setState(runbooksInitialState);
  useHistory.setState(historyInitialState);
  useIncidents.setState(incidentsInitialState);
  useIncidentRecords.setState(incidentRecordsInitialState);
  useApprovals.setState(approvalsInitialState);
  useReviews.setState(reviewsInitialState);
  useApprovalAnswer.setState(approvalAnswerInitialState);
  // Every connection opens on what is wrong there now.
  useUi.getState().setView('home');
  // Only what Home and the sidebar show: the incidents, the workflows, the runs waiting for approval.
  // The run list and the audit log read their newest page when they are opened.
  await Promise.all([
    useIncidents.getState().load(),
    useWorkflows.getState().load(),
    useApprovals.getState().load(),
    useReviews.getState().load(),
    useRunbooks.getState().load(),
  ]);
}
