import { RemoteBackend } from '../../backends/remote/index.js';
import type { CreateRemote } from './connection-manager.js';

/** The real `createRemote`: a workflow server's HTTP + WebSocket client. It connects lazily; its subscription reports the state. */
export const createRemoteBackend: CreateRemote = ({ url, token }) => new RemoteBackend({ url, token });
