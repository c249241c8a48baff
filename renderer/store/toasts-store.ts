import { create } from 'zustand';

export interface Toast {
  id: number;
  kind: 'info' | 'warning' | 'error' | 'success';
  title: string;
  body: string;
  /** One thing to do about it while it shows (Undo). */
  action?: { label: string; run: () => void; /** Where the operator goes on from, once the toast and its button are gone. */ focusAfter?: string };
}

export interface ToastsState {
  toasts: Toast[];
}

export const toastsInitialState: ToastsState = { toasts: [] };

/** Long enough to read two lines in the middle of an incident. */
export const TOAST_MS = 8000;
const MAX_TOASTS = 5;

interface ToastsActions {
  push(toast: Omit<Toast, 'id'>): number;
  dismiss(id: number): void;
}

let nextId = 1;

export const useToasts = create<ToastsState & ToastsActions>()((set, get) => ({
  ...toastsInitialState,
  push(toast) {
    const id = nextId++;
    set({ toasts: [...get().toasts, { ...toast, id }].slice(-MAX_TOASTS) });
    setTimeout(() => get().dismiss(id), TOAST_MS);
    return id;
  },
  dismiss(id) {
    set({ toasts: get().toasts.filter((t) => t.id !== id) });
  },
}));
