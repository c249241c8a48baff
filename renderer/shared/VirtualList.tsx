import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useEffect, useRef, type KeyboardEvent, type ReactNode } from 'react';

export interface VirtualListProps<T> {
  items: readonly T[];
  /** Fixed row height: no measuring, so 10,000 rows cost what 30 do. */
  rowHeight: number;
  getKey: (item: T, index: number) => string;
  /** `active` rows put their controls in the tab order (roving tabindex); mark the main control `data-primary`. */
  renderRow: (item: T, index: number, active: boolean) => ReactNode;
  activeIndex: number;
  onActiveChange: (index: number) => void;
  onActivate?: (index: number) => void;
  /** Extra keys (e.g. Space to pick); return true when handled. */
  onRowKey?: (key: string, index: number) => boolean;
  label: string;
  testId: string;
  className?: string;
  emptyText?: string;
  /** Called with the last rendered row's index as it changes: where a paged list loads its next page. */
  onVisibleEnd?: (lastIndex: number) => void;
  /** A paged list with rows still to load: End asks for them all (`onLoadAll`), then goes to the true last row. */
  hasMore?: boolean;
  onLoadAll?: () => void;
}

/**
 * A virtualized, keyboard-driven list: j/k or arrows move, Home/End/PageUp/PageDown jump, Enter opens.
 * Only the rows in view (plus overscan) exist in the DOM.
 */
export function VirtualList<T>(p: VirtualListProps<T>) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const focusPending = useRef(false);
  const { items, getKey } = p;
  // The virtualizer rebuilds every row's measurement whenever getItemKey changes identity: a fresh
  // closure per render made each scroll frame cost O(rows) — visible at 100,000 versions.
  const getItemKey = useCallback((i: number) => getKey(items[i]!, i), [items, getKey]);
  // We do not use the React Compiler; the virtualizer is meant to be read fresh on every render.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => p.rowHeight,
    overscan: 5,
    getItemKey,
  });

  const active = Math.min(Math.max(p.activeIndex, 0), Math.max(p.items.length - 1, 0));
  const endPending = useRef(false);
  const lastVisible = virtualizer.getVirtualItems().at(-1)?.index ?? -1;
  const { onVisibleEnd } = p;
  useEffect(() => {
    if (lastVisible >= 0) onVisibleEnd?.(lastVisible);
  }, [lastVisible, onVisibleEnd]);

  useEffect(() => {
    if (!focusPending.current) return;
    // After a long jump the row exists only once the virtualizer has scrolled and rendered again.
    const target = scrollRef.current?.querySelector<HTMLElement>(`[data-index="${active}"] [data-primary]`);
    if (!target) return;
    focusPending.current = false;
    target.focus({ preventScroll: true });
  });

  const moveTo = (i: number) => {
    const next = Math.min(Math.max(i, 0), p.items.length - 1);
    if (next < 0) return;
    focusPending.current = true;
    virtualizer.scrollToIndex(next, { align: 'auto' });
    p.onActiveChange(next);
  };

  useEffect(() => {
    if (!endPending.current || p.hasMore) return;
    endPending.current = false;
    moveTo(p.items.length - 1);
  });

  const toEnd = () => {
    if (p.hasMore && p.onLoadAll) {
      endPending.current = true;
      p.onLoadAll();
      return;
    }
    moveTo(p.items.length - 1);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.target instanceof HTMLTextAreaElement) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 600) / p.rowHeight) - 1);
    const handled: Record<string, () => void> = {
      ArrowDown: () => moveTo(active + 1),
      j: () => moveTo(active + 1),
      ArrowUp: () => moveTo(active - 1),
      k: () => moveTo(active - 1),
      Home: () => moveTo(0),
      End: toEnd,
      PageDown: () => moveTo(active + page),
      PageUp: () => moveTo(active - page),
    };
    const fn = handled[e.key];
    if (fn) {
      e.preventDefault();
      fn();
      return;
    }
    if (e.key === 'Enter' && p.onActivate && (e.target as HTMLElement).hasAttribute('data-primary')) {
      e.preventDefault();
      p.onActivate(active);
      return;
    }
    if (p.onRowKey?.(e.key, active)) e.preventDefault();
  };

  if (p.items.length === 0) {
    return (
      <div className={`vlist vlist-empty ${p.className ?? ''}`} data-testid={p.testId} aria-label={p.label}>
        {p.emptyText ?? 'Nothing here.'}
      </div>
    );
  }

  return (
    <div ref={scrollRef} className={`vlist ${p.className ?? ''}`} data-testid={p.testId} onKeyDown={onKeyDown}>
      <div role="list" aria-label={p.label} className="vlist-inner" style={{ height: virtualizer.getTotalSize() }}>
        {virtualizer.getVirtualItems().map((row) => (
          <div
            key={row.key}
            role="listitem"
            data-index={row.index}
            className={row.index === active ? 'vlist-row is-active' : 'vlist-row'}
            style={{ height: p.rowHeight, transform: `translateY(${row.start}px)` }}
            onMouseDown={() => p.onActiveChange(row.index)}
          >
            {p.renderRow(p.items[row.index]!, row.index, row.index === active)}
          </div>
        ))}
      </div>
    </div>
  );
}
