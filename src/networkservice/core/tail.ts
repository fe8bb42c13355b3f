import type { Connection } from '../../api/gen/connection.js';
import { Connection as ConnectionMessage } from '../../api/gen/connection.js';
import type { NetworkServiceRequest } from '../../api/gen/networkservice.js';
import type { NetworkServiceHandler } from './types.js';

/**
 * The end of every chain: Request returns the request's connection as it arrived here, Close does
 * nothing. A chain that is not given another `next` ends here.
 */
export const tail: NetworkServiceHandler = {
  request(request: NetworkServiceRequest): Promise<Connection> {
    return Promise.resolve(request.connection ?? ConnectionMessage.create());
  },
  close(): Promise<void> {
    return Promise.resolve();
  },
};
