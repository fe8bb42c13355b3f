import {
  endpointChain,
  kernelMechanismServer,
  mechanismsServer,
  MechanismType,
  point2pointServer,
  serveEndpoint,
  type NetworkServiceServer,
} from 'nsm-sdk';

// An element of your own: it sees every Request and Close, and the rest of the chain as `next`.
const audit: NetworkServiceServer = {
  name: 'audit',
  async request(request, ctx, next) {
    const conn = await next.request(request, ctx);
    ctx.logger.info(`connected ${conn.id} to ${conn.networkService}`);
    return conn;
  },
  close: (connection, ctx, next) => next.close(connection, ctx),
};

// The common endpoint chain (path, tokens, lifecycle) followed by what this endpoint does.
export const myEndpoint = endpointChain({
  name: 'my-endpoint',
  additionalFunctionality: [
    audit,
    point2pointServer(['10.60.0.0/24']),
    mechanismsServer({ [MechanismType.KERNEL]: kernelMechanismServer() }),
  ],
});

// Serve it; `stop()` closes every connection it holds, then stops listening.
export async function startMyEndpoint(listenOn = 'unix:///tmp/my-endpoint.sock') {
  return serveEndpoint(listenOn, myEndpoint);
}
