import { expect } from 'chai';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { excludedPrefixesServer } from '../../../../src/networkservice/common/excludedprefixes/index.js';
import { FakeNext } from '../../../helpers/fake-next.js';

function excludedSent(next: FakeNext, index = 0): string[] | undefined {
  return next.requests[index]?.request.connection?.context?.ipContext?.excludedPrefixes;
}

describe('excludedprefixes server', () => {
  it('creates the IP context and adds the configured prefixes', async () => {
    const next = new FakeNext();
    await excludedPrefixesServer({ prefixes: ['10.96.0.0/12', 'fd00::/64'] }).request(
      NetworkServiceRequest.fromPartial({ connection: { id: '1' } }),
      ChainContext.background(),
      next,
    );
    expect(excludedSent(next)).to.deep.equal(['10.96.0.0/12', 'fd00::/64']);
  });

  it('keeps prefixes already excluded and adds each prefix once', async () => {
    const next = new FakeNext();
    const request = NetworkServiceRequest.fromPartial({
      connection: { id: '1', context: { ipContext: { excludedPrefixes: ['192.168.0.0/16', '10.96.0.0/12'] } } },
    });
    const element = excludedPrefixesServer({ prefixes: ['10.96.0.0/12', '10.244.0.0/16', '10.244.0.0/16'] });
    await element.request(request, ChainContext.background(), next);
    // A refresh carries the list back in: it must not grow.
    await element.request(request, ChainContext.background(), next);
    expect(excludedSent(next, 1)).to.deep.equal(['192.168.0.0/16', '10.96.0.0/12', '10.244.0.0/16']);
  });

  it('asks the source on every request and skips invalid entries from it', async () => {
    let current: readonly string[] = ['172.16.0.0/16'];
    const next = new FakeNext();
    const element = excludedPrefixesServer({ prefixes: ['10.0.0.0/8'], source: () => current });
    await element.request(NetworkServiceRequest.fromPartial({ connection: { id: '1' } }), ChainContext.background(), next);
    current = ['172.17.0.0/16', 'not-a-cidr'];
    await element.request(NetworkServiceRequest.fromPartial({ connection: { id: '2' } }), ChainContext.background(), next);
    expect(excludedSent(next, 0)).to.deep.equal(['10.0.0.0/8', '172.16.0.0/16']);
    expect(excludedSent(next, 1)).to.deep.equal(['10.0.0.0/8', '172.17.0.0/16']);
  });

  it('refuses an invalid prefix when built, naming it', () => {
    expect(() => excludedPrefixesServer({ prefixes: ['10.0.0.0/8', '10.0.0.300/8'] })).to.throw(Error, '10.0.0.300/8');
  });
});
