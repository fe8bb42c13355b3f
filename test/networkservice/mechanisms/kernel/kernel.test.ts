import { expect } from 'chai';
import { Connection, Mechanism } from '../../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../../src/networkservice/core/context.js';
import {
  checkInterfaceName,
  DEFAULT_NETNS_URL,
  KernelMechanism,
  kernelInterfaceName,
  kernelMechanismClient,
  kernelMechanismPreference,
  kernelMechanismServer,
  newKernelMechanism,
  toKernelMechanism,
} from '../../../../src/networkservice/mechanisms/kernel/index.js';
import { FakeNext } from '../../../helpers/fake-next.js';

const ctx = ChainContext.background();

describe('kernel mechanism helpers', () => {
  it('builds a LOCAL KERNEL mechanism with a namespace URL', () => {
    expect(newKernelMechanism('inode://4/4026531992')).to.deep.equal({
      cls: 'LOCAL',
      type: 'KERNEL',
      parameters: { inodeURL: 'inode://4/4026531992' },
    });
    expect(newKernelMechanism().parameters['inodeURL']).to.equal(DEFAULT_NETNS_URL);
    const pref = kernelMechanismPreference('nsm-1');
    expect(pref.parameters).to.deep.equal({ inodeURL: DEFAULT_NETNS_URL, name: 'nsm-1' });
    expect(kernelMechanismPreference().parameters['name']).to.equal(undefined);
    expect(() => kernelMechanismPreference('a-name-far-too-long')).to.throw(Error, 'longer than 15');
  });

  it('wraps only KERNEL mechanisms', () => {
    expect(toKernelMechanism(undefined)).to.equal(undefined);
    expect(toKernelMechanism(Mechanism.create({ type: 'MEMIF' }))).to.equal(undefined);
    expect(toKernelMechanism(newKernelMechanism())).to.be.instanceOf(KernelMechanism);
  });

  it('reads and writes parameters in place with upstream keys and encodings', () => {
    const mechanism = newKernelMechanism('file:///proc/1/ns/net');
    const kernel = toKernelMechanism(mechanism)!;
    expect(kernel.interfaceName).to.equal('');
    kernel.interfaceName = 'nsm-7';
    kernel.netnsURL = 'file:///proc/2/ns/net';
    kernel.netnsInode = '4026531992';
    kernel.vlan = 100;
    kernel.supportsVlan = true;
    kernel.routeLocalNet = false;
    kernel.pciAddress = '0000:01:00.1';
    kernel.deviceTokenId = 'tok-1';
    kernel.setIPTables4NatTemplate('-A PREROUTING -j DNAT', '-A POSTROUTING -j MASQUERADE');
    expect(mechanism.parameters).to.deep.equal({
      name: 'nsm-7',
      inodeURL: 'file:///proc/2/ns/net',
      netnsInode: '4026531992',
      vlan: '100',
      supportsVlan: 'true',
      routeLocalNet: 'false',
      pciAddress: '0000:01:00.1',
      tokenID: 'tok-1',
      IPTables4NatTemplate: '-A PREROUTING -j DNAT;-A POSTROUTING -j MASQUERADE',
    });
    expect(kernel.vlan).to.equal(100);
    expect(kernel.supportsVlan).to.equal(true);
    expect(kernel.routeLocalNet).to.equal(false);
    expect(kernel.iptables4NatRules).to.deep.equal(['-A PREROUTING -j DNAT', '-A POSTROUTING -j MASQUERADE']);
    expect(kernel.interfaceName).to.equal('nsm-7');
    expect(kernel.pciAddress).to.equal('0000:01:00.1');
    expect(kernel.deviceTokenId).to.equal('tok-1');
  });

  it('reads values that do not parse as 0 or false, and refuses out-of-range VLANs', () => {
    const kernel = new KernelMechanism(
      Mechanism.create({ type: 'KERNEL', parameters: { vlan: 'abc', supportsVlan: 'yes', routeLocalNet: '1' } }),
    );
    expect(kernel.vlan).to.equal(0);
    expect(kernel.supportsVlan).to.equal(false);
    expect(kernel.routeLocalNet).to.equal(true);
    kernel.parameters['vlan'] = '5000';
    expect(kernel.vlan).to.equal(0);
    expect(() => (kernel.vlan = 4096)).to.throw(RangeError);
    expect(() => (kernel.vlan = 1.5)).to.throw(RangeError);
    expect(kernel.iptables4NatRules).to.deep.equal([]);
    // A hand-built message without a parameters map gets one.
    const bare = new KernelMechanism({ cls: 'LOCAL', type: 'KERNEL' } as Mechanism);
    bare.interfaceName = 'x';
    expect(bare.mechanism.parameters).to.deep.equal({ name: 'x' });
  });

  it('generates interface names within 15 characters, stable per connection and distinct across them', () => {
    const a = kernelInterfaceName('icmp-responder', '0c9d5a2e-1f4b-4c1e-9d7a-6b1a2c3d4e5f');
    const b = kernelInterfaceName('icmp-responder', '0c9d5a2e-1f4b-4c1e-9d7a-6b1a2c3d4e60');
    expect(a).to.match(/^icmp-r-[0-9a-f]{8}$/);
    expect(a.length).to.be.at.most(15);
    expect(a).to.equal(kernelInterfaceName('icmp-responder', '0c9d5a2e-1f4b-4c1e-9d7a-6b1a2c3d4e5f'));
    expect(a).to.not.equal(b);
    expect(kernelInterfaceName('', 'x')).to.match(/^nsm-[0-9a-f]{8}$/);
    expect(kernelInterfaceName('a/b:c d', 'x')).to.match(/^a-b-c--[0-9a-f]{8}$/);
    const names = new Set<string>();
    for (let i = 0; i < 2000; i++) names.add(kernelInterfaceName('svc', `conn-${i}`));
    expect(names.size).to.equal(2000);
  });

  it('checks configured interface names against Linux rules', () => {
    expect(checkInterfaceName('eth0')).to.equal('eth0');
    expect(checkInterfaceName('123456789012345')).to.equal('123456789012345');
    expect(() => checkInterfaceName('1234567890123456')).to.throw(Error, 'longer than 15');
    expect(() => checkInterfaceName('')).to.throw(Error);
    expect(() => checkInterfaceName('..')).to.throw(Error);
    expect(() => checkInterfaceName('a/b')).to.throw(Error, "'/'");
    expect(() => checkInterfaceName('a b')).to.throw(Error);
  });
});

