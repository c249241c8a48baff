import { create } from 'zustand';

export type View = 'home' | 'workflows' | 'runs' | 'runbooks' | 'audit';
/** The connection dialogs the switcher's menu opens. */
export type ConnectionDialog = 'snapshot' | 'openSandbox' | 'token' | 'resetSandbox' | 'remove' | 'sandboxLive' | 'signIn';
export type Theme = 'dark' | 'light';

/** UI-only state: the main view, the theme and the connection dialogs. */
export interface UiState {
  view: View;
  theme: Theme;
  addConnectionOpen: boolean;
  connectionDialog: ConnectionDialog | null;
}

const THEME_KEY = 'rewind.theme';

function storedTheme(): Theme {
  try {
    return globalThis.localStorage?.getItem(THEME_KEY) === 'light' ? 'light' : 'dark';
  } catch {
    return 'dark';
  }
}

export const uiInitialState: UiState = { view: 'home', theme: 'dark', addConnectionOpen: false, connectionDialog: null };

interface UiActions {
  setView(view: View): void;
  toggleTheme(): void;
  setAddConnectionOpen(open: boolean): void;
  setConnectionDialog(dialog: ConnectionDialog | null): void;
}

export const useUi = create<UiState & UiActions>()((set, get) => ({
  ...uiInitialState,
  theme: storedTheme(),
  setView(view) {
    set({ view });
  },
  toggleTheme() {
    const theme: Theme = get().theme === 'dark' ? 'light' : 'dark';
    try {
      globalThis.localStorage?.setItem(THEME_KEY, theme);
    } catch {
      // Storage may be unavailable (private mode); the toggle still applies for this session.
    }
    set({ theme });
  },
  setAddConnectionOpen(addConnectionOpen) {
    set({ addConnectionOpen });
  },
  setConnectionDialog(connectionDialog) {
    set({ connectionDialog });
  },
}));
