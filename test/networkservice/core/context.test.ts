import { expect } from 'chai';
import { getEventListeners } from 'node:events';
import { CancelledError, ChainContext, ContextKey, DeadlineExceededError } from '../../../src/networkservice/core/context.js';
import { FakeClock, sleep } from '../../../src/tools/clock/index.js';

const NAME = new ContextKey<string>('name');
const OTHER = new ContextKey<string>('name');

describe('ChainContext', () => {
  it('stores typed values by key identity, nearest first', () => {
    const root = ChainContext.background();
    const a = root.withValue(NAME, 'a');
    const b = a.withValue(NAME, 'b');
    expect(root.value(NAME)).to.equal(undefined);
    expect(a.value(NAME)).to.equal('a');
    expect(b.value(NAME)).to.equal('b');
    expect(b.value(OTHER)).to.equal(undefined);
  });

  it('cancels at the deadline of its clock and frees the timer on cancel', () => {
    const clock = new FakeClock();
    const root = ChainContext.background({ clock });
    const [ctx, cancel] = root.withCancel(1000);
    expect(ctx.deadline).to.equal(clock.now() + 1000);
    clock.advance(999);
    expect(ctx.signal.aborted).to.equal(false);
    clock.advance(1);
    expect(ctx.signal.aborted).to.equal(true);
    expect(ctx.signal.reason).to.be.instanceOf(DeadlineExceededError);
    cancel();
    const [other, cancelOther] = root.withCancel(1000);
    cancelOther();
    expect(other.signal.aborted).to.equal(true);
    expect(clock.pending).to.equal(0);
  });

  it('follows its parent and keeps the earlier deadline', () => {
    const clock = new FakeClock();
    const [parent, cancelParent] = ChainContext.background({ clock }).withCancel(100);
    const [child, cancelChild] = parent.withCancel(5000);
    expect(child.deadline).to.equal(parent.deadline);
    cancelParent();
    expect(child.signal.aborted).to.equal(true);
    cancelChild();
  });

  it('detach keeps values but drops cancellation and deadline', () => {
    const [ctx, cancel] = ChainContext.background().withValue(NAME, 'v').withCancel(10);
    cancel();
    const detached = ctx.detach();
    expect(detached.signal.aborted).to.equal(false);
    expect(detached.deadline).to.equal(undefined);
    expect(detached.value(NAME)).to.equal('v');
  });

  it('sleep on a fake clock resolves when time advances and rejects on abort', async () => {
    const clock = new FakeClock();
    let done = false;
    const p = sleep(clock, 50).then(() => {
      done = true;
    });
    clock.advance(49);
    await Promise.resolve();
    expect(done).to.equal(false);
    clock.advance(1);
    await p;
    expect(done).to.equal(true);
    const controller = new AbortController();
    const aborted = sleep(clock, 50, controller.signal).catch((e: unknown) => e);
    controller.abort(new Error('stop'));
    expect(((await aborted) as Error).message).to.equal('stop');
    expect(clock.pending).to.equal(0);
  });
});

