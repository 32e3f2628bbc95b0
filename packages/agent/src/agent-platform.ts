import type { Platform } from '@custos/shared';

/** The platforms the agent runs on; phones and tablets are managed through their own MDM protocols. */
export type AgentPlatform = Extract<Platform, 'linux' | 'macos' | 'windows'>;

const BY_NODE_PLATFORM: Partial<Record<NodeJS.Platform, AgentPlatform>> = { linux: 'linux', darwin: 'macos', win32: 'windows' };

export function agentPlatform(nodePlatform: NodeJS.Platform = process.platform): AgentPlatform | undefined {
  return BY_NODE_PLATFORM[nodePlatform];
}
