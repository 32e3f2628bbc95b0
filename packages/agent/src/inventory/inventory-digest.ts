import { createHash } from 'node:crypto';
import { canonicalInventoryJson, type InventoryDocument } from '@custos/shared';

/** base64url SHA-256 of the canonical JSON, so the agent and the server agree on "no change". */
export function inventoryDigest(doc: InventoryDocument): string {
  return createHash('sha256').update(canonicalInventoryJson(doc), 'utf8').digest('base64url');
}