describe('ChainContext.onCancel', () => {
  it('runs on cancel, can be removed, and registers nothing on a context that cannot be cancelled', () => {
    const [ctx, cancel] = ChainContext.background().withCancel();
    let fired = 0;
    const remove = ctx.onCancel(() => fired++);
    const removed = ctx.onCancel(() => fired++);
    removed();
    cancel();
    remove();
    expect(fired).to.equal(1);
    const background = ChainContext.background();
    // Many concurrent calls on a background context must not pile listeners onto one shared signal.
    const removers = Array.from({ length: 100 }, () => background.onCancel(() => fired++));
    expect(getEventListeners(background.signal, 'abort')).to.have.length(0);
    removers.forEach((r) => r());
    const [live, cancelLive] = ChainContext.background().withCancel();
    const removeLive = live.onCancel(() => fired++);
    // A withCancel context keeps its listeners itself: its signal (made now) has none.
    expect(getEventListeners(live.signal, 'abort')).to.have.length(0);
    removeLive();
    cancelLive();
    expect(fired, 'a removed listener does not run').to.equal(1);
  });

  describe('a signal made only when asked for', () => {
    it('arms no timer and no listener until someone asks for the signal', () => {
      const clock = new FakeClock();
      const [parent, cancelParent] = ChainContext.background({ clock }).withCancel(10_000);
      expect(parent.signal.aborted).to.equal(false); // the parent is armed now: one timer
      const [child, cancelChild] = parent.withCancel(1000);
      expect(clock.pending, 'the child has no timer of its own yet').to.equal(1);
      expect(getEventListeners(parent.signal, 'abort')).to.have.length(0);
      cancelChild();
      cancelParent();
      expect(clock.pending).to.equal(0);
      expect(child.signal.aborted, 'asked after cancel: aborted at once').to.equal(true);
      expect(child.signal.reason).to.be.instanceOf(CancelledError);
    });

    it('asked after its deadline passed: aborted at once with DeadlineExceededError', () => {
      const clock = new FakeClock();
      const [ctx, cancel] = ChainContext.background({ clock }).withCancel(100);
      clock.advance(100);
      expect(() => ctx.throwIfAborted()).to.throw(DeadlineExceededError);
      expect(clock.pending).to.equal(0);
      cancel();
    });

    it('asked after its parent was cancelled: aborted with the parent reason', () => {
      const [parent, cancelParent] = ChainContext.background().withCancel();
      const [child, cancelChild] = parent.withCancel();
      const reason = new Error('caller went away');
      cancelParent(reason);
      expect(child.signal.aborted).to.equal(true);
      expect(child.signal.reason).to.equal(reason);
      cancelChild();
    });

    it('asked before: follows the parent, the deadline and cancel as before, and keeps the first reason', () => {
      const clock = new FakeClock();
      const [parent, cancelParent] = ChainContext.background({ clock }).withCancel();
      const [child, cancelChild] = parent.withCancel(50);
      const seen: unknown[] = [];
      const remove = child.onCancel(() => seen.push(child.signal.reason));
      clock.advance(50);
      expect(seen).to.have.length(1);
      expect(seen[0]).to.be.instanceOf(DeadlineExceededError);
      cancelChild(new Error('later'));
      expect(child.signal.reason).to.be.instanceOf(DeadlineExceededError);
      remove();
      cancelParent();
      expect(clock.pending).to.equal(0);
      expect(getEventListeners(parent.signal, 'abort')).to.have.length(0);
    });

    it('onCancel without a signal: the parent reaches it, the deadline arms a timer, and removal leaves nothing', () => {
      const clock = new FakeClock();
      const [parent, cancelParent] = ChainContext.background({ clock }).withCancel();
      const [child, cancelChild] = parent.withCancel(1000);
      const seen: unknown[] = [];
      const remove = child.onCancel(() => seen.push(child.cancelReason));
      expect(clock.pending, 'the deadline is watched once someone listens').to.equal(1);
      const reason = new Error('caller left');
      cancelParent(reason);
      expect(seen).to.deep.equal([reason]);
      expect(child.cancelled).to.equal(true);
      expect(clock.pending, 'cancelled: the timer is gone').to.equal(0);
      remove();
      cancelChild();
      expect(child.onCancel(() => seen.push('late'))(), 'a cancelled context runs no late listener').to.equal(undefined);
      expect(seen).to.have.length(1);
      const [other, cancelOther] = ChainContext.background({ clock }).withCancel(1000);
      other.onCancel(() => seen.push('never'))();
      cancelOther();
      expect(seen, 'removed before the cancel').to.have.length(1);
      expect(clock.pending).to.equal(0);
    });

    it('cancellation reasons carry no stack trace (they cost one per call otherwise)', () => {
      const [ctx, cancel] = ChainContext.background().withCancel();
      cancel();
      const stack = (ctx.signal.reason as Error).stack ?? '';
      expect(stack.split('\n').filter((line) => line.trim().startsWith('at '))).to.have.length(0);
      expect(new Error('x').stack, 'other errors still have theirs').to.match(/\n\s+at /);
    });
  });
});
