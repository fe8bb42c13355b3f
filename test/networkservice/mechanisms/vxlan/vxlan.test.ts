import { expect } from 'chai';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import { vxlanMechanismClient, vxlanMechanismPreference, vxlanMechanismServer } from '../../../../src/networkservice/mechanisms/vxlan/index.js';
import { FakeNext } from '../../../helpers/fake-next.js';

const ctx = ChainContext.background();
const req = (id: string, src = '10.0.0.1') =>
  NetworkServiceRequest.fromPartial({ connection: { id, mechanism: vxlanMechanismPreference(src) } });

describe('vxlan mechanism', function () {
  it('client offers VXLAN with its address once', async function () {
    const next = new FakeNext();
    const request = NetworkServiceRequest.fromPartial({ connection: { id: 'c' } });
    await vxlanMechanismClient({ srcIP: '10.0.0.1' }).request(request, ctx, next);
    await vxlanMechanismClient({ srcIP: '10.0.0.1' }).request(request, ctx, next);
    expect(request.mechanismPreferences.map((m) => [m.cls, m.type, m.parameters['src_ip']])).to.deep.equal([['REMOTE', 'VXLAN', '10.0.0.1']]);
  });

  it('server sets dst_ip and a distinct VNI per connection, keeps it on refresh, frees it on close', async function () {
    const server = vxlanMechanismServer({ dstIP: '10.0.0.2' });
    const next = new FakeNext();
    const a = await server.request(req('a'), ctx, next);
    const b = await server.request(req('b'), ctx, next);
    expect(a.mechanism?.parameters['dst_ip']).to.equal('10.0.0.2');
    expect(a.mechanism?.parameters['vni']).to.not.equal(b.mechanism?.parameters['vni']);
    const again = await server.request(NetworkServiceRequest.fromPartial({ connection: a }), ctx, next);
    expect(again.mechanism?.parameters['vni']).to.equal(a.mechanism?.parameters['vni']);
    expect(server.size).to.equal(2);
    await server.close(a, ctx, next);
    await server.close(b, ctx, next);
    expect(server.size).to.equal(0);
  });

  it('server releases the VNI when the rest of the chain fails, and refuses a VXLAN without src_ip', async function () {
    const server = vxlanMechanismServer({ dstIP: '10.0.0.2' });
    const next = new FakeNext();
    next.onRequest = () => Promise.reject(new Error('downstream failed'));
    await server.request(req('a'), ctx, next).catch(() => undefined);
    expect(server.size).to.equal(0);
    const error = (await server.request(req('b', ''), ctx, new FakeNext()).catch((e: unknown) => e)) as Error & { code: number };
    expect(error.code).to.equal(3);
  });
});
