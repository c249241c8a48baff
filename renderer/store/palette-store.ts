import { create } from 'zustand';

export interface PaletteState {
  open: boolean;
  query: string;
  activeIndex: number;
}

export const paletteInitialState: PaletteState = { open: false, query: '', activeIndex: 0 };

interface PaletteActions {
  show(): void;
  hide(): void;
  setQuery(query: string): void;
  move(delta: number, count: number): void;
}

export const usePalette = create<PaletteState & PaletteActions>()((set, get) => ({
  ...paletteInitialState,
  show() {
    set({ open: true, query: '', activeIndex: 0 });
  },
  hide() {
    set(paletteInitialState);
  },
  setQuery(query) {
    set({ query, activeIndex: 0 });
  },
  move(delta, count) {
    if (count === 0) return;
    set({ activeIndex: (get().activeIndex + delta + count) % count });
  },
}));
