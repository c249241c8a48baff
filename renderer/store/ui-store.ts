import { create } from 'zustand';

export type View = 'home' | 'workflows' | 'runs' | 'runbooks' | 'audit';
/** The connection dialogs the switcher's menu opens. */
export type ConnectionDialog = 'snapshot' | 'openSandbox' | 'token' | 'resetSandbox' | 'remove' | 'sandboxLive' | 'signIn';
export type Theme = 'dark' | 'light';
/** What the operator chose: a theme, or to follow the system's (the default, until a choice is made). */
export type ThemeChoice = Theme | 'system';

/** UI-only state: the main view, the theme and the connection dialogs. */
export interface UiState {
  view: View;
  /** The theme drawn now: the choice, or the system's when following it. */
  theme: Theme;
  themeChoice: ThemeChoice;
  addConnectionOpen: boolean;
  connectionDialog: ConnectionDialog | null;
}

const THEME_KEY = 'rewind.theme';

function storedChoice(): ThemeChoice {
  try {
    const v = globalThis.localStorage?.getItem(THEME_KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

/** The system's theme; dark when it states none (dark is the console's own default). */
export function systemTheme(): Theme {
  return globalThis.matchMedia?.('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

const resolve = (choice: ThemeChoice): Theme => (choice === 'system' ? systemTheme() : choice);

export const uiInitialState: UiState = { view: 'home', theme: 'dark', themeChoice: 'system', addConnectionOpen: false, connectionDialog: null };

interface UiActions {
  setView(view: View): void;
  /** Chooses the other theme than the one drawn now (a choice: the system's no longer applies). */
  toggleTheme(): void;
  setThemeChoice(choice: ThemeChoice): void;
  /** The system's theme changed: followed while the choice is 'system'. */
  systemThemeChanged(): void;
  setAddConnectionOpen(open: boolean): void;
  setConnectionDialog(dialog: ConnectionDialog | null): void;
}

export const useUi = create<UiState & UiActions>()((set, get) => ({
  ...uiInitialState,
  themeChoice: storedChoice(),
  theme: resolve(storedChoice()),
  setView(view) {
    set({ view });
  },
  toggleTheme() {
    get().setThemeChoice(get().theme === 'dark' ? 'light' : 'dark');
  },
  setThemeChoice(themeChoice) {
    try {
      if (themeChoice === 'system') globalThis.localStorage?.removeItem(THEME_KEY);
      else globalThis.localStorage?.setItem(THEME_KEY, themeChoice);
    } catch {
      // Storage may be unavailable (private mode); the choice still applies for this session.
    }
    set({ themeChoice, theme: resolve(themeChoice) });
  },
  systemThemeChanged() {
    if (get().themeChoice === 'system') set({ theme: systemTheme() });
  },
  setAddConnectionOpen(addConnectionOpen) {
    set({ addConnectionOpen });
  },
  setConnectionDialog(connectionDialog) {
    set({ connectionDialog });
  },
}));
