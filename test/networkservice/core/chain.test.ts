import { expect } from 'chai';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Connection } from '../../../src/api/gen/connection.js';
import { NetworkServiceRequest } from '../../../src/api/gen/networkservice.js';
import { ChainContext } from '../../../src/networkservice/core/context.js';
import { chain, namedChain, toHandler } from '../../../src/networkservice/core/chain.js';
import { clientToServer, serverToClient } from '../../../src/networkservice/core/adapters.js';
import { raisedBy } from '../../../src/networkservice/core/trace.js';
import type { NetworkServiceElement } from '../../../src/networkservice/core/types.js';
import { createLogger } from '../../../src/tools/log/index.js';
import { NsmStatusError, status, statusError } from '../../../src/tools/grpc/status.js';
import { FakeNext } from '../../helpers/fake-next.js';

function recorder(name: string, log: string[]): NetworkServiceElement {
  return {
    name,
    async request(request, ctx, next) {
      log.push(`${name}>`);
      const conn = await next.request(request, ctx);
      log.push(`<${name}`);
      return conn;
    },
    async close(connection, ctx, next) {
      log.push(`close ${name}`);
      await next.close(connection, ctx);
    },
  };
}

const ctx = ChainContext.background();
const request = (): NetworkServiceRequest => NetworkServiceRequest.fromPartial({ connection: { id: 'c1', networkService: 'ns' } });

describe('chain', () => {
  it('runs elements as an onion and ends in the next it was given', async () => {
    const log: string[] = [];
    const next = new FakeNext();
    const c = chain(recorder('a', log), recorder('b', log));
    const conn = await c.request(request(), ctx, next);
    expect(log).to.deep.equal(['a>', 'b>', '<b', '<a']);
    expect(next.requests).to.have.length(1);
    expect(conn.id).to.equal('c1');
    await c.close(conn, ctx, next);
    expect(log.slice(4)).to.deep.equal(['close a', 'close b']);
    expect(next.closes).to.have.length(1);
  });

  it('nests: an inner chain continues into the outer chain', async () => {
    const log: string[] = [];
    const inner = chain(recorder('i1', log), recorder('i2', log));
    const outer = chain(recorder('o1', log), inner, recorder('o2', log));
    await toHandler(outer).request(request(), ctx);
    expect(log).to.deep.equal(['o1>', 'i1>', 'i2>', 'o2>', '<o2', '<i2', '<i1', '<o1']);
  });

  it('skips falsy entries, so optional elements read naturally', async () => {
    const log: string[] = [];
    const off = false as boolean;
    const c = chain(recorder('a', log), off && recorder('x', log), undefined, recorder('b', log));
    await toHandler(c).request(request(), ctx);
    expect(log).to.deep.equal(['a>', 'b>', '<b', '<a']);
  });

  it('lets an element call next again later, with the same rest of the chain', async () => {
    let saved: (() => Promise<Connection>) | undefined;
    const log: string[] = [];
    const later: NetworkServiceElement = {
      name: 'later',
      request(req, c, next) {
        saved = () => next.request(req, c.detach());
        return next.request(req, c);
      },
      close: (conn, c, next) => next.close(conn, c),
    };
    const next = new FakeNext();
    await chain(later, recorder('after', log)).request(request(), ctx, next);
    await saved?.();
    expect(log).to.deep.equal(['after>', '<after', 'after>', '<after']);
    expect(next.requests).to.have.length(2);
  });

  it('names the element that raised an error, once, and keeps its status code', async () => {
    const failing: NetworkServiceElement = {
      name: 'failing',
      request: () => Promise.reject(statusError(status.NOT_FOUND, 'no such thing')),
      close: () => Promise.reject(new Error('plain failure')),
    };
    const c = namedChain('outer', [recorder('a', []), chain(failing)]);
    const error = await c.request(request(), ctx).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(NsmStatusError);
    expect((error as NsmStatusError).code).to.equal(status.NOT_FOUND);
    expect((error as NsmStatusError).message).to.equal('failing: no such thing');
    expect(raisedBy(error)).to.equal('failing');
    const closeError = await c.close(Connection.create(), ctx).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((closeError as NsmStatusError).code).to.equal(status.INTERNAL);
    expect((closeError as Error).message).to.equal('failing: plain failure');
  });

  it('catches an element that throws synchronously', async () => {
    const bad: NetworkServiceElement = {
      name: 'sync-thrower',
      request: () => {
        throw new Error('boom');
      },
      close: (conn, c, next) => next.close(conn, c),
    };
    const error = await chain(bad).request(request(), ctx).catch((e: unknown) => e);
    expect((error as Error).message).to.equal('sync-thrower: boom');
  });

  it('builds links once per next and reuses them', async () => {
    const seen = new Set<unknown>();
    const probe: NetworkServiceElement = {
      name: 'probe',
      request(req, c, next) {
        seen.add(next);
        return next.request(req, c);
      },
      close: (conn, c, next) => next.close(conn, c),
    };
    const c = chain(probe, recorder('b', []));
    const next = new FakeNext();
    for (let i = 0; i < 5; i++) await c.request(request(), ctx, next);
    expect(seen.size).to.equal(1);
    await c.request(request(), ctx, new FakeNext());
    expect(seen.size).to.equal(2);
  });

  it('gives each element call an OpenTelemetry span and marks failures', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    try {
      const failing: NetworkServiceElement = {
        name: 'bad',
        request: () => Promise.reject(new Error('nope')),
        close: (conn, c, next) => next.close(conn, c),
      };
      await chain(recorder('good', [])).request(request(), ctx);
      await chain(recorder('good', []), failing).request(request(), ctx).catch(() => undefined);
      const finished = exporter.getFinishedSpans();
      const spans = finished.map((s) => `${s.name}:${s.status.code}`);
      expect(spans).to.include('good/Request:0');
      expect(spans).to.include('bad/Request:2');
      // Recorded spans nest: the failing element's span is a child of the one before it.
      const bad = finished.find((s) => s.name === 'bad/Request');
      const good = finished.filter((s) => s.name === 'good/Request').at(-1);
      expect(bad?.parentSpanContext?.spanId).to.equal(good?.spanContext().spanId);
    } finally {
      trace.disable();
      context.disable();
      await provider.shutdown();
    }
  });

  it('logs at debug level what an element changed in the request and the response', async () => {
    const lines: string[] = [];
    const logger = createLogger('debug', (_level, line) => lines.push(line));
    const changer: NetworkServiceElement = {
      name: 'changer',
      async request(req, c, next) {
        const conn = req.connection ?? Connection.create();
        conn.labels['added'] = 'yes';
        const out = await next.request(req, c);
        out.networkServiceEndpointName = 'nse-x';
        return out;
      },
      close: (conn, c, next) => next.close(conn, c),
    };
    await chain(changer).request(request(), ChainContext.background({ logger }));
    const text = lines.join('\n');
    expect(text).to.match(/changer request changed.*connection\.labels\.added/);
    expect(text).to.match(/changer response changed.*networkServiceEndpointName.*nse-x/);
  });

  it('adapters keep the element working on the other side and name it', async () => {
    const log: string[] = [];
    const server = clientToServer(recorder('client-el', log));
    const client = serverToClient(recorder('server-el', log));
    await chain(server, client).request(request(), ctx);
    expect(log).to.deep.equal(['client-el>', 'server-el>', '<server-el', '<client-el']);
    expect(server.name).to.equal('clientToServer(client-el)');
  });
});
