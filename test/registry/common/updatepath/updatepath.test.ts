import { expect } from 'chai';
import { Metadata } from '@grpc/grpc-js';
import { NetworkServiceEndpoint, type NetworkServiceEndpointQuery } from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { registryChain } from '../../../../src/registry/core/chain.js';
import { NSE_KIND } from '../../../../src/registry/core/kind.js';
import { withRegistryPath, type RegistryPath } from '../../../../src/registry/common/grpcmetadata/index.js';
import {
  advanceRegistryPath,
  subjectOf,
  tokenExpiryFrom,
  updatePathRegistryServer,
} from '../../../../src/registry/common/updatepath/index.js';
import { INCOMING_METADATA } from '../../../../src/tools/grpc/keys.js';
import { createUnsignedTokenGenerator } from '../../../../src/tools/token/jwt.js';
import { writeTokenMetadata } from '../../../../src/tools/token/metadata.js';

type NSE = NetworkServiceEndpoint;

const generator = (name: string) =>
  createUnsignedTokenGenerator({ subject: `spiffe://test.local/${name}`, lifetimeMs: 60_000 });

describe('registry updatepath', function () {
  it('advances a path as upstream does: first call, next hop, refresh', function () {
    const path: RegistryPath = { index: 0, segments: [] };
    expect(advanceRegistryPath(path, 'client', 'r1')).to.equal(0);
    expect(path).to.deep.equal({ index: 1, segments: [{ token: 'client' }, { token: 'r1' }] });
    // The next registry along: the path comes with index 1 (the previous hop's own index).
    expect(advanceRegistryPath(path, 'r1b', 'r2')).to.equal(1);
    expect(path).to.deep.equal({ index: 2, segments: [{ token: 'client' }, { token: 'r1b' }, { token: 'r2' }] });
    // A refresh at the first registry: its segment exists, tokens are renewed.
    path.index = 0;
    expect(advanceRegistryPath(path, 'client2', 'r1c')).to.equal(0);
    expect(path.segments.map((s) => s.token)).to.deep.equal(['client2', 'r1c', 'r2']);
    expect(() => advanceRegistryPath({ index: 3, segments: [{ token: '' }] }, '', '')).to.throw(/index 3/);
  });

  it('records the SPIFFE ids of the caller and this hop in path_ids and passes the token expiry on', async function () {
    const peer = await generator('nse')(undefined);
    const incoming = new Metadata();
    writeTokenMetadata(incoming, peer.token, peer.expires);
    const path: RegistryPath = { index: 0, segments: [] };
    const ctx = withRegistryPath(ChainContext.background(), path).withValue(INCOMING_METADATA, incoming);
    let expiry: number | undefined;
    const chain = registryChain<NSE, NetworkServiceEndpointQuery>(updatePathRegistryServer(NSE_KIND, generator('registry')), {
      register: (item, c) => {
        expiry = tokenExpiryFrom(c);
        return Promise.resolve(item);
      },
      find: () => {
        throw new Error('unused');
      },
      unregister: () => Promise.resolve(),
    });
    const result = await chain.register(NetworkServiceEndpoint.create({ name: 'n' }), ctx);
    expect(result.pathIds).to.deep.equal(['spiffe://test.local/nse', 'spiffe://test.local/registry']);
    expect(path.index).to.equal(0);
    expect(path.segments[0]?.token).to.equal(peer.token);
    expect(subjectOf(path.segments[1]?.token ?? '')).to.equal('spiffe://test.local/registry');
    expect(expiry).to.be.a('number').and.be.greaterThan(Date.now());
  });

  it('a caller without a token gets an empty id in its place', async function () {
    const ctx = withRegistryPath(ChainContext.background(), { index: 0, segments: [] });
    const chain = registryChain<NSE, NetworkServiceEndpointQuery>(updatePathRegistryServer(NSE_KIND, generator('registry')));
    const result = await chain.register(NetworkServiceEndpoint.create({ name: 'n' }), ctx);
    expect(result.pathIds).to.deep.equal(['', 'spiffe://test.local/registry']);
    expect(subjectOf('not a jwt')).to.equal('');
  });
});
