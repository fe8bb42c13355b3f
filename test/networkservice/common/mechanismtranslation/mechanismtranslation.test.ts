import { expect } from 'chai';
import { Connection } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { chain } from '../../../../src/networkservice/core/chain.js';
import { metadataClient } from '../../../../src/networkservice/common/metadata/index.js';
import { mechanismTranslationClient } from '../../../../src/networkservice/common/mechanismtranslation/index.js';
import { kernelMechanismPreference } from '../../../../src/networkservice/mechanisms/kernel/index.js';
import { vxlanMechanismPreference } from '../../../../src/networkservice/mechanisms/vxlan/index.js';
import { FakeNext } from '../../../helpers/fake-next.js';

describe('mechanismtranslation', function () {
  it('sends its own mechanism downstream and gives the caller back the incoming one, on request, refresh and close', async function () {
    const c = chain(metadataClient(), mechanismTranslationClient());
    const next = new FakeNext();
    const tunnel = vxlanMechanismPreference('10.0.0.1');
    next.onRequest = (r) => Promise.resolve(Connection.fromPartial({ ...r.connection, mechanism: r.connection?.mechanism ?? tunnel }));
    const incoming = kernelMechanismPreference('nsm-1');
    const request = NetworkServiceRequest.fromPartial({ connection: { id: 'c', mechanism: incoming }, mechanismPreferences: [incoming] });
    const ctx = ChainContext.background();

    const conn = await c.request(request, ctx, next);
    expect(next.requests[0]?.request.connection?.mechanism).to.equal(undefined);
    expect(next.requests[0]?.request.mechanismPreferences).to.deep.equal([]);
    expect(conn.mechanism?.type).to.equal('KERNEL');

    await c.request(NetworkServiceRequest.fromPartial({ connection: conn }), ctx, next);
    expect(next.requests[1]?.request.connection?.mechanism?.type).to.equal('VXLAN');

    await c.close(conn, ctx, next);
    expect(next.closes[0]?.connection.mechanism?.type).to.equal('VXLAN');
  });
});