describe('kernel mechanism server', () => {
  function kernelRequest(parameters: Record<string, string> = {}): NetworkServiceRequest {
    return NetworkServiceRequest.fromPartial({
      connection: { id: 'conn-1', networkService: 'icmp-responder', mechanism: { cls: 'LOCAL', type: 'KERNEL', parameters } },
    });
  }

  it('names the interface when the request does not, so the returned connection carries the name', async () => {
    const next = new FakeNext();
    const conn = await kernelMechanismServer().request(kernelRequest(), ctx, next);
    expect(conn.mechanism?.parameters['name']).to.equal(kernelInterfaceName('icmp-responder', 'conn-1'));
    expect(next.requests[0]?.request.connection?.mechanism?.parameters['name']).to.equal(conn.mechanism?.parameters['name']);
  });

  it('keeps a name the request already has, and uses a configured name or prefix otherwise', async () => {
    const kept = await kernelMechanismServer({ interfaceName: 'srv0' }).request(kernelRequest({ name: 'client-chose' }), ctx, new FakeNext());
    expect(kept.mechanism?.parameters['name']).to.equal('client-chose');
    const fixed = await kernelMechanismServer({ interfaceName: 'srv0' }).request(kernelRequest(), ctx, new FakeNext());
    expect(fixed.mechanism?.parameters['name']).to.equal('srv0');
    const prefixed = await kernelMechanismServer({ interfaceNamePrefix: 'nse' }).request(kernelRequest(), ctx, new FakeNext());
    expect(prefixed.mechanism?.parameters['name']).to.equal(kernelInterfaceName('nse', 'conn-1'));
  });

  it('sets the namespace URL only when configured', async () => {
    const untouched = await kernelMechanismServer().request(kernelRequest({ inodeURL: 'inode://1/2' }), ctx, new FakeNext());
    expect(untouched.mechanism?.parameters['inodeURL']).to.equal('inode://1/2');
    const set = await kernelMechanismServer({ netnsURL: 'file:///proc/9/ns/net' }).request(kernelRequest({ inodeURL: 'inode://1/2' }), ctx, new FakeNext());
    expect(set.mechanism?.parameters['inodeURL']).to.equal('file:///proc/9/ns/net');
  });

  it('leaves other mechanisms and connections without a mechanism alone', async () => {
    const srv = kernelMechanismServer();
    const memif = await srv.request(
      NetworkServiceRequest.fromPartial({ connection: { id: '1', mechanism: { type: 'MEMIF' } } }),
      ctx,
      new FakeNext(),
    );
    expect(memif.mechanism?.parameters).to.deep.equal({});
    const none = await srv.request(NetworkServiceRequest.fromPartial({ connection: { id: '1' } }), ctx, new FakeNext());
    expect(none.mechanism).to.equal(undefined);
    const next = new FakeNext();
    await srv.close(Connection.fromPartial({ id: '1' }), ctx, next);
    expect(next.closes).to.have.length(1);
  });

  it('refuses an invalid configured interface name at construction', () => {
    expect(() => kernelMechanismServer({ interfaceName: 'much-too-long-name' })).to.throw(Error, 'longer than 15');
  });
});

