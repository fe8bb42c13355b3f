import { UpdatePathServer } from './server.js';

/**
 * Client side of `updatepath`: the same rules as the server side (see the module documentation). A first
 * request from an application carries no connection at all; both sides start one then.
 */
export class UpdatePathClient extends UpdatePathServer {
  override readonly name: string = 'updatepath/client';
}

/** An `updatepath` client element for the hop whose path segment is named `name`. */
export function updatePathClient(name: string): UpdatePathClient {
  return new UpdatePathClient(name);
}
