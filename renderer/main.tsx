import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { RewindBridge } from '../preload/contract/index.js';
import { connectApi } from './api/client.js';
import { App } from './App.js';
import { useApprovals } from './store/approvals-store.js';
import { useReviews } from './store/reviews-store.js';
import { useConnections } from './store/connections-store.js';
import { useIncidents } from './store/incidents-store.js';
import { startLive } from './store/live.js';
import { restoreAfterSignIn } from './store/sign-in-store.js';
import { useRehearsal } from './store/rehearsal-store.js';
import { useWorkflows } from './store/workflows-store.js';
import './styles/theme.css';
import './styles/app.css';

const bridge = connectApi(window as Window & { rewind?: RewindBridge });
startLive(bridge);
// Browser mode, back from the identity provider: the view the page left.
restoreAfterSignIn();
void useConnections.getState().load();
void useWorkflows.getState().load();
void useIncidents.getState().load();
void useApprovals.getState().load();
void useReviews.getState().load();
void useRehearsal.getState().loadSessions();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
