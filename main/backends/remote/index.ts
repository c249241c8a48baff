export { RemoteBackend, openRemote, type RemoteOptions, type Identity } from './remote-backend.js';
