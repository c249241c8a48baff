// @vitest-environment happy-dom
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ApiResult, RewindBridge, SandboxSecrets, SandboxSettings } from '../../../preload/contract/index.js';
import { setApi } from '../../../renderer/api/client.js';
import { SandboxLiveDialog } from '../../../renderer/connections/SandboxLiveDialog.js';
import { useConnections } from '../../../renderer/store/connections-store.js';
import { sandboxLiveInitialState, useSandboxLive } from '../../../renderer/store/sandbox-live-store.js';
import { freshConsole } from './setup.js';

/** The sandbox's live execution and secrets panel: names only come back, a delete asks first. */

const ok = <T,>(value: T): Promise<ApiResult<T>> => Promise.resolve({ ok: true, value });

function fakeSandboxApi(bridge: RewindBridge) {
  let settings: SandboxSettings = { connection_id: 'sandbox', live_execution: false, allow_commands: false };
  const values = new Map<string, string>();
  const sent: unknown[] = [];
  const list = (): SandboxSecrets => ({ connection_id: 'sandbox', keychain: [...values.keys()].sort(), environment: ['FROM_ENV'], persistent: true });
  const sandbox = {
    ...bridge.sandbox,
    getSettings: () => ok(settings),
    setSettings: (input: { live_execution: boolean; allow_commands?: boolean }) => {
      sent.push(input);
      settings = { connection_id: 'sandbox', live_execution: input.live_execution, allow_commands: input.allow_commands ?? false };
      return ok(settings);
    },
    listSecrets: () => ok(list()),
    setSecret: (input: { name: string; value: string }) => {
      sent.push(input);
      values.set(input.name, input.value);
      return ok(list());
    },
    deleteSecret: (input: { name: string }) => {
      sent.push(input);
      values.delete(input.name);
      return ok(list());
    },
  };
  setApi({ ...bridge, sandbox } as unknown as RewindBridge);
  return { sent, values };
}

describe('SandboxLiveDialog', () => {
  let api: ReturnType<typeof fakeSandboxApi>;
  beforeEach(async () => {
    const fake = freshConsole();
    useSandboxLive.setState(sandboxLiveInitialState);
    api = fakeSandboxApi(fake.bridge);
    await act(() => useConnections.getState().load());
  });

  it('applies live execution, saves a secret showing its name only, and deletes it after a confirmation', async () => {
    render(<SandboxLiveDialog />);
    const toggle = await screen.findByTestId('sandbox-live-toggle');
    expect(screen.getByTestId('sandbox-live-apply')).toHaveProperty('disabled', true);
    expect(screen.getByTestId('sandbox-commands-toggle')).toHaveProperty('disabled', true);
    fireEvent.click(toggle);
    fireEvent.click(screen.getByTestId('sandbox-live-apply'));
    await waitFor(() => expect(api.sent).toEqual([{ connection_id: 'sandbox', live_execution: true, allow_commands: false }]));
    await waitFor(() => expect(screen.getByTestId('sandbox-live-apply')).toHaveProperty('disabled', true));

    fireEvent.change(screen.getByTestId('sandbox-secret-name'), { target: { value: 'api_token' } });
    expect((screen.getByTestId('sandbox-secret-name') as HTMLInputElement).value).toBe('API_TOKEN');
    fireEvent.change(screen.getByTestId('sandbox-secret-value'), { target: { value: 'hunter2-value' } });
    fireEvent.click(screen.getByTestId('sandbox-secret-save'));
    await screen.findByTestId('sandbox-secret-API_TOKEN');
    expect((screen.getByTestId('sandbox-secret-value') as HTMLInputElement).value).toBe('');
    expect(document.body.textContent).not.toContain('hunter2-value');
    expect(screen.getByTestId('sandbox-secrets-environment').textContent).toContain('FROM_ENV');

    fireEvent.click(screen.getByTestId('sandbox-secret-delete-API_TOKEN'));
    expect(api.values.has('API_TOKEN')).toBe(true);
    fireEvent.click(screen.getByTestId('sandbox-secret-confirm-API_TOKEN'));
    await waitFor(() => expect(screen.queryByTestId('sandbox-secret-API_TOKEN')).toBeNull());
    expect(api.values.size).toBe(0);
  });
});
