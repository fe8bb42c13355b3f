import { expect } from 'chai';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { withClientURL } from '../../../../src/networkservice/common/clienturl/index.js';
import { filterMechanismsClient, mechanismClassFor } from '../../../../src/networkservice/common/filtermechanisms/index.js';
import { kernelMechanismPreference } from '../../../../src/networkservice/mechanisms/kernel/index.js';
import { vxlanMechanismPreference } from '../../../../src/networkservice/mechanisms/vxlan/index.js';
import { FakeNext } from '../../../helpers/fake-next.js';

describe('filtermechanisms', function () {
  const offer = () =>
    NetworkServiceRequest.fromPartial({ connection: { id: 'c' }, mechanismPreferences: [kernelMechanismPreference(), vxlanMechanismPreference('10.0.0.1')] });

  it('keeps LOCAL mechanisms towards a unix socket and REMOTE ones towards anything else', async function () {
    for (const [url, type] of [
      ['unix:///run/nse.sock', 'KERNEL'],
      ['tcp://10.0.0.2:5001', 'VXLAN'],
    ] as const) {
      const next = new FakeNext();
      await filterMechanismsClient().request(offer(), withClientURL(ChainContext.background(), url), next);
      expect(next.requests[0]?.request.mechanismPreferences.map((m) => m.type)).to.deep.equal([type]);
    }
    expect(mechanismClassFor('unix:///x')).to.equal('LOCAL');
    expect(mechanismClassFor('tcp://h:1')).to.equal('REMOTE');
  });

  it('leaves the preferences alone when no URL is known yet', async function () {
    const next = new FakeNext();
    await filterMechanismsClient().request(offer(), ChainContext.background(), next);
    expect(next.requests[0]?.request.mechanismPreferences).to.have.length(2);
  });
});
