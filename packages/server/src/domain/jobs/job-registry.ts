/**
 * The jobs a process runs. Features register theirs when the runtime is composed (compose.ts):
 * compliance re-evaluation now, the data-lifecycle tick later; the scheduler runs whatever is here.
 */
import type { Job } from './job.js';

const JOB_NAME = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/;

export class JobRegistry {
  private readonly jobs = new Map<string, Job>();

  register(job: Job): void {
    if (!JOB_NAME.test(job.name)) throw new Error(`Job name "${job.name}" must be lower-case words joined by dots or dashes.`);
    if (this.jobs.has(job.name)) throw new Error(`A job named "${job.name}" is already registered.`);
    if (job.intervalSeconds !== undefined && !(Number.isInteger(job.intervalSeconds) && job.intervalSeconds >= 1)) {
      throw new Error(`Job "${job.name}": intervalSeconds must be a whole number of at least 1.`);
    }
    this.jobs.set(job.name, job);
  }

  /** In registration order. */
  list(): Job[] {
    return [...this.jobs.values()];
  }
}