describe('kernel mechanism client', () => {
  it('appends a KERNEL preference, after the ones already offered, naming the interface', async () => {
    const next = new FakeNext();
    const request = NetworkServiceRequest.fromPartial({
      connection: { id: 'c-1', networkService: 'icmp-responder' },
      mechanismPreferences: [{ cls: 'LOCAL', type: 'MEMIF' }],
    });
    await kernelMechanismClient().request(request, ctx, next);
    const prefs = next.requests[0]?.request.mechanismPreferences ?? [];
    expect(prefs.map((m) => m.type)).to.deep.equal(['MEMIF', 'KERNEL']);
    expect(prefs[1]).to.deep.equal({
      cls: 'LOCAL',
      type: 'KERNEL',
      parameters: { inodeURL: DEFAULT_NETNS_URL, name: kernelInterfaceName('icmp-responder', 'c-1') },
    });
  });

  it('uses the configured interface name and namespace', async () => {
    const next = new FakeNext();
    await kernelMechanismClient({ interfaceName: 'nsm-1', netnsURL: 'file:///proc/7/ns/net' }).request(
      NetworkServiceRequest.fromPartial({ connection: { id: 'c-1' } }),
      ctx,
      next,
    );
    expect(next.requests[0]?.request.mechanismPreferences).to.deep.equal([
      { cls: 'LOCAL', type: 'KERNEL', parameters: { inodeURL: 'file:///proc/7/ns/net', name: 'nsm-1' } },
    ]);
  });

  it('does not add a second KERNEL preference, but names an unnamed one', async () => {
    const next = new FakeNext();
    const client = kernelMechanismClient({ interfaceName: 'nsm-2' });
    await client.request(
      NetworkServiceRequest.fromPartial({ connection: { id: 'c-1' }, mechanismPreferences: [newKernelMechanism('inode://1/1')] }),
      ctx,
      next,
    );
    await client.request(
      NetworkServiceRequest.fromPartial({ connection: { id: 'c-1' }, mechanismPreferences: [kernelMechanismPreference('mine')] }),
      ctx,
      next,
    );
    expect(next.requests[0]?.request.mechanismPreferences).to.deep.equal([
      { cls: 'LOCAL', type: 'KERNEL', parameters: { inodeURL: 'inode://1/1', name: 'nsm-2' } },
    ]);
    expect(next.requests[1]?.request.mechanismPreferences.map((m) => m.parameters['name'])).to.deep.equal(['mine']);
  });

  it('leaves the name to the server when there is neither a configured name nor a connection id', async () => {
    const next = new FakeNext();
    await kernelMechanismClient().request(NetworkServiceRequest.fromPartial({ connection: { id: '' } }), ctx, next);
    expect(next.requests[0]?.request.mechanismPreferences[0]?.parameters).to.deep.equal({ inodeURL: DEFAULT_NETNS_URL });
  });
});
