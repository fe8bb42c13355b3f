import { expect } from 'chai';
import { Metadata } from '@grpc/grpc-js';
import { NetworkServiceEndpoint, type NetworkServiceEndpointQuery } from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { registryChain } from '../../../../src/registry/core/chain.js';
import {
  formatRegistryPath,
  grpcMetadataClient,
  grpcMetadataServer,
  parseRegistryPath,
  registryPathFrom,
  withRegistryPath,
  type RegistryPath,
} from '../../../../src/registry/common/grpcmetadata/index.js';
import { INCOMING_METADATA, OUTGOING_METADATA, RESPONSE_HEADERS, SEND_HEADERS } from '../../../../src/tools/grpc/keys.js';
import { statusError, status } from '../../../../src/tools/grpc/status.js';

type NSE = NetworkServiceEndpoint;
type Q = NetworkServiceEndpointQuery;

describe('registry grpcmetadata', function () {
  it('reads and writes the JSON form upstream uses', function () {
    const path: RegistryPath = { index: 1, segments: [{ token: 'a' }, { token: 'b' }] };
    expect(formatRegistryPath(path)).to.equal('{"Index":1,"PathSegments":[{"token":"a"},{"token":"b"}]}');
    expect(parseRegistryPath('{"index":2,"pathSegments":[{"Token":"x"},{},{"token":"z"}]}')).to.deep.equal({
      index: 2,
      segments: [{ token: 'x' }, { token: '' }, { token: 'z' }],
    });
    expect(parseRegistryPath('{}')).to.deep.equal({ index: 0, segments: [] });
  });

  it('refuses malformed paths with INVALID_ARGUMENT', function () {
    for (const bad of ['not json', '[]', '{"Index":-1}', '{"Index":"1"}', '{"PathSegments":{}}', '{"PathSegments":[{"token":3}]}']) {
      expect(() => parseRegistryPath(bad), bad).to.throw().with.property('code', status.INVALID_ARGUMENT);
    }
  });

  it('server: takes the path from incoming metadata and sends it back, updated, in headers', async function () {
    const incoming = new Metadata();
    incoming.set('path', '{"Index":0,"PathSegments":[{"token":"t0"}]}');
    const headers = new Metadata();
    const ctx = ChainContext.background().withValue(INCOMING_METADATA, incoming).withValue(SEND_HEADERS, headers);
    let seen: RegistryPath | undefined;
    const chain = registryChain<NSE, Q>(grpcMetadataServer(), {
      name: 'mutator',
      register: (item, c) => {
        seen = registryPathFrom(c);
        seen?.segments.push({ token: 't1' });
        return Promise.resolve(item);
      },
      find: () => {
        throw new Error('unused');
      },
      unregister: () => Promise.resolve(),
    });
    await chain.register(NetworkServiceEndpoint.create({ name: 'n' }), ctx);
    expect(seen?.segments.map((s) => s.token)).to.deep.equal(['t0', 't1']);
    expect(headers.get('path')).to.deep.equal(['{"Index":0,"PathSegments":[{"token":"t0"},{"token":"t1"}]}']);
  });

  it('server: a failing call sends no path back', async function () {
    const headers = new Metadata();
    const ctx = ChainContext.background().withValue(SEND_HEADERS, headers);
    const chain = registryChain<NSE, Q>(grpcMetadataServer(), {
      register: () => Promise.reject(statusError(status.INTERNAL, 'boom')),
      find: () => {
        throw new Error('unused');
      },
      unregister: () => Promise.resolve(),
    });
    await chain.register(NetworkServiceEndpoint.create({ name: 'n' }), ctx).catch(() => undefined);
    expect(headers.get('path')).to.deep.equal([]);
  });

  it('client: sends the context path and adopts the one returned in headers', async function () {
    const path: RegistryPath = { index: 0, segments: [] };
    const ctx = withRegistryPath(ChainContext.background(), path);
    let sent: string | undefined;
    const chain = registryChain<NSE, Q>(grpcMetadataClient(), {
      register: (item, c) => {
        sent = c.value(OUTGOING_METADATA)?.get('path')[0] as string;
        const reply = new Metadata();
        reply.set('path', '{"Index":0,"PathSegments":[{"token":""},{"token":"server"}]}');
        c.value(RESPONSE_HEADERS)?.(reply);
        return Promise.resolve(item);
      },
      find: () => {
        throw new Error('unused');
      },
      unregister: () => Promise.resolve(),
    });
    await chain.register(NetworkServiceEndpoint.create({ name: 'n' }), ctx);
    expect(sent).to.equal('{"Index":0,"PathSegments":[]}');
    expect(path).to.deep.equal({ index: 0, segments: [{ token: '' }, { token: 'server' }] });
  });
});
