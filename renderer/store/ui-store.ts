import { create } from 'zustand';

export type View = 'workflows' | 'runs' | 'audit';
export type Theme = 'dark' | 'light';

/** UI-only state: the main view, the theme and the add-connection dialog. */
export interface UiState {
  view: View;
  theme: Theme;
  addConnectionOpen: boolean;
}

const THEME_KEY = 'rewind.theme';

function storedTheme(): Theme {
  try {
    return globalThis.localStorage?.getItem(THEME_KEY) === 'light' ? 'light' : 'dark';
  } catch {
    return 'dark';
  }
}

export const uiInitialState: UiState = { view: 'workflows', theme: 'dark', addConnectionOpen: false };

interface UiActions {
  setView(view: View): void;
  toggleTheme(): void;
  setAddConnectionOpen(open: boolean): void;
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
}));
