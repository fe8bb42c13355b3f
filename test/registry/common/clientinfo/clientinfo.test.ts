import { expect } from 'chai';
import { NetworkServiceEndpoint } from '../../../../src/api/gen/registry.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { clientInfoRegistry, nsmgrClientInfoLabels } from '../../../../src/registry/common/clientinfo/index.js';
import { FakeRegistryNext } from '../../helpers/fake-registry.js';

const env = { NODE_NAME: 'node-7', POD_NAME: 'nsmgr-abc', CLUSTER_NAME: 'blue' };

describe('registry clientinfo', function () {
  it('labels every service of a registration with the node, pod and cluster; the endpoint\'s own labels win', async function () {
    const item = NetworkServiceEndpoint.fromPartial({
      name: 'nse',
      networkServiceNames: ['a', 'b'],
      networkServiceLabels: { a: { labels: { nodeName: 'mine', app: 'x' } } },
    });
    const registered = await clientInfoRegistry({ env }).register(item, ChainContext.background(), new FakeRegistryNext());
    expect(registered.networkServiceLabels['a']?.labels).to.deep.equal({ nodeName: 'mine', app: 'x', podName: 'nsmgr-abc', clusterName: 'blue' });
    expect(registered.networkServiceLabels['b']?.labels).to.deep.equal({ nodeName: 'node-7', podName: 'nsmgr-abc', clusterName: 'blue' });
  });

  it('a manager gives only the node and cluster; unset variables add nothing', async function () {
    const item = NetworkServiceEndpoint.fromPartial({ name: 'nse', networkServiceNames: ['a'] });
    const registered = await clientInfoRegistry({ env, labels: nsmgrClientInfoLabels }).register(item, ChainContext.background(), new FakeRegistryNext());
    expect(registered.networkServiceLabels['a']?.labels).to.deep.equal({ nodeName: 'node-7', clusterName: 'blue' });
    const bare = await clientInfoRegistry({ env: {} }).register(NetworkServiceEndpoint.fromPartial({ name: 'n', networkServiceNames: ['a'] }), ChainContext.background(), new FakeRegistryNext());
    expect(bare.networkServiceLabels).to.deep.equal({});
  });
});
