/**
 * Wake-ups for devices holding a push channel (SPEC §6: an admin action reaches an online device
 * within seconds). The process that queues a command is rarely the one holding the device's
 * socket, so wake-ups fan out across every `custos serve` process of the deployment: in-process
 * for the single-process SQLite setup, PostgreSQL LISTEN/NOTIFY when several processes share the
 * databases (docs/decisions/0002-push-channel.md).
 *
 * Delivery is best effort by design: a lost wake-up only delays the command until the device's
 * next scheduled check-in, and the command itself is durable in the queue.
 */
export type WakeupListener = (tenantId: string, deviceId: string) => void;

export interface DeviceWakeups {
  /** Asks whichever processes hold these devices' push channels to tell them to check in. */
  publish(tenantId: string, deviceIds: readonly string[]): Promise<void>;
  /** Calls `listener` for every wake-up published in the deployment; returns the unsubscribe. */
  subscribe(listener: WakeupListener): () => void;
  close(): Promise<void>;
}
