/**
 * Watches the process for what a role must never cause: unhandled rejections, uncaught exceptions, and
 * process warnings (a TimeoutOverflowWarning means a timer was armed for more than 24.8 days and fires at
 * once instead).
 */

/** Something the process reported. */
export interface ProcessEvent {
  /** The event and its message. */
  readonly text: string;
}

/** Collects process events from construction until {@link ProcessWatch.stop}. */
export class ProcessWatch {
  private events: ProcessEvent[] = [];
  private readonly onRejection = (reason: unknown): void => void this.events.push({ text: `unhandledRejection: ${describe(reason)}` });
  private readonly onException = (error: unknown): void => void this.events.push({ text: `uncaughtException: ${describe(error)}` });
  private readonly onWarning = (warning: Error): void => {
    // Our own deprecation noise is not the role's doing; anything else is.
    if (warning.name === 'DeprecationWarning' || warning.name === 'ExperimentalWarning') return;
    this.events.push({ text: `warning ${describe(warning)}` });
  };

  constructor() {
    process.on('unhandledRejection', this.onRejection);
    process.on('uncaughtException', this.onException);
    process.on('warning', this.onWarning);
  }

  /** The events since the last call. */
  take(): ProcessEvent[] {
    const taken = this.events;
    this.events = [];
    return taken;
  }

  /** Stops watching. */
  stop(): void {
    process.off('unhandledRejection', this.onRejection);
    process.off('uncaughtException', this.onException);
    process.off('warning', this.onWarning);
  }
}

function describe(value: unknown): string {
  return value instanceof Error ? `${value.name}: ${value.message}\n${value.stack ?? ''}`.slice(0, 3000) : String(value);
}
