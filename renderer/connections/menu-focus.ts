/** The connection menu's button: where focus returns from a dialog its menu opened (the menu item is gone by then). */
export const connectionMenuButton = (): HTMLElement | null => document.querySelector<HTMLElement>('[data-testid="connection-menu"]');
