import type { View } from '../store/ui-store.js';

/** The console's views, in the order the header and its narrow-window menu list them. */
export const VIEWS: { id: View; title: string }[] = [
  { id: 'home', title: 'Home' },
  { id: 'workflows', title: 'Workflows' },
  { id: 'runs', title: 'Runs' },
  { id: 'runbooks', title: 'Runbooks' },
  { id: 'audit', title: 'Audit log' },
];
