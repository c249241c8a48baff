import type { BrowserContext } from '@playwright/test';

/** A notification the page was asked to show, and its click. */
export interface ShownNotification {
  title: string;
  body: string;
  click(): void;
}

declare global {
  interface Window {
    __notifications: ShownNotification[];
  }
}

/**
 * Browser mode shows desktop notifications through the page's Notification API: replace it (before any
 * script runs) by one that records what it is asked to show, with permission granted.
 */
export async function recordNotifications(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    window.__notifications = [];
    class RecordingNotification {
      static permission = 'granted';
      static requestPermission = () => Promise.resolve('granted');
      onclick: (() => void) | null = null;
      constructor(
        readonly title: string,
        options?: { body?: string },
      ) {
        window.__notifications.push({ title, body: options?.body ?? '', click: () => this.onclick?.() });
      }
      close(): void {}
    }
    Object.defineProperty(window, 'Notification', { value: RecordingNotification, configurable: true, writable: true });
  });
}
