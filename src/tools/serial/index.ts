/**
 * A serial executor: tasks run one at a time in the order they were submitted. `begin` keeps one per
 * connection id so that Request, Close and later events of one connection never overlap.
 * @module
 */

/** Runs tasks one at a time in the order they were given (per connection, in `begin`). */
export class SerialExecutor {
  private last: Promise<void> = Promise.resolve();
  private queued = 0;

  /** Runs `task` after every task submitted before it has settled; resolves with its result. */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.queued++;
    const result = this.last.then(task);
    this.last = result.then(
      () => {
        this.queued--;
      },
      () => {
        this.queued--;
      },
    );
    return result;
  }

  /** Tasks submitted and not yet settled (including the running one). */
  get pending(): number {
    return this.queued;
  }
}
