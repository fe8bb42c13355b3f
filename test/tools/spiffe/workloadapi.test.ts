import { expect } from 'chai';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { SpiffeWorkloadAPIService, type X509SVIDResponse } from '../../../src/api/gen/spiffe/workload.js';
import { FakeClock } from '../../../src/tools/clock/index.js';
import {
  createDevTrustDomain,
  issueSvid,
  WorkloadApiSource,
  workloadApiTarget,
  type DevTrustDomain,
  type IssuedSvid,
  type X509Svid,
} from '../../../src/tools/spiffe/index.js';
import { eventually } from '../../helpers/eventually.js';
import { baseline, expectNoLeaks } from '../../helpers/leaks.js';
import { startFakeWorkloadApi, svidResponse, type FakeWorkloadApi } from '../../helpers/workloadapi.js';

const ID = 'spiffe://example.org/ns/default/sa/nse';

/** The fingerprint of a PEM's first certificate: PEM text differs in line endings between encoders. */
const fp = (pem: string): string => new X509Certificate(pem).fingerprint256;

describe('Workload API X.509 source', function () {
  this.timeout(20_000);
  let dir: string;
  let socket: string;
  let ca: DevTrustDomain;
  let fake: FakeWorkloadApi | undefined;
  const sources: WorkloadApiSource[] = [];

  before(async () => {
    ca = await createDevTrustDomain('example.org');
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nsm-wlapi-'));
    socket = join(dir, 'agent.sock');
    fake = await startFakeWorkloadApi(socket);
  });
  afterEach(async () => {
    for (const source of sources.splice(0)) source.close();
    await fake?.stop();
    fake = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  function server(): FakeWorkloadApi {
    if (fake === undefined) throw new Error('no fake Workload API');
    return fake;
  }

  async function connect(errors: unknown[] = [], extra: { clock?: FakeClock; timeoutMs?: number } = {}): Promise<WorkloadApiSource> {
    const source = await WorkloadApiSource.connect({ address: server().address, onError: (error) => errors.push(error), ...extra });
    sources.push(source);
    return source;
  }

  const issue = (): Promise<IssuedSvid> => issueSvid(ca, ID, 3_600_000);

  it('gives the first SVID: its ID, leaf, key and bundle', async () => {
    const issued = await issue();
    server().push(issued);
    const source = await connect();
    const svid = source.current();
    expect(svid.spiffeId).to.equal(ID);
    expect(svid.leaf.fingerprint256).to.equal(new X509Certificate(issued.certPem).fingerprint256);
    expect(svid.leaf.checkPrivateKey(svid.key)).to.equal(true);
    expect(svid.key.export({ type: 'pkcs8', format: 'der' }).equals(createPrivateKey(issued.keyPem).export({ type: 'pkcs8', format: 'der' }))).to.equal(true);
    expect(new X509Certificate(svid.bundlePem).fingerprint256).to.equal(new X509Certificate(ca.certPem).fingerprint256);
    expect(svid.leaf.verify(new X509Certificate(svid.bundlePem).publicKey)).to.equal(true);
  });

  it('splits a chain of several DER certificates, leaf first', async () => {
    const issued = await issue();
    // The CA stands in for an intermediate: two certificates back to back in x509_svid.
    server().push({ ...issued, certPem: issued.certPem + ca.certPem, bundlePem: ca.certPem + ca.certPem });
    const source = await connect();
    const svid = source.current();
    expect(svid.certPem.match(/BEGIN CERTIFICATE/g)).to.have.length(2);
    expect(svid.bundlePem.match(/BEGIN CERTIFICATE/g)).to.have.length(2);
    expect(svid.leaf.fingerprint256).to.equal(new X509Certificate(issued.certPem).fingerprint256);
  });

  it('sends the workload.spiffe.io header, which the fake requires', async () => {
    server().push(await issue());
    await connect();
    expect(server().lastMetadataHeader()).to.equal('true');
    // Without it the call is refused as SPIRE refuses it, so the check above proves the source sent it.
    const client = new Client(workloadApiTarget(server().address), credentials.createInsecure());
    const method = SpiffeWorkloadAPIService.fetchX509Svid;
    const code = await new Promise<number>((resolve) => {
      const call = client.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, {}, new Metadata());
      call.on('data', () => undefined);
      call.on('error', (error: ServiceError) => resolve(error.code));
    });
    client.close();
    expect(code).to.equal(status.INVALID_ARGUMENT);
    expect(server().lastMetadataHeader()).to.equal(undefined);
  });

  it('follows a rotation: updates emits the new SVID and current() changes', async () => {
    const first = await issue();
    server().push(first);
    const source = await connect();
    const seen: X509Svid[] = [];
    const subscription = source.updates.subscribe((svid) => seen.push(svid));
    expect(seen).to.have.length(1);
    const second = await issue();
    server().push(second);
    await eventually(() => seen.length === 2);
    expect(fp(seen[1]?.certPem ?? '')).to.equal(fp(second.certPem));
    expect(fp(source.current().certPem)).to.equal(fp(second.certPem));
    // The same SVID again is no rotation.
    server().push(second);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).to.have.length(2);
    subscription.unsubscribe();
  });

  it('reconnects after an agent restart, keeping the old SVID meanwhile', async () => {
    const first = await issue();
    server().push(first);
    const errors: unknown[] = [];
    const source = await connect(errors);
    await server().stop();
    await eventually(() => errors.length > 0);
    expect(fp(source.current().certPem), 'kept while the agent is away').to.equal(fp(first.certPem));
    fake = await startFakeWorkloadApi(socket);
    const second = await issue();
    server().push(second);
    await eventually(() => fp(source.current().certPem) === fp(second.certPem), 10_000);
    expect(server().streams()).to.equal(1);
  });

  it('keeps retrying while the agent answers PERMISSION_DENIED (workload not registered yet)', async () => {
    server().failWith(status.PERMISSION_DENIED);
    const errors: unknown[] = [];
    const connecting = connect(errors);
    await eventually(() => errors.length >= 3, 10_000);
    expect((errors[0] as ServiceError).code).to.equal(status.PERMISSION_DENIED);
    server().failWith(undefined);
    const issued = await issue();
    server().push(issued);
    const source = await connecting;
    expect(fp(source.current().certPem)).to.equal(fp(issued.certPem));
  });

  it('reconnects on the clock it was given, with a growing backoff', async () => {
    server().push(await issue());
    const clock = new FakeClock();
    const errors: unknown[] = [];
    const source = await connect(errors, { clock });
    const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 150));
    await server().stop();
    await eventually(() => errors.length === 1);
    expect(clock.pending, 'one reconnect timer').to.equal(1);
    clock.advance(99);
    await settle();
    expect(errors, 'no retry before 100 ms of clock time').to.have.length(1);
    clock.advance(1);
    await eventually(() => errors.length === 2);
    // The next delay is twice as long.
    clock.advance(199);
    await settle();
    expect(errors, 'no retry before 200 ms more').to.have.length(2);
    clock.advance(1);
    await eventually(() => errors.length === 3);
    fake = await startFakeWorkloadApi(socket);
    const second = await issue();
    server().push(second);
    await settle();
    expect(server().calls(), 'no reconnect before the clock moves').to.equal(0);
    clock.advance(400);
    await eventually(() => fp(source.current().certPem) === fp(second.certPem), 10_000);
    expect(clock.pending).to.equal(0);
  });

  it('reports a malformed response and keeps the current SVID', async () => {
    const first = await issue();
    server().push(first);
    const errors: unknown[] = [];
    const source = await connect(errors);
    const garbage: X509SVIDResponse = {
      svids: [{ spiffeId: ID, x509Svid: Buffer.from('not a certificate'), x509SvidKey: Buffer.from([1, 2, 3]), bundle: Buffer.from([0x30, 0x82, 0xff]), hint: '' }],
      crl: [],
      federatedBundles: {},
    };
    server().pushResponse(garbage);
    await eventually(() => errors.length === 1);
    expect(String(errors[0])).to.match(/not DER certificates/);
    expect(fp(source.current().certPem)).to.equal(fp(first.certPem));
    // A certificate of the wrong workload (its key not the leaf's) is refused too.
    const other = await issue();
    const mismatched = svidResponse({ ...other, keyPem: first.keyPem });
    server().pushResponse(mismatched);
    await eventually(() => errors.length === 2);
    expect(String(errors[1])).to.match(/does not belong/);
    expect(fp(source.current().certPem)).to.equal(fp(first.certPem));
    // And the stream stays usable: the next good SVID is taken.
    server().push(other);
    await eventually(() => fp(source.current().certPem) === fp(other.certPem));
  });

  it('rejects connect naming the socket when no SVID comes in time, leaving nothing open', async () => {
    const before = await baseline();
    const started = Date.now();
    try {
      await WorkloadApiSource.connect({ address: server().address, timeoutMs: 300 });
      expect.fail('connected');
    } catch (error) {
      expect(String(error)).to.include(socket).and.to.match(/within 300 ms/);
    }
    expect(Date.now() - started).to.be.lessThan(5_000);
    await eventually(() => server().streams() === 0);
    await expectNoLeaks(before);
  });

  it('rejects connect naming the socket when nothing listens there', async () => {
    await server().stop();
    fake = undefined;
    try {
      await WorkloadApiSource.connect({ address: `unix://${socket}`, timeoutMs: 300 });
      expect.fail('connected');
    } catch (error) {
      expect(String(error)).to.include(socket).and.to.match(/last error/);
    }
  });

  it('close() ends the stream on the server, completes updates and leaves nothing behind', async () => {
    server().push(await issue());
    const before = await baseline();
    const source = await WorkloadApiSource.connect({ address: server().address });
    expect(server().streams()).to.equal(1);
    let completed = false;
    source.updates.subscribe({ complete: () => (completed = true) });
    source.close();
    expect(completed).to.equal(true);
    await eventually(() => server().streams() === 0);
    await expectNoLeaks(before);
  });

  it('takes the SVID that pick chooses among several', async () => {
    const first = await issue();
    const second = await issue();
    const both = svidResponse(first);
    const other = svidResponse(second).svids[0];
    if (other === undefined) throw new Error('no SVID');
    server().pushResponse({ ...both, svids: [...both.svids, { ...other, hint: 'internal' }] });
    const source = await WorkloadApiSource.connect({ address: server().address, pick: (svids) => svids.find((svid) => svid.hint === 'internal') });
    sources.push(source);
    expect(fp(source.current().certPem)).to.equal(fp(second.certPem));
  });

  it('rejects connect at once for an address that is not a Workload API address', async () => {
    try {
      await WorkloadApiSource.connect({ address: 'http://127.0.0.1:1', timeoutMs: 60_000 });
      expect.fail('connected');
    } catch (error) {
      expect(String(error)).to.match(/scheme must be unix or tcp/);
    }
  });

  it('workloadApiTarget: converts SPIFFE_ENDPOINT_SOCKET values to grpc-js targets', () => {
    expect(workloadApiTarget('unix:///run/spire/agent.sock')).to.equal('unix:/run/spire/agent.sock');
    expect(workloadApiTarget('unix:/run/spire/agent.sock')).to.equal('unix:/run/spire/agent.sock');
    expect(workloadApiTarget('tcp://127.0.0.1:8081')).to.equal('127.0.0.1:8081');
    expect(workloadApiTarget('tcp://[::1]:8081')).to.equal('[::1]:8081');
    for (const bad of ['', '/run/agent.sock', 'http://127.0.0.1:80', 'unix://host/agent.sock', 'unix:///', 'tcp://localhost:8081', 'tcp://127.0.0.1', 'tcp://127.0.0.1:8081/x', 'unix:///a.sock?x=1']) {
      expect(() => workloadApiTarget(bad), bad).to.throw(/Workload API address .* is not valid/);
    }
    expect(() => workloadApiTarget('ftp://x')).to.throw(/scheme must be unix or tcp/);
  });
});
