/**
 * Everything a run must undo (child processes, open stores, temporary directories, throwaway
 * databases), undone newest first whether the run succeeds, throws or is interrupted.
 */
export class Cleanup {
  private readonly steps: { label: string; run: () => Promise<void> }[] = [];
  private draining: Promise<void> | undefined;

  /** Registers `run`; the returned function runs it now (once) and forgets it. */
  defer(label: string, run: () => Promise<void>): () => Promise<void> {
    const step = { label, run };
    this.steps.push(step);
    return async () => {
      const index = this.steps.indexOf(step);
      if (index < 0) return;
      this.steps.splice(index, 1);
      await run();
    };
  }

  /**
   * Runs every registered step, newest first; a failing step is reported and the rest still run.
   * Concurrent callers (a signal arriving while the run unwinds) share one pass.
   */
  runAll(): Promise<void> {
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
    return this.draining;
  }

  private async drain(): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step.run();
      } catch (error) {
        process.stderr.write(`bench: cleanup "${step.label}" failed: ${String(error)}\n`);
      }
    }
  }
}
